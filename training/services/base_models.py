"""Which base models a run may use, and where models live on disk.

The allow-list: the bundled default, the local folders registered in
``settings.FINETUNEDB_BASE_MODELS``, and a Hugging Face hub id only where the machine is online
(``HF_HUB_OFFLINE`` unset). Anything else — an arbitrary local path, a URL — is refused, so a user
cannot make the worker read files the admin did not offer. Remote code never runs (the recipe
loads safetensors only, ``trust_remote_code=False``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from django.conf import settings

from finetunedb.exceptions import ApplicationError
from training.recipe.config import BUNDLED_BASE_MODEL

HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.-]{0,95}$")
BUNDLED_LABEL = "SmolLM2-135M-Instruct (bundled, works offline)"

NOT_ALLOWED = (
    "base model {name!r} is not offered here: choose the bundled default, a folder the admin "
    "registered in FINETUNEDB_BASE_MODELS, or (when the server is online) a hub id like org/name"
)
OFFLINE_HUB = (
    "base model {name!r} looks like a hub id, but this server is offline (HF_HUB_OFFLINE); "
    "choose the bundled default or a registered local folder"
)


def models_dir() -> Path:
    return Path(settings.FINETUNEDB_MODELS_DIR)


def base_cache_dir() -> Path:
    """Where converted base models (the bundled one) are cached."""
    return models_dir() / "base"


def run_dir(run_id: int) -> Path:
    """A run's folder: ``checkpoints/`` while training, ``model/`` once saved."""
    return models_dir() / "runs" / str(int(run_id))


def model_relative_path(run_id: int) -> str:
    return f"runs/{int(run_id)}/model"


def hub_online() -> bool:
    flags = (os.environ.get("HF_HUB_OFFLINE", ""), os.environ.get("TRANSFORMERS_OFFLINE", ""))
    return not any(flag.strip().lower() in ("1", "true", "yes", "on") for flag in flags)


def registered_folders() -> list[str]:
    return [str(Path(p).expanduser().resolve()) for p in settings.FINETUNEDB_BASE_MODELS]


def base_model_choices() -> list[tuple[str, str]]:
    """(value, label) pairs for the form: the bundled default first, then registered folders."""
    return [(BUNDLED_BASE_MODEL, BUNDLED_LABEL)] + [
        (path, f"{Path(path).name} (local folder)") for path in registered_folders()
    ]


def base_model_check(name: str | None) -> str:
    """The allowed base model for ``name`` (None or "" means the bundled default), or a 400."""
    name = (name or "").strip() or BUNDLED_BASE_MODEL
    if name == BUNDLED_BASE_MODEL:
        return name
    folders = registered_folders()
    if name in folders:
        return name
    resolved = str(Path(name).expanduser().resolve()) if name.startswith(("/", "~", ".")) else ""
    if resolved and resolved in folders:
        return resolved
    # A hub id that names a folder relative to the worker's directory would load that folder.
    if HUB_ID.match(name) and not name.startswith(".") and not Path(name).exists():
        if not hub_online():
            raise _error(OFFLINE_HUB.format(name=name))
        return name
    raise _error(NOT_ALLOWED.format(name=name))


def _error(message: str) -> ApplicationError:
    return ApplicationError(message, errors=[{"path": "base_model", "message": message}])
