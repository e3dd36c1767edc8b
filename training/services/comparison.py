"""Two models side by side: what differs in their configuration, data and results."""

from __future__ import annotations

from ..models import ModelArtifact
from .lineage import model_lineage


def config_difference(a: dict, b: dict) -> list[dict]:
    """``[{field, this, other}]`` for every config field whose values differ."""
    return [
        {"field": key, "this": a.get(key), "other": b.get(key)}
        for key in sorted(set(a) | set(b))
        if a.get(key) != b.get(key)
    ]


def _summary(model: ModelArtifact) -> dict:
    run = model.run
    last_eval = (run.evals or [{}])[-1] if run.evals else {}
    final = (run.metrics or [{}])[-1] if run.metrics else {}
    results = model.eval_results or {}
    return {
        **model_lineage(run, model_id=model.pk),
        "steps": run.step,
        "final_train_loss": final.get("loss"),
        "final_eval_loss": last_eval.get("eval_loss"),
        "test_loss": (results.get("finetuned") or {}).get("loss"),
        "test_token_accuracy": (results.get("finetuned") or {}).get("token_accuracy"),
    }


def model_compare(model: ModelArtifact, other: ModelArtifact) -> dict:
    return {
        "this": _summary(model),
        "other": _summary(other),
        "same_version": model.run.version_id == other.run.version_id,
        "same_data": model.run.dataset_version_hash == other.run.dataset_version_hash,
        "config_difference": config_difference(model.run.config, other.run.config),
    }
