"""Which fine-tuned models are served as an adapter on their base, and which as whole weights."""

import pytest

from serving.selectors import _finetuned
from training.models import Method, ModelArtifact, RunStatus, TrainingRun

pytestmark = pytest.mark.django_db


def _artifact(version, *, method, manifest):
    run = TrainingRun.objects.create(
        version=version,
        dataset_version_hash=version.content_hash,
        base_model="bundled:SmolLM2-135M-Instruct",
        method=method,
        config={},
        status=RunStatus.SUCCEEDED,
    )
    return ModelArtifact.objects.create(
        run=run, path=f"runs/{run.pk}/model", weights_sha256="0" * 64, manifest=manifest
    )


def test_it_serves_a_dpo_run_with_lora_weights_as_an_adapter_on_its_base(version):
    served = _finetuned(_artifact(version, method=Method.DPO, manifest={"adapter": True}))
    assert served.base == "bundled:SmolLM2-135M-Instruct"
    assert served.adapter and served.adapter.endswith("/model/weights")


def test_it_serves_full_weights_as_their_own_model(version):
    served = _finetuned(_artifact(version, method=Method.ORPO, manifest={"adapter": False}))
    assert served.adapter is None
    assert served.base.endswith("/model/weights")


def test_it_reads_old_manifests_by_method(version):
    assert _finetuned(_artifact(version, method=Method.LORA, manifest={})).adapter
    assert _finetuned(_artifact(version, method=Method.FULL, manifest={})).adapter is None
