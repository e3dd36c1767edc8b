"""A pairwise review's picks saved as preference examples (issue 20's collection): the suite
item's prompt, the picked answer as chosen, the other as rejected; ties and skips are not pairs.
Written by ``datasets_app.services.preferences`` (the shape the importers produce, duplicates
skipped and counted, the dataset's checks refreshed)."""

from __future__ import annotations

from dataclasses import dataclass

from datasets_app.services.preferences import PreferencePair, preference_pairs_save
from finetunedb.exceptions import ApplicationError

from ..models import EvalRun
from ..pairwise_models import PairwiseJudgment, PairwiseReview, PairwiseWinner
from .items import split_prompt

OTHER_TEAM = "must be a dataset of the review's team"
SOURCE_FORMAT = "pairwise_review"


@dataclass(frozen=True)
class PicksSaved:
    created: list[int]
    skipped_duplicates: int
    skipped_ties: int


def model_name(run: EvalRun) -> str:
    """The model as the serving API names it: ``ftdb-model-<id>`` or the base model's name."""
    return f"ftdb-model-{run.model_id}" if run.model_id else run.base_model


def pairwise_preferences_save(*, user, review: PairwiseReview, dataset) -> PicksSaved:
    """Every decisive judgment of ``review`` as one preference example of ``dataset`` (a
    dataset of the review's team; curators and up), naming who picked and both models."""
    if dataset.team_id != review.run.suite.team_id:
        raise ApplicationError(OTHER_TEAM, errors=[{"path": "dataset", "message": OTHER_TEAM}])
    judgments = (
        PairwiseJudgment.objects.filter(item__review=review)
        .exclude(winner=PairwiseWinner.NONE)
        .select_related(
            "reviewer",
            "item__result__entry__revision",
            "item__against_result",
        )
        .order_by("item__position", "created_at", "pk")
    )
    runs = {PairwiseWinner.RUN: review.run, PairwiseWinner.AGAINST: review.against}
    pairs, ties = [], 0
    for judgment in judgments:
        if judgment.winner == PairwiseWinner.TIE:
            ties += 1
            continue
        item = judgment.item
        outputs = {
            PairwiseWinner.RUN: item.result.output,
            PairwiseWinner.AGAINST: item.against_result.output,
        }
        loser = (
            PairwiseWinner.AGAINST if judgment.winner == PairwiseWinner.RUN else PairwiseWinner.RUN
        )
        revision = item.result.entry.revision
        prompt, _ = split_prompt(revision.messages)
        chosen, rejected = runs[judgment.winner], runs[loser]
        pairs.append(
            PreferencePair(
                prompt=prompt,
                chosen=[{"role": "assistant", "content": outputs[judgment.winner]}],
                rejected=[{"role": "assistant", "content": outputs[loser]}],
                tools=revision.tools or None,
                metadata={
                    "source": SOURCE_FORMAT,
                    "pairwise_review": review.pk,
                    "suite": review.run.suite_id,
                    "suite_example": item.result.entry.example_id,
                    "picked_by": judgment.reviewer.username,
                    "picked_by_id": judgment.reviewer_id,
                    "chosen_model": model_name(chosen),
                    "chosen_run": chosen.pk,
                    "rejected_model": model_name(rejected),
                    "rejected_run": rejected.pk,
                },
            )
        )
    saved = preference_pairs_save(
        user=user, dataset=dataset, pairs=pairs, source_format=SOURCE_FORMAT
    )
    return PicksSaved(
        created=saved.created, skipped_duplicates=saved.skipped_duplicates, skipped_ties=ties
    )
