"""The rows decoding together on one model: one left-padded KV cache (transformers'
``DynamicCache``), its attention mask, and each row's next position.

Rows come and go between steps (continuous batching): :meth:`KVBatch.add` prefills new prompts
as a batch of their own and joins their cache to the running one, left-padding the narrower
side; :meth:`KVBatch.keep` drops finished rows and the left columns no remaining row uses. A
padded column is masked out and each row's positions count its own tokens only, so a row's
logits are the ones it would get decoding alone. On a peft model each row also names its LoRA
adapter (``"__base__"``: none), passed to every forward as peft's ``adapter_names``, so rows of
different adapters of one base decode in the same forward.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812 - torch's own convention
from peft import PeftModel
from transformers.cache_utils import DynamicCache, DynamicLayer

from .models import BASE_ROW


class KVBatch:
    def __init__(self, model, *, pad_id: int):
        self.model = model
        self.device = next(model.parameters()).device
        self.pad_id = pad_id
        self.cache: DynamicCache | None = None
        self.mask: torch.Tensor | None = None  # [rows, columns], 1 where a row has a token
        self.adapters: list[str] = []  # each row's peft adapter name, "__base__" for none

    @property
    def size(self) -> int:
        return 0 if self.mask is None else int(self.mask.shape[0])

    @property
    def joinable(self) -> bool:
        """Whether new rows can join mid-batch: only plain full-attention cache layers can be
        padded and concatenated (a sliding-window layer keeps a rolling buffer)."""
        return self.cache is None or all(type(layer) is DynamicLayer for layer in self.cache.layers)

    def _lora(self, names: list[str]) -> dict:
        # A peft model without adapter_names would run its "active" adapter on every row.
        return {"adapter_names": names} if isinstance(self.model, PeftModel) else {}

    def add(self, prompts: list[list[int]], adapters: list[str] | None = None) -> torch.Tensor:
        """Prefill ``prompts`` (appended as the last rows, with peft adapter names ``adapters``,
        default the bare base) and return each one's next-token logits, ``[len(prompts),
        vocab]`` on the CPU."""
        names = list(adapters) if adapters is not None else [BASE_ROW] * len(prompts)
        width = max(len(p) for p in prompts)
        ids = torch.full((len(prompts), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(prompts), width), dtype=torch.long)
        for row, prompt in enumerate(prompts):
            ids[row, width - len(prompt) :] = torch.tensor(prompt)
            mask[row, width - len(prompt) :] = 1
        ids, mask = ids.to(self.device), mask.to(self.device)
        out = self.model(
            input_ids=ids,
            attention_mask=mask,
            position_ids=(mask.cumsum(-1) - 1).clamp(min=0),
            past_key_values=DynamicCache(),
            use_cache=True,
            # Only the last position's logits: projecting every prompt token onto the
            # vocabulary would be most of a small model's prefill time.
            logits_to_keep=1,
            **self._lora(names),
        )
        self._join(out.past_key_values, mask)
        self.adapters += names
        return out.logits[:, -1, :].float().cpu()

    def step(self, tokens: list[int]) -> torch.Tensor:
        """Feed each row its last chosen token; the next-token logits ``[rows, vocab]``."""
        positions = self.mask.sum(-1, keepdim=True)  # each row's own count of tokens so far
        self.mask = torch.cat([self.mask, torch.ones_like(self.mask[:, :1])], 1)
        out = self.model(
            input_ids=torch.tensor(tokens, dtype=torch.long, device=self.device)[:, None],
            attention_mask=self.mask,
            position_ids=positions,
            past_key_values=self.cache,
            use_cache=True,
            logits_to_keep=1,
            **self._lora(self.adapters),
        )
        self.cache = out.past_key_values
        return out.logits[:, -1, :].float().cpu()

    def keep(self, rows: list[int]) -> None:
        """Keep only ``rows`` (in that order); trim the columns left padding only."""
        if not rows:
            self.cache = self.mask = None
            self.adapters = []
            return
        if rows == list(range(self.size)):
            return
        self.adapters = [self.adapters[i] for i in rows]
        index = torch.tensor(rows, dtype=torch.long, device=self.device)
        self.cache.batch_select_indices(index)
        self.mask = self.mask[index]
        first = int(torch.nonzero(self.mask.any(0))[0])
        if first and self.joinable:
            self.cache = DynamicCache(
                ddp_cache_data=[
                    (layer.keys[..., first:, :], layer.values[..., first:, :])
                    for layer in self.cache.layers
                ]
            )
            self.mask = self.mask[:, first:]

    def _join(self, cache: DynamicCache, mask: torch.Tensor) -> None:
        if self.cache is None:
            self.cache, self.mask = cache, mask
            return
        width = max(self.mask.shape[1], mask.shape[1])

        def left(t: torch.Tensor) -> torch.Tensor:  # [rows, heads, columns, dim] -> width columns
            return F.pad(t, (0, 0, width - t.shape[-2], 0))

        self.cache = DynamicCache(
            ddp_cache_data=[
                (
                    torch.cat([left(old.keys), left(new.keys)], 0),
                    torch.cat([left(old.values), left(new.values)], 0),
                )
                for old, new in zip(self.cache.layers, cache.layers, strict=True)
            ]
        )
        self.mask = torch.cat(
            [
                F.pad(self.mask, (width - self.mask.shape[1], 0)),
                F.pad(mask, (width - mask.shape[1], 0)),
            ],
            0,
        )
