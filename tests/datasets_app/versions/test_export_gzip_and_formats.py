"""Issue 16.10a-b: a version export honours gzip=1 as the working copy's does (it already did
after the export pipeline merge; this pins it), and an unknown format answers with the list of
valid names, on both export routes."""

import gzip

import orjson
import pytest

from datasets_app.formats import EXPORT_FORMATS

from .conftest import chat


def _body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def version(dataset, owner, make_example, freeze):
    make_example(dataset, owner, chat("hello", "hi"), split="train")
    make_example(dataset, owner, chat("bye", "ciao"), split="test")
    return freeze(dataset, name="v1")


def test_a_version_export_with_gzip_1_is_the_same_file_compressed(version, owner, api_for):
    api = api_for(owner)
    plain = api.get(f"/api/v1/versions/{version.pk}/export/?format=openai")
    packed = api.get(f"/api/v1/versions/{version.pk}/export/?format=openai&gzip=1")
    assert packed.status_code == 200 and packed["Content-Type"] == "application/gzip"
    assert packed["Content-Disposition"].endswith('.jsonl.gz"')
    data = gzip.decompress(_body(packed))
    assert data == _body(plain)
    assert [orjson.loads(line)["messages"][0]["content"] for line in data.splitlines()] == [
        "hello",
        "bye",
    ]
    working = api.get(f"/api/v1/datasets/{version.dataset_id}/export/?format=openai&gzip=1")
    assert working["Content-Type"] == "application/gzip"


@pytest.mark.parametrize("route", ["versions/{version}", "datasets/{dataset}"])
def test_an_unknown_export_format_lists_the_valid_names(version, owner, api_for, route):
    url = "/api/v1/" + route.format(version=version.pk, dataset=version.dataset_id)
    response = api_for(owner).get(f"{url}/export/?format=chatml")
    assert response.status_code == 400
    body = response.json()
    assert "'chatml'" in body["detail"]
    assert ", ".join(EXPORT_FORMATS) in body["detail"]
    assert body["errors"][0]["path"] == "format"
    assert ", ".join(EXPORT_FORMATS) in body["errors"][0]["message"]
