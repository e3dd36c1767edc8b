"""The training recipe: ``setup`` → ``train`` → ``save``, readable top to bottom.

    recipe = TrainingRecipe(config, out_dir=run_dir, models_dir=cache, reporter=reporter)
    recipe.setup(train_records, validation_records)   # resumes from a complete checkpoint if any
    result = recipe.train()                            # "completed" or "cancelled"
    if result.status == "completed":
        manifest = recipe.save(lineage={"dataset_version_id": 7, "dataset_version_hash": "…"})

Under ``torchrun`` every process runs the same code: batches are sharded, gradients averaged by
DDP, and only rank 0 reports, checkpoints and saves.
"""

from __future__ import annotations

import math
import os
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from . import artifacts, checkpoints
from .base_models import load_model, load_tokenizer, resolve_base_model
from .batching import collate, epoch_batches, make_rows, plan, shard, steps_per_epoch
from .config import TrainConfig
from .data import encode_records
from .losses import batch_loss, evaluate_rows
from .reporter import ERR_OOM, NullReporter, Reporter, TrainingOutOfMemory
from .runtime import ProcessGroup, memory_mb, memory_peak_reset, seed_everything

ERR_NO_TRAINING_DATA = (
    "no training example is left after the over-length policy ({dropped} dropped)"
)
ERR_NOT_SET_UP = "call setup() before train() or save()"


@dataclass
class TrainResult:
    """How :meth:`TrainingRecipe.train` ended: status, steps taken, step and eval metrics."""

    status: str  # "completed" | "cancelled"
    steps: int
    history: list[dict[str, Any]] = field(default_factory=list)
    evals: list[dict[str, Any]] = field(default_factory=list)


