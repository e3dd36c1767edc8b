"""A playground pick saved as a preference example (issue 20's collection, next to the blind
pairwise review): the playground answered one conversation with the base and the fine-tuned
model, or twice with the fine-tuned model sampled at two seeds; the person picks the better answer, or edits one into the answer they want, and the pair
goes into a dataset of the model's team through the one service that saves pairs
(``datasets_app.services.preferences``: the importers' shape, duplicates skipped and counted).
"""

from __future__ import annotations

from datasets_app.services.preferences import PairsSaved, PreferencePair, preference_pairs_save
from finetunedb.exceptions import ApplicationError, ConflictError

from ..models import PlaygroundRequest, PlaygroundStatus
from .evaluation import MAX_CHARS

SOURCE_FORMAT = "playground"
WINNERS = ("base", "finetuned")
SEEDED_WINNERS = ("a", "b")

NOT_ANSWERED = (
    "The playground has not answered this conversation yet; pick once both answers are in."
)
BAD_WINNER = "winner must be base or finetuned (the answer you prefer)"
BAD_SEEDED_WINNER = (
    "winner must be a or b: this conversation was answered twice by the fine-tuned model, "
    "at two seeds"
)
OTHER_TEAM = "must be a dataset of the model's team"
BAD_CHOSEN = f"chosen must be a non-empty text of at most {MAX_CHARS} characters"
IDENTICAL = (
    "The chosen answer is the same as the rejected one; a pair needs two different answers "
    "(edit the chosen answer, or pick the other one)."
)


def _invalid(path: str, message: str) -> ApplicationError:
    return ApplicationError(message, errors=[{"path": path, "message": message}])


def playground_pick_save(
    *, user, request: PlaygroundRequest, dataset, winner: str, chosen: str | None = None
) -> PairsSaved:
    """Save ``request``'s conversation with the ``winner``'s answer (or ``chosen``, an edit of
    it) as chosen and the other model's answer as rejected, into ``dataset`` (a dataset of the
    model's team; curators and up). The example's metadata names who picked and both models."""
    model = request.model
    if dataset.team_id != model.run.version.dataset.team_id:
        raise _invalid("dataset", OTHER_TEAM)
    sampling = request.sampling or {}
    sides = SEEDED_WINNERS if sampling else WINNERS
    if winner not in sides:
        raise _invalid("winner", BAD_SEEDED_WINNER if sampling else BAD_WINNER)
    if request.status != PlaygroundStatus.DONE:
        raise ConflictError(NOT_ANSWERED)
    loser = sides[1 - sides.index(winner)]
    answers = request.answers or {}
    edited = chosen is not None and chosen.strip() != (answers.get(winner) or "").strip()
    if chosen is not None and (
        not isinstance(chosen, str) or not chosen.strip() or len(chosen) > MAX_CHARS
    ):
        raise _invalid("chosen", BAD_CHOSEN)
    chosen_text = chosen.strip() if chosen is not None else answers.get(winner) or ""
    rejected_text = answers.get(loser) or ""
    if chosen_text.strip() == rejected_text.strip():
        raise _invalid("chosen", IDENTICAL)
    finetuned = f"ftdb-model-{model.pk}"
    names = {"base": model.run.base_model, "finetuned": finetuned, "a": finetuned, "b": finetuned}
    seeded = {}
    if sampling:
        seed_of = dict(zip(SEEDED_WINNERS, sampling["seeds"], strict=True))
        seeded = {
            "temperature": sampling["temperature"],
            "chosen_seed": seed_of[winner],
            "rejected_seed": seed_of[loser],
        }
    pair = PreferencePair(
        prompt=list(request.messages),
        chosen=[{"role": "assistant", "content": chosen_text}],
        rejected=[{"role": "assistant", "content": rejected_text}],
        metadata={
            "source": SOURCE_FORMAT,
            "playground_request": request.pk,
            "picked_by": user.username,
            "picked_by_id": user.pk,
            "chosen_model": names[winner],
            "rejected_model": names[loser],
            "chosen_edited": edited,
            **seeded,
        },
    )
    return preference_pairs_save(
        user=user, dataset=dataset, pairs=[pair], source_format=SOURCE_FORMAT
    )
