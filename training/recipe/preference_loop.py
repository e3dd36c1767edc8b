"""DPO and ORPO as a training recipe: the SFT recipe's loop, with pairs in and a pair loss.

    recipe = make_recipe(config, out_dir=run_dir, models_dir=cache, reporter=reporter)
    recipe.setup(train_records, validation_records)   # records carry ``rejected``
    recipe.train(); recipe.save(lineage=...)

``setup`` encodes pairs (:func:`~training.recipe.preference.encode_pairs`) instead of examples;
one batch of ``batch_size`` pairs is one forward over ``2 × batch_size`` rows (chosen then
rejected). DPO's reference log-probabilities come from one more forward without gradients:
through the same model with the LoRA adapter switched off (peft's ``disable_adapter()``: no
second copy in memory), or through a frozen copy of the base for full fine-tuning. ORPO needs no
reference. Checkpoints, cancellation, schedules and saving are the SFT recipe's own.

Under ``torchrun`` (DDP) each process trains on its share of the step's batches, as SFT does: the
loss of each rank is its pairs' sum scaled by ``world_size / pairs in the step`` (DDP averages the
ranks' gradients, so the step's gradient is that of one mean over all its pairs, whatever the
split), and the step's loss and reward figures are sums reduced over the ranks before dividing.
The policy forward goes through the DDP wrapper (its backward syncs the gradients); the reference
forward goes through the wrapped model itself, under ``no_grad`` and ``disable_adapter()``: it
builds no graph, so DDP's reducer never sees it, and the adapter is back on before the backward.
Validation pairs are scored by rank 0 alone, through the unwrapped model (a forward through the
wrapper would wait for the other ranks' buffer broadcast).

``start_from`` (a saved model folder: an SFT model of the same base) chains SFT → DPO: its LoRA
adapter is merged into the base and this run trains a new adapter on the merged weights. Merged,
not continued: the reference — the same model with the new adapter disabled — is then the SFT
model, as DPO prescribes (the policy starts equal to its reference), at the cost of one forward;
continuing the SFT adapter would leave the raw base as the reference. The saved manifest's
lineage names the folder (``start_from``, relative to the new model's folder), so loading the
new model merges the same parent first (:func:`training.recipe.evaluate.load_finetuned`).
"""

from __future__ import annotations

import copy
import os
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import torch

from .batching import steps_per_epoch
from .config import TrainConfig
from .loop import ERR_NO_TRAINING_DATA, TrainingRecipe
from .preference import (
    PairSet,
    collate_pairs,
    dpo_loss,
    encode_pairs,
    orpo_loss,
    reward_metrics,
    sequence_logps,
)
from .runtime import memory_mb

ERR_START_FROM_SFT = "start_from applies to dpo and orpo: an SFT run starts from its base model"


def make_recipe(config: TrainConfig, *, start_from=None, **kwargs) -> TrainingRecipe:
    """The recipe for ``config.method``: :class:`PreferenceRecipe` for dpo/orpo, else SFT.
    ``start_from``: a saved model folder a preference run starts from (SFT → DPO)."""
    if config.is_preference:
        return PreferenceRecipe(config, start_from=start_from, **kwargs)
    if start_from is not None:
        raise ValueError(ERR_START_FROM_SFT)
    return TrainingRecipe(config, **kwargs)


