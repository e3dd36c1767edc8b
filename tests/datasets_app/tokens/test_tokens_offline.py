import hashlib
import socket

import pytest
import tiktoken
import tiktoken.registry

from datasets_app.tokens import offline
from datasets_app.tokens.offline import cache_key, install_encoding_files, load_encoding

URL = "https://openaipublic.blob.core.windows.net/encodings/{}.tiktoken"


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    import requests

    monkeypatch.setattr(requests, "get", refuse)
    # tiktoken memoizes loaded encodings per process; forget them so the load really happens
    monkeypatch.setattr(tiktoken.registry, "ENCODINGS", {})


def test_it_names_cache_files_like_tiktoken():
    assert cache_key("cl100k_base") == hashlib.sha1(URL.format("cl100k_base").encode()).hexdigest()


def test_it_installs_verified_files(tmp_path):
    install_encoding_files(tmp_path)
    for name, expected in offline._SHA256.items():
        data = (tmp_path / cache_key(name)).read_bytes()
        assert hashlib.sha256(data).hexdigest() == expected


@pytest.mark.parametrize("name", ["cl100k_base", "o200k_base"])
def test_it_loads_encodings_with_the_network_blocked(tmp_path, no_network, monkeypatch, name):
    monkeypatch.delenv("TIKTOKEN_CACHE_DIR", raising=False)
    enc = load_encoding(name, cache_dir=tmp_path / "cache")
    assert enc.name == name
    assert enc.decode(enc.encode_ordinary("hello world")) == "hello world"
    if name == "cl100k_base":
        assert enc.encode_ordinary("hello world") == [15339, 1917]
    assert tiktoken.get_encoding(name) is enc


def test_it_replaces_a_tampered_cache_file(tmp_path):
    install_encoding_files(tmp_path, names=("cl100k_base",))
    target = tmp_path / cache_key("cl100k_base")
    target.write_bytes(b"tampered")
    install_encoding_files(tmp_path, names=("cl100k_base",))
    assert hashlib.sha256(target.read_bytes()).hexdigest() == offline._SHA256["cl100k_base"]


def test_it_refuses_a_shipped_file_with_the_wrong_hash(tmp_path, monkeypatch):
    monkeypatch.setitem(offline._SHA256, "cl100k_base", "0" * 64)
    with pytest.raises(ValueError, match="expected 0000"):
        install_encoding_files(tmp_path / "c", names=("cl100k_base",))
    assert not (tmp_path / "c" / cache_key("cl100k_base")).exists()


def test_it_rejects_unknown_encodings(tmp_path):
    with pytest.raises(ValueError, match="unknown token encoding"):
        load_encoding("gpt2", cache_dir=tmp_path)
