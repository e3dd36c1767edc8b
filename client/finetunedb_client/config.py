"""Where the client finds its server and token: arguments, then the environment
(``FINETUNEDB_URL``, ``FINETUNEDB_TOKEN``), then the file ``finetunedb login`` wrote
(``$XDG_CONFIG_HOME/finetunedb/config.json``, by default ``~/.config/finetunedb/config.json``,
mode 0600 in a 0700 folder: it holds a secret)."""

from __future__ import annotations

import json
import os
from pathlib import Path

DEFAULT_URL = "http://127.0.0.1:8000"
URL_ENV = "FINETUNEDB_URL"
TOKEN_ENV = "FINETUNEDB_TOKEN"


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "finetunedb" / "config.json"


def config_load() -> dict:
    path = config_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def config_save(*, url: str, token: str, username: str | None = None) -> Path:
    """Write the file with mode 0600 from the start (never readable by others, even briefly)."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump({"url": url, "token": token, "username": username}, out, indent=2)
        out.write("\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def config_remove() -> bool:
    try:
        config_path().unlink()
    except FileNotFoundError:
        return False
    return True


def resolve(url: str | None = None, token: str | None = None) -> tuple[str, str | None]:
    """(url, token) by precedence: given, environment, config file, default URL."""
    saved = config_load()
    url = url or os.environ.get(URL_ENV) or saved.get("url") or DEFAULT_URL
    token = token or os.environ.get(TOKEN_ENV) or saved.get("token") or None
    return url, token
