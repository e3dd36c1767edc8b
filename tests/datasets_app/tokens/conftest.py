import pytest

from datasets_app.tokens import load_encoding


@pytest.fixture(scope="session")
def cl100k(tmp_path_factory):
    return load_encoding("cl100k_base", cache_dir=tmp_path_factory.mktemp("tiktoken"))
