"""``finetunedb train --version … --wait`` and ``Client.train(...).wait()`` on the tiny model."""

from __future__ import annotations

import json

import pytest
from finetunedb_client import Client
from finetunedb_client.cli import main

from tests.factories import PASSWORD
from tests.training.conftest import (  # noqa: F401
    make_version,
    records,
    tiny_model_dir,
    tokenizer,
    training_settings,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_trains_from_the_cli_and_reads_the_model_back(
    live,
    xdg,
    dataset,
    make_version,  # noqa: F811
    training_settings,  # noqa: F811
    tiny_model_dir,  # noqa: F811
    capsys,
):
    version, _ = make_version(dataset)
    client = Client(live)
    client.login("alice", PASSWORD)
    code = main(
        [
            "train", "--version", str(version.pk), "--base-model", str(tiny_model_dir),
            "--set", "max_steps=2", "--set", "batch_size=2", "--set", "max_seq_len=64",
            "--set", "eval_interval=0", "--wait", "--json",
            "--url", live, "--token", client.transport.token,
        ]
    )  # fmt: skip
    out = capsys.readouterr()
    assert code == 0, out.err
    run = json.loads(out.out)
    assert run["status"] == "succeeded" and run["step"] == 2 and run["model"]
    model = client.get_model(run["model"])
    assert model.lineage["dataset_version"] == version.pk
    assert model.lineage["dataset_version_hash"] == version.content_hash
    again = client.get_training_run(run["id"]).wait(progress=True)
    assert again.succeeded and again.position() == (2, 2, "step")
