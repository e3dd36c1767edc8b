"""semantic/resolver.py, the rule the web app and the serving engine share: a name is the bundled
model or a registered folder, compared after normalising; anything else is refused with the
message the API shows; the bundled model's folder comes with its pinned sha256."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from semantic.bundled import BUNDLED_EMBEDDING_MODEL, COMPLETE_MARKER, WEIGHTS_SHA256
from semantic.resolver import (
    UnknownEmbeddingModel,
    embedding_model_folder,
    embedding_model_resolve,
    embedding_models_offered,
)

folders = st.lists(
    st.from_regex(r"/[a-z]{1,8}(/[a-z0-9_.-]{1,8}){0,3}/?", fullmatch=True), max_size=5
)


@given(folders)
def test_it_offers_the_bundled_model_first_and_each_folder_once(registered):
    offered = embedding_models_offered(registered)
    assert offered[0] == BUNDLED_EMBEDDING_MODEL
    assert len(offered) == len(set(offered))
    assert set(offered[1:]) == {str(Path(p)) for p in registered}


@given(folders, st.data())
def test_it_resolves_every_registered_folder_however_it_is_spelt(registered, data):
    if not registered:
        return
    folder = data.draw(st.sampled_from(registered))
    assert embedding_model_resolve(folder + "/", registered=registered) == str(Path(folder))


@given(folders, st.from_regex(r"/elsewhere/[a-z]{1,8}", fullmatch=True))
def test_it_refuses_any_other_folder_naming_it(registered, other):
    with pytest.raises(UnknownEmbeddingModel, match="FINETUNEDB_EMBEDDING_MODELS") as caught:
        embedding_model_resolve(other, registered=registered)
    assert other in str(caught.value)


def test_it_defaults_to_the_bundled_model():
    assert embedding_model_resolve(None, registered=[]) == BUNDLED_EMBEDDING_MODEL
    assert embedding_model_resolve("", registered=["/srv/e5"]) == BUNDLED_EMBEDDING_MODEL


def test_it_finds_the_bundled_folder_under_the_models_dir_with_its_pin(tmp_path):
    extracted = tmp_path / "embeddings" / BUNDLED_EMBEDDING_MODEL
    extracted.mkdir(parents=True)
    (extracted / COMPLETE_MARKER).write_text("extracted\n")
    assert embedding_model_folder(BUNDLED_EMBEDDING_MODEL, models_dir=tmp_path, registered=[]) == (
        extracted,
        WEIGHTS_SHA256,
    )
    assert embedding_model_folder("/srv/e5", models_dir=tmp_path, registered=["/srv/e5"]) == (
        Path("/srv/e5"),
        None,
    )
