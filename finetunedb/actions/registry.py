"""The actions apps register: what runs each one and how its writes commit.

A runner is ``run(*, job, progress) -> ActionOutcome``: it reads its inputs from ``job.params``
(as the person who asked, ``job.created_by``), reports with ``progress(stage=, done=, total=)``
and raises ``ApplicationError`` for a refusal the page should show.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DUPLICATE_ACTION = "another action is already registered as {name!r}"
UNKNOWN_ACTION = "no action is registered as {name!r}"


@dataclass(frozen=True)
class ActionKind:
    name: str  # "freeze", "split", …: stored on the job
    run: str  # dotted path of the runner, looked up at each run (tests patch it)
    # True: the runner's writes and the job's "succeeded" commit in one transaction, so a worker
    # killed before the commit leaves neither (a freeze is all or nothing, and is redone once).
    atomic: bool = False
    queue: str = "default"
    # What the status page says from the claim on: an atomic action's own progress writes are
    # only seen when it commits.
    stage: str = ""


@dataclass(frozen=True)
class ActionOutcome:
    url: str  # the page that shows the result; the person lands there when the job ends
    result: dict = field(default_factory=dict)


_ACTIONS: dict[str, ActionKind] = {}


def action_register(kind: ActionKind) -> ActionKind:
    """Add ``kind`` (from its app's ``AppConfig.ready``); idempotent."""
    known = _ACTIONS.get(kind.name)
    if known is not None and known != kind:
        raise ValueError(DUPLICATE_ACTION.format(name=kind.name))
    _ACTIONS[kind.name] = kind
    return kind


def action_get(name: str) -> ActionKind:
    try:
        return _ACTIONS[name]
    except KeyError:
        raise LookupError(UNKNOWN_ACTION.format(name=name)) from None


def actions_registered() -> list[ActionKind]:
    return list(_ACTIONS.values())
