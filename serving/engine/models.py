"""Loaded models: each base once, its LoRA adapters on demand with peft's multi-adapter API, and
at most ``max_adapters`` adapters per base (the least recently used one that no running row
uses is unloaded first). Rows of one batch name their own adapter (peft's mixed-batch
``adapter_names``), so the adapters stay loaded side by side and none is ever "active".

On a machine of its own (docs/deployment.md, "Storage") the engine has no training worker's
models folder: a request names the fine-tune's published folder (``store``: its key in the
object store and the folder the app names it by), and when that folder is not on this disk the
engine fetches it from the store the environment names (STORAGE_URL / AWS_*) into its own cache
under the models folder, checked against the manifest (finetunedb/storage_fetch.py)."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from finetunedb import storage_fetch
from training.recipe.base_models import load_model, load_tokenizer, resolve_base_model
from training.recipe.config import BUNDLED_BASE_MODEL

ERR_BASE_NOT_ALLOWED = "base model {name!r} is not served by this engine"
ERR_ADAPTER_OUTSIDE = "adapter folder {path} is not under the engine's models folder"
ERR_ADAPTER_MISSING = "adapter folder {path} has no adapter_config.json"
ERR_ADAPTER_DORA = (
    "adapter folder {path} is a DoRA adapter; the engine batches adapters together, which peft "
    "does not support for DoRA: serve it merged as a full model"
)
ERR_TOO_MANY = "a batch asked for {n} adapters at once; at most {max} are loaded per base"
ERR_MAX_ADAPTERS = "max_adapters must be at least 1 (the adapters loaded per base at once)"
ERR_BAD_STORE = (
    "store {store!r}: expected {{key: teams/<id>/models/run-<id>, folder: runs/<id>/model}}"
)
ERR_STORE_FETCH = "could not fetch {key} from the object store: {reason}"
# The published model folders the app names (training/services/model_store.py).
STORE_KEY = re.compile(r"^teams/\d{1,19}/models/run-\d{1,19}$")
STORE_FOLDER = re.compile(r"^runs/\d{1,19}/model$")
DEFAULT_CACHE_BYTES = 50 * 1024**3
# peft's name for "no adapter" in a mixed batch (``adapter_names``).
BASE_ROW = "__base__"


class ModelRefused(ValueError):
    """A base or adapter the engine was not started to serve."""


@dataclass
class LoadedBase:
    name: str
    model: object
    tokenizer: object
    context: int
    adapters: OrderedDict = field(default_factory=OrderedDict)  # name -> folder, oldest first
    peft: bool = False


class ModelStore:
    """Owned by the engine's one decode thread; ``tokenizer_for`` may be called from any thread."""

    def __init__(
        self,
        *,
        models_dir,
        allowed_bases,
        max_adapters: int = 4,
        device: str = "cpu",
        open_key: storage_fetch.Opener | None = None,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
    ):
        self.models_dir = Path(models_dir).resolve()
        # None: no object store (the folder is the store, as beside the training worker)
        self.open_key = open_key
        self.cache_bytes = cache_bytes
        self.allowed = {BUNDLED_BASE_MODEL} | {str(Path(p).resolve()) for p in allowed_bases}
        if max_adapters < 1:
            raise ValueError(ERR_MAX_ADAPTERS)
        self.max_adapters = max_adapters
        self.device = device
        self.bases: dict[str, LoadedBase] = {}
        self.lock = threading.Lock()
        self.adapter_loads = 0
        self.adapter_evictions = 0
        self.last_adapter_load_s = 0.0

    def check(
        self, base: str, adapter: str | None, store: dict | None = None
    ) -> tuple[str, str | None]:
        """The canonical (base, adapter folder) or :class:`ModelRefused`; a folder under
        ``store["folder"]`` that is not on this disk comes from the object store."""
        published = None if store is None else self._store_folder(store)
        if base != BUNDLED_BASE_MODEL:
            # An allowed base folder as configured, else a full fine-tune's weights folder under
            # the models folder: the app names those relative to it, so a web process whose own
            # models folder is elsewhere (another machine) names this engine's copy.
            named = str(Path(base).resolve())
            base = named if named in self.allowed else str(self._under_models(base, published))
            if base not in self.allowed and not Path(base).is_relative_to(self.models_dir):
                raise ModelRefused(ERR_BASE_NOT_ALLOWED.format(name=base))
        if adapter is not None:
            folder = self._under_models(adapter, published)
            if not folder.is_relative_to(self.models_dir):
                raise ModelRefused(ERR_ADAPTER_OUTSIDE.format(path=folder))
            config = folder / "adapter_config.json"
            if not config.is_file():
                raise ModelRefused(ERR_ADAPTER_MISSING.format(path=folder))
            if _uses_dora(config):
                raise ModelRefused(ERR_ADAPTER_DORA.format(path=folder))
            adapter = str(folder)
        return base, adapter

    def _under_models(self, path: str, published: tuple[Path, str] | None = None) -> Path:
        """``path`` resolved against the models folder (an absolute path stays as it is), or
        its copy fetched from the store when it lies in the request's published folder and is
        not here."""
        local = (self.models_dir / path).resolve()
        if published is None or local.exists():
            return local
        folder, key = published
        if not local.is_relative_to(folder):
            return local
        try:
            fetched = storage_fetch.folder_fetch(
                open_key=self.open_key,
                key=key,
                cache_dir=self.models_dir / "cache",
                budget_bytes=self.cache_bytes,
            )
        except (OSError, ValueError) as exc:
            raise ModelRefused(ERR_STORE_FETCH.format(key=key, reason=exc)) from exc
        return (fetched / local.relative_to(folder)).resolve()

    def _store_folder(self, store) -> tuple[Path, str] | None:
        """(the local folder the app names, the store key) of a request's ``store``; None when
        this engine reads no object store."""
        if not isinstance(store, dict) or not (
            STORE_KEY.match(str(store.get("key", "")))
            and STORE_FOLDER.match(str(store.get("folder", "")))
        ):
            raise ModelRefused(ERR_BAD_STORE.format(store=store))
        if self.open_key is None:
            return None
        return (self.models_dir / store["folder"]).resolve(), store["key"]

    def base(self, name: str) -> LoadedBase:
        with self.lock:
            loaded = self.bases.get(name)
            if loaded is None:
                path = resolve_base_model(name, self.models_dir / "base")
                model = load_model(path, device=self.device).eval()
                tokenizer = load_tokenizer(path)
                context = int(getattr(model.config, "max_position_embeddings", 2048) or 2048)
                loaded = self.bases[name] = LoadedBase(name, model, tokenizer, context)
            return loaded

    def adapter_names(self, loaded: LoadedBase, folders: list, *, keep: set) -> list[str]:
        """peft's name for each of ``folders`` (``"__base__"`` for None, the bare base), loading
        the adapters not loaded yet; the adapters named in ``keep`` (the running rows') and
        ``folders`` are the most recently used, and the least recently used others are unloaded
        past ``max_adapters``. The scheduler's admission never asks for more than that bound at
        once (:func:`.admission.admit`); asking is a bug, refused before anything loads."""
        names = [BASE_ROW if f is None else _adapter_name(f) for f in folders]
        needed = ({n for n in names if n != BASE_ROW}) | (keep - {BASE_ROW})
        if len(needed) > self.max_adapters:
            raise RuntimeError(ERR_TOO_MANY.format(n=len(needed), max=self.max_adapters))
        for folder, name in zip(folders, names, strict=True):
            if folder is None or name in loaded.adapters:
                continue
            started = time.perf_counter()
            if not loaded.peft:
                from peft import PeftModel

                loaded.model = PeftModel.from_pretrained(
                    loaded.model, folder, adapter_name=name, is_trainable=False
                ).eval()
                loaded.peft = True
            else:
                loaded.model.load_adapter(folder, adapter_name=name, is_trainable=False)
            loaded.adapters[name] = folder
            self.adapter_loads += 1
            self.last_adapter_load_s = time.perf_counter() - started
        for name in [*sorted(keep - {BASE_ROW}), *names]:  # the new rows' the most recent
            if name != BASE_ROW:
                loaded.adapters.move_to_end(name)
        # Loaded before the eviction (peft keeps at least one adapter on a PeftModel): one
        # adapter over the bound for the length of a load, never in a batch.
        while len(loaded.adapters) > self.max_adapters:
            oldest, _ = loaded.adapters.popitem(last=False)
            loaded.model.delete_adapter(oldest)
            self.adapter_evictions += 1
        return names

    def loaded_summary(self) -> dict:
        return {name: list(b.adapters.values()) for name, b in self.bases.items()}


def store_opener_from_environ(environ=os.environ) -> tuple[storage_fetch.Opener | None, int]:
    """The object store the environment names (None: the local folder) and the fetch cache's
    budget in bytes (FINETUNEDB_FETCH_CACHE_BYTES, the app's setting of the same name)."""
    budget = int(environ.get("FINETUNEDB_FETCH_CACHE_BYTES") or DEFAULT_CACHE_BYTES)
    return storage_fetch.opener_from_environ(environ), budget


def _uses_dora(config: Path) -> bool:
    try:
        return bool(json.loads(config.read_text()).get("use_dora"))
    except (OSError, ValueError, AttributeError):
        return False  # peft's own load reports a broken config, with its reason


def _adapter_name(folder: str) -> str:
    # peft adapter names become module attribute names: no dots or slashes.
    return "a_" + "".join(c if c.isalnum() else "_" for c in folder)[-120:]
