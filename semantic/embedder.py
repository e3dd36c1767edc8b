"""Sentence embeddings with plain transformers: mean pooling over the attention mask, L2
normalised, float16 out. No Django, no hub (``local_files_only``), no ``trust_remote_code``,
safetensors weights only.

Speed: texts are tokenized once, then batched in order of token length, so a batch pads to its
own longest text rather than to the longest of a random mix (bench/semantic.py measures it
against the unsorted loop); the rows come back in the caller's order.

>>> e = Embedder.load(folder)                       # doctest: +SKIP
>>> e.embed(["refund my order", "cancel the order"]).shape   # doctest: +SKIP
(2, 384)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .bundled import EmbeddingModelError, verify_weights

DEFAULT_MAX_TOKENS = 256
DEFAULT_BATCH = 64
ERR_NO_SAFETENSORS = "embedding model folder {path} has no model.safetensors; only safetensors load"
ERR_LOAD = "could not load the embedding model in {path}: {reason}"


def _max_tokens(folder: Path, tokenizer) -> int:
    # sentence-transformers folders say how long a text they were trained on
    config = folder / "sentence_bert_config.json"
    limit = DEFAULT_MAX_TOKENS
    if config.is_file():
        try:
            limit = int(json.loads(config.read_text()).get("max_seq_length", limit))
        except (ValueError, TypeError, AttributeError):
            pass
    model_max = getattr(tokenizer, "model_max_length", limit) or limit
    return max(8, min(limit, int(model_max)))


@dataclass
class Embedder:
    """A loaded embedding model; :meth:`embed` turns texts into unit float16 rows."""

    model: object
    tokenizer: object
    max_tokens: int
    device: str
    dimension: int

    @classmethod
    def load(
        cls, folder: str | Path, *, sha256: str | None = None, device: str | None = None
    ) -> Embedder:
        """Load ``folder`` (a Hugging Face / sentence-transformers folder with safetensors).
        ``sha256``: the weights must hash to it (the bundled model pins it)."""
        import torch
        from transformers import AutoModel, AutoTokenizer

        path = Path(folder)
        if not (path / "model.safetensors").is_file():
            raise EmbeddingModelError(ERR_NO_SAFETENSORS.format(path=path))
        if sha256:
            verify_weights(path, sha256)
        if device is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
        try:
            tokenizer = AutoTokenizer.from_pretrained(
                path, local_files_only=True, trust_remote_code=False
            )
            model = AutoModel.from_pretrained(
                path, local_files_only=True, trust_remote_code=False, use_safetensors=True
            )
        except (OSError, ValueError) as exc:
            raise EmbeddingModelError(ERR_LOAD.format(path=path, reason=exc)) from exc
        model.eval().to(device)
        return cls(
            model=model,
            tokenizer=tokenizer,
            max_tokens=_max_tokens(path, tokenizer),
            device=device,
            dimension=int(model.config.hidden_size),
        )

    def embed(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = DEFAULT_BATCH,
        progress: Callable[[int], object] | None = None,
    ) -> np.ndarray:
        """``len(texts) × dimension`` float16, each row of unit length, in ``texts``' order.
        ``progress(done)`` is called after each batch with the number of texts embedded."""
        import torch

        out = np.zeros((len(texts), self.dimension), dtype=np.float16)
        if not texts:
            return out
        encoded = self.tokenizer(
            list(texts), truncation=True, max_length=self.max_tokens, padding=False
        )["input_ids"]
        order = np.argsort([len(ids) for ids in encoded], kind="stable")
        done = 0
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                rows = order[start : start + batch_size]
                batch = self.tokenizer.pad(
                    {"input_ids": [encoded[i] for i in rows]}, return_tensors="pt"
                )
                out[rows] = self._pool(batch).astype(np.float16)
                done += len(rows)
                if progress is not None:
                    progress(done)
        return out

    def _pool(self, batch) -> np.ndarray:
        import torch

        ids = batch["input_ids"].to(self.device)
        mask = batch["attention_mask"].to(self.device)
        hidden = self.model(input_ids=ids, attention_mask=mask).last_hidden_state
        weights = mask.unsqueeze(-1).to(hidden.dtype)
        summed = (hidden * weights).sum(dim=1)
        mean = summed / weights.sum(dim=1).clamp(min=1e-9)
        unit = torch.nn.functional.normalize(mean.float(), p=2, dim=1)
        return unit.cpu().numpy()
