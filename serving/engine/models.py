"""Loaded models: each base once, its LoRA adapters on demand with peft's multi-adapter API, and
at most ``max_adapters`` adapters per base (the least recently used is unloaded first)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from training.recipe.base_models import load_model, load_tokenizer, resolve_base_model
from training.recipe.config import BUNDLED_BASE_MODEL

ERR_BASE_NOT_ALLOWED = "base model {name!r} is not served by this engine"
ERR_ADAPTER_OUTSIDE = "adapter folder {path} is not under the engine's models folder"
ERR_ADAPTER_MISSING = "adapter folder {path} has no adapter_config.json"


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

    def __init__(self, *, models_dir, allowed_bases, max_adapters: int = 4, device: str = "cpu"):
        self.models_dir = Path(models_dir).resolve()
        self.allowed = {BUNDLED_BASE_MODEL} | {str(Path(p).resolve()) for p in allowed_bases}
        self.max_adapters = max_adapters
        self.device = device
        self.bases: dict[str, LoadedBase] = {}
        self.lock = threading.Lock()
        self.adapter_loads = 0
        self.adapter_evictions = 0
        self.last_adapter_load_s = 0.0

    def check(self, base: str, adapter: str | None) -> tuple[str, str | None]:
        """The canonical (base, adapter folder) or :class:`ModelRefused`."""
        if base != BUNDLED_BASE_MODEL:
            base = str(Path(base).resolve())
            # A full fine-tune's weights folder under the models folder serves as a base too.
            if base not in self.allowed and not Path(base).is_relative_to(self.models_dir):
                raise ModelRefused(ERR_BASE_NOT_ALLOWED.format(name=base))
        if adapter is not None:
            folder = Path(adapter).resolve()
            if not folder.is_relative_to(self.models_dir):
                raise ModelRefused(ERR_ADAPTER_OUTSIDE.format(path=folder))
            if not (folder / "adapter_config.json").is_file():
                raise ModelRefused(ERR_ADAPTER_MISSING.format(path=folder))
            adapter = str(folder)
        return base, adapter

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

    def activate(self, loaded: LoadedBase, adapter: str | None):
        """The module to run for ``adapter`` on ``loaded`` (None: the plain base), loading the
        adapter if needed; the caller runs it under :meth:`plain` when ``adapter`` is None."""
        if adapter is None:
            return loaded.model
        key = _adapter_name(adapter)
        if key in loaded.adapters:
            loaded.adapters.move_to_end(key)
        else:
            started = time.perf_counter()
            if not loaded.peft:
                from peft import PeftModel

                loaded.model = PeftModel.from_pretrained(
                    loaded.model, adapter, adapter_name=key, is_trainable=False
                ).eval()
                loaded.peft = True
            else:
                loaded.model.load_adapter(adapter, adapter_name=key, is_trainable=False)
            loaded.adapters[key] = adapter
            self.adapter_loads += 1
            self.last_adapter_load_s = time.perf_counter() - started
        loaded.model.set_adapter(key)
        while len(loaded.adapters) > self.max_adapters:
            oldest, _ = loaded.adapters.popitem(last=False)
            loaded.model.delete_adapter(oldest)
            self.adapter_evictions += 1
        return loaded.model

    def loaded_summary(self) -> dict:
        return {name: list(b.adapters.values()) for name, b in self.bases.items()}


def _adapter_name(folder: str) -> str:
    # peft adapter names become module attribute names: no dots or slashes.
    return "a_" + "".join(c if c.isalnum() else "_" for c in folder)[-120:]
