"""The scheduler's torch backend: a batch on one loaded base whose rows each bring their own
LoRA adapter folder (or None, the bare base), loaded into the base's LRU as rows arrive."""

from __future__ import annotations

import contextlib

import torch

from .kvbatch import KVBatch
from .models import LoadedBase, ModelStore


class AdapterBatch(KVBatch):
    """A :class:`KVBatch` that takes adapter folders: :meth:`add` loads what its new rows need
    (keeping the running rows' adapters loaded) and runs the base, now perhaps a peft model."""

    def __init__(self, store: ModelStore, loaded: LoadedBase, *, pad_id: int):
        super().__init__(loaded.model, pad_id=pad_id)
        self.store, self.loaded = store, loaded

    def add(self, prompts: list[list[int]], adapters: list[str | None] | None = None):
        folders = list(adapters) if adapters is not None else [None] * len(prompts)
        names = self.store.adapter_names(self.loaded, folders, keep=set(self.adapters))
        # The first adapter wraps the base in a PeftModel; the running rows' cache stays valid
        # (their "__base__" rows and the adapters already there compute as before).
        self.model = self.loaded.model
        return super().add(prompts, names)


class TorchBackend:
    """Opens a batch on a loaded base for as long as the batch runs."""

    def __init__(self, store: ModelStore):
        self.store = store

    @property
    def adapter_slots(self) -> int:
        return self.store.max_adapters

    @contextlib.contextmanager
    def open(self, base: str):
        loaded = self.store.base(base)
        tokenizer = loaded.tokenizer
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        with torch.no_grad():
            yield (
                AdapterBatch(self.store, loaded, pad_id=pad),
                tokenizer,
                eos_ids(loaded.model, tokenizer),
            )


def eos_ids(model, tokenizer) -> set[int]:
    ids = set()
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    for value in (configured, tokenizer.eos_token_id):
        if isinstance(value, int):
            ids.add(value)
        elif value:
            ids.update(value)
    return ids
