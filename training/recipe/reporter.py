"""How the recipe talks back to its caller: a reporter protocol and the failures it raises.

The app implements :class:`Reporter` to store progress on the run row, renew its lease and look
for a cancel request; tests and scripts use :class:`PrintReporter` or :class:`NullReporter`.
"""

from __future__ import annotations

from typing import Any, Protocol

ERR_OOM = (
    "the GPU ran out of memory ({detail}). Try a smaller batch_size with more "
    "gradient_accumulation_steps (same effective batch), a shorter max_seq_len, packing off, "
    "or LoRA instead of full fine-tuning"
)


class TrainingOutOfMemory(RuntimeError):
    """CUDA ran out of memory; the message suggests settings that need less."""


class Reporter(Protocol):
    """How the recipe reports progress and asks whether to stop; the app and the CLI implement it."""

    def on_start(self, total_steps: int) -> None:
        """Training is about to take its first step (or first step after resuming)."""

    def on_step(self, step: int, metrics: dict[str, Any]) -> None:
        """After optimizer step ``step`` (1-based): loss, lr, tokens_per_s, memory_mb, …"""

    def on_eval(self, step: int, metrics: dict[str, Any]) -> None:
        """After an evaluation: eval_loss, eval_token_accuracy, eval_tokens."""

    def on_log(self, line: str) -> None:
        """A human-readable log line."""

    def should_cancel(self) -> bool:
        """Asked between steps; True stops the run cleanly."""

    def heartbeat(self) -> None:
        """Called often during long phases (micro-batches, evaluation, saving) to renew a lease."""


class NullReporter:
    """Reports nothing and never cancels."""

    def on_start(self, total_steps: int) -> None:
        pass

    def on_step(self, step: int, metrics: dict[str, Any]) -> None:
        pass

    def on_eval(self, step: int, metrics: dict[str, Any]) -> None:
        pass

    def on_log(self, line: str) -> None:
        pass

    def should_cancel(self) -> bool:
        return False

    def heartbeat(self) -> None:
        pass


class PrintReporter(NullReporter):
    """Prints steps, evaluations and log lines; for scripts and benchmarks."""

    def on_step(self, step: int, metrics: dict[str, Any]) -> None:
        shown = " ".join(f"{k}={v:.4g}" for k, v in metrics.items() if isinstance(v, int | float))
        print(f"step {step}: {shown}", flush=True)

    def on_eval(self, step: int, metrics: dict[str, Any]) -> None:
        shown = " ".join(f"{k}={v:.4g}" for k, v in metrics.items() if isinstance(v, int | float))
        print(f"eval @ {step}: {shown}", flush=True)

    def on_log(self, line: str) -> None:
        print(line, flush=True)
