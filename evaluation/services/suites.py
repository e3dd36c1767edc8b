"""Creating eval suites: a frozen version's split plus evaluators validated by the registry."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from datasets_app.models import DatasetVersion
from finetunedb.exceptions import ApplicationError, ConflictError
from finetunedb.teams.models import Team
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import require_role

from ..conf import eval_setting, judge_names
from ..evaluators import EvaluatorSpecError, evaluators_build
from ..models import EvalSplit, EvalSuite
from .items import version_split_count

OTHER_TEAM_VERSION = "the version belongs to another team's dataset; a suite uses its own team's"
EMPTY_SPLIT = "version {number} has no {split} examples; choose another split or 'all'"
TOO_MANY_ITEMS = (
    "the suite would hold {count} items; at most {limit} (FINETUNEDB_EVAL_SUITE_MAX_ITEMS)"
)
NAME_TAKEN = "this team already has a suite named {name!r}"
BAD_NAME = "give the suite a name of 1-200 characters"
UNKNOWN_JUDGE = "unknown judge {name!r}; the administrator configured: {known}"
NOT_FROZEN = "the version is not frozen; freeze the dataset first and use that version"
BAD_SPLIT = "split must be one of: " + ", ".join(EvalSplit.values)


def _field_error(path: str, message: str, cls=ApplicationError) -> ApplicationError:
    return cls(message, errors=[{"path": path, "message": message}])


def evaluators_validate(specs) -> list[dict]:
    """The suite's evaluators as stored: every spec validated, defaults filled in; a 400 naming
    the field otherwise (``evaluators[1].params.pattern``)."""
    try:
        built = evaluators_build(specs)
    except EvaluatorSpecError as exc:
        raise _field_error(exc.path, exc.message) from None
    judges = judge_names()
    for i, evaluator in enumerate(built):
        if evaluator.needs_judge and evaluator.p["judge"] not in judges:
            known = ", ".join(judges) or "none"
            path = f"evaluators[{i}].params.judge"
            raise _field_error(path, UNKNOWN_JUDGE.format(name=evaluator.p["judge"], known=known))
    return [e.spec() for e in built]


def eval_suite_create(
    *,
    user,
    team: Team,
    version: DatasetVersion,
    name: str,
    evaluators,
    split: str = EvalSplit.TEST,
    description: str = "",
) -> EvalSuite:
    """A suite of ``team`` on ``version``'s ``split``. The caller reached ``team`` and
    ``version`` through the scoped selectors (another team's answers 404 before this)."""
    require_role(user, team.pk, Action.TRAIN)
    name = (name or "").strip()
    if not 1 <= len(name) <= 200:
        raise _field_error("name", BAD_NAME)
    if not version.content_hash:
        raise _field_error("version", NOT_FROZEN)
    if version.dataset.team_id != team.pk:
        raise _field_error("version", OTHER_TEAM_VERSION)
    if split not in EvalSplit.values:
        raise _field_error("split", BAD_SPLIT)
    specs = evaluators_validate(evaluators)
    count = version_split_count(version, split)
    if count == 0:
        raise _field_error("split", EMPTY_SPLIT.format(number=version.number, split=split))
    limit = eval_setting("FINETUNEDB_EVAL_SUITE_MAX_ITEMS")
    if count > limit:
        raise _field_error("split", TOO_MANY_ITEMS.format(count=count, limit=limit))
    try:
        with transaction.atomic():
            return EvalSuite.objects.create(
                team=team,
                name=name,
                description=description or "",
                version=version,
                version_hash=version.content_hash,
                split=split,
                evaluators=specs,
                item_count=count,
                created_by=user,
            )
    except IntegrityError:
        raise _field_error("name", NAME_TAKEN.format(name=name), ConflictError) from None