class TrainingRecipe:
    """The whole training run as one readable class: ``setup`` → ``train`` → ``save``.

    ``setup`` tokenizes the records with the base model's chat template, builds the model (LoRA
    or full), optimizer and schedule, and resumes from the newest complete checkpoint in
    ``out_dir``; ``train`` runs the loop, reporting through ``reporter`` and checkpointing;
    ``save`` writes the adapter, manifest and model card into ``out_dir/model``. Under
    ``torchrun`` every process runs the same recipe; rank 0 alone writes files.
    """

    def __init__(
        self,
        config: TrainConfig,
        *,
        out_dir: str | os.PathLike,
        models_dir: str | os.PathLike,
        reporter: Reporter | None = None,
        device: str | None = None,
    ):
        self.config = config
        self.out_dir = Path(out_dir)
        self.models_dir = Path(models_dir)
        self.reporter = reporter or NullReporter()
        self.group = ProcessGroup(device)
        self.distributed, self.device = self.group.distributed, self.group.device
        self.rank, self.world_size = self.group.rank, self.group.world_size
        self.model = None
        setting = config.gradient_checkpointing
        self.checkpointing = setting == "on" or (setting == "auto" and self.device.type == "cpu")

    # --- setup -------------------------------------------------------------------------------
    def setup(
        self, train_records: list[dict], validation_records: list[dict] = ()
    ) -> dict[str, Any]:
        """Tokenize, build the model, optimizer and schedule; resume from a checkpoint if any.

        Returns the pre-flight plan (tokens, steps, dropped and truncated examples).
        """
        cfg = self.config
        memory_peak_reset(self.device)
        seed_everything(cfg.seed)
        self.base_path = resolve_base_model(cfg.base_model, self.models_dir)
        self.tokenizer = load_tokenizer(self.base_path)
        self.rows, self.val_rows, self.plan = self._rows(train_records, validation_records)
        self.plan["gradient_checkpointing"] = self.checkpointing
        self.plan["validation_sequences"] = len(self.val_rows)
        self.steps_per_epoch = steps_per_epoch(
            len(self.rows),
            batch_size=cfg.batch_size,
            grad_accum=cfg.gradient_accumulation_steps,
            world_size=self.world_size,
        )
        self.total_steps = self.plan["total_steps"]

        self.model = self._build_model()
        trainable = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(
            trainable,
            lr=cfg.learning_rate,
            weight_decay=cfg.weight_decay,
            fused=self.device.type == "cuda",
        )
        self.scheduler = self._build_scheduler()
        self.step, self.history, self.evals = 0, [], []
        latest = checkpoints.latest_checkpoint(self.out_dir)
        if latest is not None:
            state = checkpoints.load_checkpoint(
                latest, model=self.model, optimizer=self.optimizer, scheduler=self.scheduler
            )
            self.step, self.history, self.evals = state["step"], state["history"], state["evals"]
            self._log(f"resumed from {latest.name} (step {self.step} of {self.total_steps})")
        self.ddp_model = self.group.wrap(self.model)
        return self.plan

    def _rows(self, train_records, validation_records) -> tuple[list, list, dict[str, Any]]:
        """Training rows, validation rows and the plan (the preference recipe's are pairs)."""
        cfg = self.config
        encoded = encode_records(
            train_records, self.tokenizer, max_seq_len=cfg.max_seq_len, overlength=cfg.overlength
        )
        if not encoded.examples:
            raise ValueError(ERR_NO_TRAINING_DATA.format(dropped=len(encoded.dropped)))
        rows = make_rows(encoded, max_seq_len=cfg.max_seq_len, packing=cfg.packing)
        val = encode_records(
            list(validation_records)[: cfg.eval_max_records],
            self.tokenizer,
            max_seq_len=cfg.max_seq_len,
            overlength="truncate",
        )
        val_rows = make_rows(val, max_seq_len=cfg.max_seq_len, packing=cfg.packing)
        return rows, val_rows, plan(encoded, cfg, world_size=self.world_size)

    def _load_base(self):
        # The weights this run starts from; a preference run may start from a fine-tuned model.
        return load_model(self.base_path, device=self.device)

    def _build_model(self):
        cfg = self.config
        model = self._load_base()
        model.config.use_cache = False
        if self.checkpointing:
            # Non-reentrant: works with frozen inputs (LoRA) and replays dropout's RNG exactly.
            model.gradient_checkpointing_enable(
                gradient_checkpointing_kwargs={"use_reentrant": False}
            )
        if cfg.uses_adapter:
            from peft import LoraConfig, get_peft_model

            torch.manual_seed(
                cfg.seed
            )  # the adapter's A matrices are random: same seed, same start
            lora = LoraConfig(
                r=cfg.lora_r,
                lora_alpha=cfg.lora_alpha,
                lora_dropout=cfg.lora_dropout,
                target_modules=list(cfg.lora_target_modules),
                task_type="CAUSAL_LM",
            )
            model = get_peft_model(model, lora)
        model.train()
        return model

    def _build_scheduler(self):
        from transformers import get_scheduler

        cfg = self.config
        warmup = cfg.warmup_steps or math.ceil(cfg.warmup_ratio * self.total_steps)
        name = {"cosine": "cosine", "linear": "linear", "constant": "constant_with_warmup"}[
            cfg.lr_scheduler
        ]
        return get_scheduler(
            name, self.optimizer, num_warmup_steps=warmup, num_training_steps=self.total_steps
        )

    # --- train -------------------------------------------------------------------------------
    def train(self) -> TrainResult:
        """Run optimizer steps until done or cancelled; checkpoints and evals on their intervals."""
        if self.model is None:
            raise RuntimeError(ERR_NOT_SET_UP)
        try:
            return self._train()
        except torch.cuda.OutOfMemoryError as exc:
            raise TrainingOutOfMemory(
                ERR_OOM.format(detail=str(exc).splitlines()[0][:200])
            ) from exc

    def _train(self) -> TrainResult:
        cfg, accum = self.config, self.config.gradient_accumulation_steps
        if self.rank == 0:
            self.reporter.on_start(self.total_steps)
        while self.step < self.total_steps:
            if self._cancel_requested():
                self._log(f"cancelled before step {self.step + 1}")
                return TrainResult("cancelled", self.step, self.history, self.evals)
            epoch, in_epoch = divmod(self.step, self.steps_per_epoch)
            batches = epoch_batches(
                self.rows, batch_size=cfg.batch_size, seed=cfg.seed, epoch=epoch
            )
            mine = shard(batches, rank=self.rank, world_size=self.world_size)
            group = mine[in_epoch * accum : (in_epoch + 1) * accum]
            metrics = self._optimizer_step(group)
            self.step += 1
            metrics["epoch"] = epoch + (in_epoch + 1) / self.steps_per_epoch
            self.history.append({"step": self.step, **metrics})
            if self.rank == 0 and (
                self.step % cfg.log_interval == 0 or self.step == self.total_steps
            ):
                self.reporter.on_step(self.step, metrics)
            last = self.step == self.total_steps
            if self.val_rows and (
                (cfg.eval_interval and self.step % cfg.eval_interval == 0) or last
            ):
                self._evaluate()
            if cfg.checkpoint_interval and self.step % cfg.checkpoint_interval == 0 and not last:
                self._checkpoint()
        return TrainResult("completed", self.step, self.history, self.evals)

    def _optimizer_step(self, group: list[list]) -> dict[str, Any]:
        started = time.perf_counter()
        batches = [collate(rows, self.tokenizer.pad_token_id) for rows in group]
        # Normalise by the trained tokens of the whole step (all micro-batches, all processes) so
        # that packing, accumulation and DDP all give the gradient of one mean over tokens.
        local_tokens = sum(int((b["targets"] != -100).sum()) for b in batches)
        global_tokens = self._all_reduce(float(local_tokens))
        loss_total, seen, correct = 0.0, 0, 0
        for i, batch in enumerate(batches):
            sync = i == len(batches) - 1 or not self.distributed
            with self.ddp_model.no_sync() if not sync else nullcontext():
                loss_sum, n, c = batch_loss(self.ddp_model, batch)
                (loss_sum * self.world_size / max(global_tokens, 1.0)).backward()
            loss_total += float(loss_sum.detach())
            seen += int((batch["input_ids"] != self.tokenizer.pad_token_id).sum())
            correct += c
            self.reporter.heartbeat()
        params = [p for p in self.model.parameters() if p.requires_grad]
        grad_norm = (
            float(torch.nn.utils.clip_grad_norm_(params, self.config.max_grad_norm))
            if self.config.max_grad_norm
            else float(
                torch.norm(torch.stack([p.grad.norm() for p in params if p.grad is not None]))
            )
        )
        lr = self.scheduler.get_last_lr()[0]
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        elapsed = time.perf_counter() - started
        loss = self._all_reduce(loss_total) / max(global_tokens, 1.0)
        tokens = self._all_reduce(float(seen))
        return {
            "loss": loss,
            "lr": lr,
            "grad_norm": grad_norm,
            "tokens_per_s": tokens / elapsed if elapsed else 0.0,
            "trained_tokens": int(global_tokens),
            "memory_mb": memory_mb(self.device),
            "step_s": elapsed,
        }

    def _evaluate(self) -> None:
        if self.rank == 0:
            started = time.perf_counter()
            result = evaluate_rows(
                self.model,
                self.val_rows,
                pad_id=self.tokenizer.pad_token_id,
                batch_size=self.config.batch_size,
                tick=self.reporter.heartbeat,
            )
            metrics = {f"eval_{k}": v for k, v in result.items()}
            metrics["eval_s"] = time.perf_counter() - started
            self.evals.append({"step": self.step, **metrics})
            self.reporter.on_eval(self.step, metrics)
        self._barrier()

    def _checkpoint(self) -> None:
        if self.rank == 0:
            state = {
                "step": self.step,
                "history": self.history,
                "evals": self.evals,
                "config": self.config.to_dict(),
            }
            path = checkpoints.save_checkpoint(
                self.out_dir,
                self.step,
                model=self.model,
                optimizer=self.optimizer,
                scheduler=self.scheduler,
                trainer_state=state,
            )
            self._log(f"checkpoint {path.name} written")
        self._barrier()

    # --- save --------------------------------------------------------------------------------
    def save(
        self, *, lineage: dict[str, Any] | None = None, merged: bool = False
    ) -> dict[str, Any] | None:
        """Write the final model folder ``<out>/model`` (rank 0); returns its manifest.

        ``merged`` (or the config's ``merge_weights``) adds ``merged/``: base and adapter as one
        plain model."""
        if self.model is None:
            raise RuntimeError(ERR_NOT_SET_UP)
        manifest = None
        if self.rank == 0:
            manifest = artifacts.save_model(
                self.out_dir / "model",
                model=self.model,
                tokenizer=self.tokenizer,
                config=self.config,
                base_path=self.base_path,
                history=self.history,
                evals=self.evals,
                plan=self.plan,
                device=str(self.device),
                world_size=self.world_size,
                lineage=lineage or {},
                merged=merged or self.config.merge_weights,
            )
            self._log(f"model saved, adapter sha256 {manifest['weights_sha256'][:12]}…")
        self._barrier()
        return manifest

    # --- distributed plumbing ---------------------------------------------------------------
    def _cancel_requested(self) -> bool:
        flag = 1.0 if self.rank == 0 and self.reporter.should_cancel() else 0.0
        return self._all_reduce(flag) > 0

    def _all_reduce(self, value: float) -> float:
        return self.group.all_reduce(value)

    def _barrier(self) -> None:
        self.group.barrier()

    def _log(self, line: str) -> None:
        if self.rank == 0:
            self.reporter.on_log(line)
