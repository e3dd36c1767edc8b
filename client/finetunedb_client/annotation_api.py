"""Methods for annotation (DESIGN §8: assignments, the caller's queue, agreement, adjudication),
pairwise human review of two eval runs, the LLM judge on two runs, and the nearest training
examples of an eval result. Mixed into :class:`~finetunedb_client.Client`. These routes answer
plain objects (see the OpenAPI schema), returned here as dicts."""

from __future__ import annotations

import os
from pathlib import Path

from .exports import stream_to_file


class AnnotationApi:
    # --- assignments ------------------------------------------------------------------------
    def list_assignments(self, dataset_id: int) -> list[dict]:
        return self._json("GET", f"datasets/{dataset_id}/assignments/")

    def create_assignment(
        self,
        dataset_id: int,
        *,
        annotators: list[int],
        overlap: int = 1,
        ids: list[int] | None = None,
        filter: dict | None = None,
        guidelines: str = "",
        name: str = "",
        due_at: str | None = None,
        seed: str | None = None,
    ) -> dict:
        """Distribute the examples (``ids`` or the example list's ``filter``; default: all)
        to ``annotators`` (user ids), each example to ``overlap`` of them."""
        body = {
            "annotators": annotators,
            "overlap": overlap,
            "guidelines": guidelines,
            "name": name,
            "due_at": due_at,
        }
        for key, value in (("ids", ids), ("filter", filter), ("seed", seed)):
            if value is not None:
                body[key] = value
        return self._json("POST", f"datasets/{dataset_id}/assignments/", json=body)

    def get_assignment(self, assignment_id: int) -> dict:
        return self._json("GET", f"assignments/{assignment_id}/")

    def update_assignment(self, assignment_id: int, **changes) -> dict:
        """``name``, ``guidelines`` (a new guidelines version), ``due_at``."""
        return self._json("PATCH", f"assignments/{assignment_id}/", json=changes)

    def remove_annotator(self, assignment_id: int, user_id: int) -> dict:
        """Take an annotator off; their open items go to the others (``moved``)."""
        return self._json("DELETE", f"assignments/{assignment_id}/annotators/{user_id}/")

    def agreement(self, assignment_id: int) -> dict:
        return self._json("GET", f"assignments/{assignment_id}/agreement/")

    def adjudicate(self, assignment_id: int, *, example: int, **decision) -> dict:
        """``pick`` (an annotation id) or ``status``/``rating``/``tags``/``answer``, and
        ``expected_revision``."""
        return self._json(
            "POST",
            f"assignments/{assignment_id}/adjudicate/",
            json={"example": example, **decision},
        )

    def assignment_statistics(self, assignment_id: int) -> list[dict]:
        return self._json("GET", f"assignments/{assignment_id}/statistics/")["annotators"]

    def export_annotations(self, dataset_id: int, path: str | os.PathLike) -> Path:
        """Every annotator's annotation per example, as JSON Lines, to ``path``."""
        response = self.transport.request(
            "GET", f"datasets/{dataset_id}/annotations/export/", stream=True
        )
        stream_to_file(response, path)
        return Path(path)

    # --- the caller's queue -----------------------------------------------------------------
    def queue_next(self, *, assignment: int | None = None) -> dict:
        """Claim your next open item for a short lease: ``{"item": … or None, "progress"}``."""
        return self._json("GET", "me/queue/", params={"assignment": assignment})

    def queue_item(self, item_id: int) -> dict:
        return self._json("GET", f"me/queue/{item_id}/")

    def submit_annotation(self, item_id: int, **values) -> dict:
        """``verdict``, ``rating``, ``tags``, ``note``, ``answer``, ``seconds``."""
        return self._json("POST", f"me/queue/{item_id}/submit/", json=values)

    # --- pairwise review --------------------------------------------------------------------
    def list_pairwise_reviews(self, eval_run_id: int) -> list[dict]:
        return self._json("GET", f"eval-runs/{eval_run_id}/pairwise/")

    def create_pairwise_review(
        self, eval_run_id: int, *, against: int, seed: int | None = None
    ) -> dict:
        """A blind A/B review of this run against another (the existing one if there is)."""
        body = {"against": against} if seed is None else {"against": against, "seed": seed}
        return self._json("POST", f"eval-runs/{eval_run_id}/pairwise/", json=body)

    def get_pairwise_review(self, eval_run_id: int, review_id: int) -> dict:
        return self._json("GET", f"eval-runs/{eval_run_id}/pairwise/{review_id}/")

    def pairwise_next(self, eval_run_id: int, review_id: int) -> dict | None:
        """Your next blind item (prompt, answer_a, answer_b), or None when you are done."""
        return self._json("GET", f"eval-runs/{eval_run_id}/pairwise/{review_id}/next/")

    def pairwise_judgments(self, eval_run_id: int, review_id: int) -> list[dict]:
        return self._json("GET", f"eval-runs/{eval_run_id}/pairwise/{review_id}/judgments/")

    def pairwise_judge(
        self,
        eval_run_id: int,
        review_id: int,
        *,
        item: int,
        winner: str | None = None,
        skip: bool = False,
    ) -> dict:
        """``winner``: a, b or tie (as shown); or ``skip=True``."""
        body = {"item": item, "skip": skip} if skip else {"item": item, "winner": winner}
        return self._json(
            "POST", f"eval-runs/{eval_run_id}/pairwise/{review_id}/judgments/", json=body
        )

    def pairwise_results(self, eval_run_id: int, review_id: int) -> dict:
        """Win rate with its Wilson interval, ties, per reviewer, agreement."""
        return self._json("GET", f"eval-runs/{eval_run_id}/pairwise/{review_id}/results/")

    def save_pairwise_preferences(self, eval_run_id: int, review_id: int, *, dataset: int) -> dict:
        return self._json(
            "POST",
            f"eval-runs/{eval_run_id}/pairwise/{review_id}/save-preferences/",
            json={"dataset": dataset},
        )

    # --- LLM judge on two runs ----------------------------------------------------------------
    def list_judged_comparisons(self, eval_run_id: int) -> list[dict]:
        """The LLM judge's comparisons where this run is either side."""
        return self._json("GET", f"eval-runs/{eval_run_id}/judge/")

    def judge_eval_runs(self, eval_run_id: int, *, against: int, judge: str | None = None) -> dict:
        """Queue the LLM judge's pairwise comparison of this run against another (both
        succeeded, one suite); the existing one for that pair and judge if there is.
        ``judge``: a suite llm_judge evaluator's name or a configured judge."""
        body = {"against": against} if judge is None else {"against": against, "judge": judge}
        return self._json("POST", f"eval-runs/{eval_run_id}/judge/", json=body)

    def get_judged_comparison(
        self, eval_run_id: int, comparison_id: int, *, page: int = 1, page_size: int = 50
    ) -> dict:
        """Status, progress, the win rate with its Wilson interval, position bias, and one page
        of verdicts (``verdicts``: count, next, previous, results)."""
        return self._json(
            "GET",
            f"eval-runs/{eval_run_id}/judge/{comparison_id}/",
            params={"page": page, "page_size": page_size},
        )

    # --- attribution ------------------------------------------------------------------------
    def nearest_training_examples(
        self, result_id: int, *, method: str = "ngram", k: int = 10
    ) -> dict:
        """The training examples of the model's version nearest to an eval result's item."""
        return self._json(
            "GET",
            f"eval-results/{result_id}/nearest-training-examples/",
            params={"method": method, "k": k},
        )
