"""Methods for training (DESIGN §6: runs, models, downloads, playground) and evaluation
(DESIGN §8: suites, runs, results, comparison). Mixed into :class:`~finetunedb_client.Client`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from .exports import stream_to_file
from .jobs import EvalRun, Playground, TrainingRun
from .models import EvalResult, EvalSuite, Model, ModelSummary


class TrainingApi:
    # --- training runs ----------------------------------------------------------------------
    def train(
        self,
        version_id: int,
        *,
        base_model: str | None = None,
        method: str = "lora",
        hyperparameters: dict | None = None,
        wait: bool = False,
        progress: bool = False,
    ) -> TrainingRun:
        """Start a training run on a frozen version (201). ``base_model`` None: the bundled
        default. ``wait=True`` waits for it (a failed run raises ``JobFailed``)."""
        body = {"method": method, "hyperparameters": hyperparameters or {}}
        if base_model:
            body["base_model"] = base_model
        run = self._one("POST", f"versions/{version_id}/training-runs/", TrainingRun, json=body)
        return run.wait(progress=progress) if wait else run

    def list_training_runs(self, version_id: int) -> Iterator[TrainingRun]:
        return self._pages(f"versions/{version_id}/training-runs/", TrainingRun)

    def get_training_run(self, run_id: int) -> TrainingRun:
        return self._one("GET", f"training-runs/{run_id}/", TrainingRun)

    def cancel_training_run(self, run_id: int) -> TrainingRun:
        return self._one("POST", f"training-runs/{run_id}/cancel/", TrainingRun)

    def training_preflight(
        self,
        version_id: int,
        *,
        base_model: str | None = None,
        method: str = "lora",
        hyperparameters: dict | None = None,
    ) -> dict:
        body = {"method": method, "hyperparameters": hyperparameters or {}}
        if base_model:
            body["base_model"] = base_model
        return self._json("POST", f"versions/{version_id}/training-preflight/", json=body)

    def training_preview(
        self,
        version_id: int,
        *,
        example: int,
        base_model: str | None = None,
        max_seq_len: int | None = None,
    ) -> dict:
        return self._json(
            "GET",
            f"versions/{version_id}/training-preview/",
            params={"example": example, "base_model": base_model, "max_seq_len": max_seq_len},
        )

    # --- models -----------------------------------------------------------------------------
    def list_models(self, version_id: int) -> Iterator[ModelSummary]:
        return self._pages(f"versions/{version_id}/models/", ModelSummary)

    def get_model(self, model_id: int) -> Model:
        return self._one("GET", f"models/{model_id}/", Model)

    def download_model(
        self, model_id: int, path: str | os.PathLike, *, file: str | None = None
    ) -> Path:
        """One file of the model (its weights by default; any name of ``Model.files``)."""
        response = self.transport.request(
            "GET", f"models/{model_id}/download/", params={"file": file}, stream=True
        )
        stream_to_file(response, path)
        return Path(path)

    def compare_models(self, model_id: int, *, against: int) -> dict:
        return self._json("GET", f"models/{model_id}/compare/", params={"against": against})

    def playground(self, model_id: int, *, messages: list, wait: bool = False) -> Playground:
        job = self._one(
            "POST", f"models/{model_id}/playground/", Playground, json={"messages": messages}
        )
        return job.wait() if wait else job

    def get_playground(self, playground_id: int) -> Playground:
        return self._one("GET", f"playground/{playground_id}/", Playground)

    # --- evaluation -------------------------------------------------------------------------
    def list_eval_suites(self, *, team: int | None = None) -> Iterator[EvalSuite]:
        return self._pages("eval-suites/", EvalSuite, {"team": team})

    def create_eval_suite(
        self,
        *,
        team: int,
        name: str,
        version: int,
        evaluators: list[dict],
        split: str = "test",
        description: str = "",
    ) -> EvalSuite:
        body = {
            "team": team,
            "name": name,
            "version": version,
            "split": split,
            "evaluators": evaluators,
            "description": description,
        }
        return self._one("POST", "eval-suites/", EvalSuite, json=body)

    def get_eval_suite(self, suite_id: int) -> EvalSuite:
        return self._one("GET", f"eval-suites/{suite_id}/", EvalSuite)

    def list_eval_runs(self, suite_id: int) -> Iterator[EvalRun]:
        return self._pages(f"eval-suites/{suite_id}/runs/", EvalRun)

    def start_eval_run(
        self,
        suite_id: int,
        *,
        model: int | None = None,
        base_model: str | None = None,
        max_new_tokens: int = 128,
        temperature: float = 0.0,
        seed: int = 0,
        wait: bool = False,
        progress: bool = False,
    ) -> EvalRun:
        body = {"max_new_tokens": max_new_tokens, "temperature": temperature, "seed": seed}
        if model is not None:
            body["model"] = model
        if base_model:
            body["base_model"] = base_model
        run = self._one("POST", f"eval-suites/{suite_id}/runs/", EvalRun, json=body)
        return run.wait(progress=progress) if wait else run

    def get_eval_run(self, eval_run_id: int) -> EvalRun:
        return self._one("GET", f"eval-runs/{eval_run_id}/", EvalRun)

    def cancel_eval_run(self, eval_run_id: int) -> EvalRun:
        return self._one("POST", f"eval-runs/{eval_run_id}/cancel/", EvalRun)

    def eval_results(self, eval_run_id: int, *, page_size: int = 200) -> Iterator[EvalResult]:
        return self._pages(
            f"eval-runs/{eval_run_id}/results/", EvalResult, {"page_size": page_size}
        )

    def compare_eval_runs(self, eval_run_id: int, *, against: int) -> dict:
        return self._json("GET", f"eval-runs/{eval_run_id}/compare/", params={"against": against})