def pair_plan(pairs: PairSet, config: TrainConfig, *, world_size: int = 1) -> dict[str, Any]:
    """Pre-flight figures of a preference run: pairs, tokens (both sides), steps, dropped pairs;
    steps count ``world_size`` processes each taking its share of the batches."""
    per_epoch = steps_per_epoch(
        len(pairs.pairs),
        batch_size=config.batch_size,
        grad_accum=config.gradient_accumulation_steps,
        world_size=world_size,
    )
    total = per_epoch * config.epochs
    if config.max_steps:
        total = min(total, config.max_steps)
    sides = [ex for p in pairs.pairs for ex in (p.chosen, p.rejected)]
    return {
        "pairs": len(pairs.pairs),
        "examples": len(pairs.pairs),
        "sequences": len(sides),
        "tokens": sum(len(ex.input_ids) for ex in sides),
        "training_tokens": sum(ex.trained_tokens for ex in sides),
        "longest": max((len(ex.input_ids) for ex in sides), default=0),
        "steps_per_epoch": per_epoch,
        "total_steps": total,
        "dropped": list(pairs.dropped),
        "truncated": list(pairs.truncated),
    }


class PreferenceRecipe(TrainingRecipe):
    """DPO or ORPO over preference records; ``train`` and ``save`` are the SFT recipe's."""

    def __init__(self, config: TrainConfig, *, start_from=None, **kwargs):
        """As the SFT recipe; ``start_from`` is a saved model folder to start from, or None."""
        super().__init__(config, **kwargs)
        self.start_from = Path(start_from) if start_from is not None else None

    def _load_base(self):
        if self.start_from is None:
            return super()._load_base()
        from .evaluate import load_finetuned

        parent, _ = load_finetuned(self.start_from, models_dir=self.models_dir, device=self.device)
        if hasattr(parent, "merge_and_unload"):
            parent = parent.merge_and_unload()
        return parent.requires_grad_(True)  # full weights train these; LoRA freezes them again

    def save(self, *, lineage: dict | None = None, **kwargs) -> dict:
        """The SFT recipe's save; a chained run's lineage names the folder it started from."""
        if self.start_from is not None:
            relative = os.path.relpath(self.start_from, self.out_dir / "model")
            lineage = {**(lineage or {}), "start_from": relative}
        return super().save(lineage=lineage, **kwargs)

    def _rows(self, train_records, validation_records):
        cfg = self.config
        encoded = encode_pairs(
            train_records, self.tokenizer, max_seq_len=cfg.max_seq_len, overlength=cfg.overlength
        )
        if not encoded.pairs:
            raise ValueError(ERR_NO_TRAINING_DATA.format(dropped=len(encoded.dropped)))
        validation = encode_pairs(
            list(validation_records)[: cfg.eval_max_records],
            self.tokenizer,
            max_seq_len=cfg.max_seq_len,
            overlength="truncate",
        )
        return encoded.pairs, validation.pairs, pair_plan(encoded, cfg, world_size=self.world_size)

    def _build_model(self):
        model = super()._build_model()
        self.reference = None
        if self.config.method == "dpo" and not self.config.uses_adapter:
            self.reference = copy.deepcopy(model).eval().requires_grad_(False)
        return model

    def _pair_loss(
        self, batch: dict[str, torch.Tensor], policy
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per-pair losses and rewards of ``batch``; ``policy`` is the DDP wrapper in a training
        step, the model itself in evaluation (the reference never goes through the wrapper)."""
        cfg = self.config
        n = batch["input_ids"].shape[0] // 2
        logps, counts = sequence_logps(policy, batch)
        counts = counts.clamp(min=1)
        if cfg.method == "orpo":
            means = logps / counts
            return orpo_loss(means[:n], means[n:], -means[:n], beta=cfg.orpo_beta)
        with torch.no_grad():
            if self.reference is None:
                with self.model.disable_adapter():
                    ref, _ = sequence_logps(self.model, batch)
            else:
                ref, _ = sequence_logps(self.reference, batch)
        return dpo_loss(
            logps[:n],
            logps[n:],
            ref[:n],
            ref[n:],
            beta=cfg.dpo_beta,
            label_smoothing=cfg.dpo_label_smoothing,
            loss_type=cfg.dpo_loss_type,
            chosen_tokens=counts[:n],
            rejected_tokens=counts[n:],
        )

    def _optimizer_step(self, group: list[list]) -> dict[str, Any]:
        started = time.perf_counter()
        pad = self.tokenizer.pad_token_id
        batches = [collate_pairs(pairs, pad) for pairs in group]
        # One mean over the step's pairs, all micro-batches and all processes: DDP averages the
        # ranks' gradients, hence the world_size (a rank's last shard may hold fewer pairs).
        n_pairs = self._all_reduce(float(sum(len(pairs) for pairs in group)))
        scale = self.world_size / max(n_pairs, 1.0)
        loss_total, chosen, rejected, seen = 0.0, [], [], 0
        for i, batch in enumerate(batches):
            sync = i == len(batches) - 1 or not self.distributed
            with nullcontext() if sync else self.ddp_model.no_sync():
                losses, rc, rr = self._pair_loss(batch, self.ddp_model)
                (losses.sum() * scale).backward()
            loss_total += float(losses.detach().sum())
            chosen.append(rc)
            rejected.append(rr)
            seen += int(batch["attention_mask"].sum())
            self.reporter.heartbeat()
        params = [p for p in self.model.parameters() if p.requires_grad]
        grad_norm = float(
            torch.nn.utils.clip_grad_norm_(params, self.config.max_grad_norm or float("inf"))
        )
        lr = self.scheduler.get_last_lr()[0]
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        elapsed = time.perf_counter() - started
        tokens = self._all_reduce(float(seen))
        trained = sum(int((b["targets"] != -100).sum()) for b in batches)
        return {
            "loss": self._all_reduce(loss_total) / max(n_pairs, 1.0),
            **self._reduced_rewards(torch.cat(chosen), torch.cat(rejected), n_pairs),
            "lr": lr,
            "grad_norm": grad_norm,
            "tokens_per_s": tokens / elapsed if elapsed else 0.0,
            "trained_tokens": int(self._all_reduce(float(trained))),
            "memory_mb": memory_mb(self.device),
            "step_s": elapsed,
            "pairs": int(n_pairs),
        }

    def _reduced_rewards(self, chosen: torch.Tensor, rejected: torch.Tensor, n: float) -> dict:
        """:func:`reward_metrics` over the step's pairs on every rank: sums reduced, then means."""
        c = self._all_reduce(float(chosen.double().sum()))
        r = self._all_reduce(float(rejected.double().sum()))
        right = self._all_reduce(float((chosen > rejected).sum()))
        n = max(n, 1.0)
        return {
            "rewards_chosen": c / n,
            "rewards_rejected": r / n,
            "reward_margin": (c - r) / n,
            "reward_accuracy": right / n,
        }

    @torch.no_grad()
    def evaluate_pairs(self, pairs: list) -> dict[str, float]:
        """Loss and reward metrics over ``pairs`` (the validation split during training)."""
        was_training = self.model.training
        self.model.eval()
        losses, chosen, rejected = [], [], []
        for i in range(0, len(pairs), self.config.batch_size):
            batch = collate_pairs(
                pairs[i : i + self.config.batch_size], self.tokenizer.pad_token_id
            )
            loss, rc, rr = self._pair_loss(batch, self.model)
            losses.append(loss)
            chosen.append(rc)
            rejected.append(rr)
            self.reporter.heartbeat()
        self.model.train(was_training)
        if not losses:
            return {"loss": float("nan"), "pairs": 0}
        return {
            "loss": float(torch.cat(losses).mean()),
            **reward_metrics(torch.cat(chosen), torch.cat(rejected)),
            "pairs": sum(len(x) for x in losses),
        }

    def _evaluate(self) -> None:
        if self.rank == 0:
            started = time.perf_counter()
            metrics = {f"eval_{k}": v for k, v in self.evaluate_pairs(self.val_rows).items()}
            metrics["eval_s"] = time.perf_counter() - started
            self.evals.append({"step": self.step, **metrics})
            self.reporter.on_eval(self.step, metrics)
        self._barrier()
