"""Saving preference pairs (a prompt, the chosen answer, the rejected one) as examples of a
dataset: the one service every collector uses (the blind pairwise review of evaluation, the
playground's picks), so they all write the canonical preference shape the importers produce.

The shape (DESIGN §3, ``datasets_app.checks.preference``): ``messages`` = the prompt followed by
the chosen answer, ``metadata.rejected`` = the rejected answer's turns; the rest of the metadata
says where the pair came from. A pair already in the dataset (same prompt, chosen and rejected,
by ``checks.preference.pair_hash``), or repeated within one call, is skipped and counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import transaction

from finetunedb.exceptions import ApplicationError
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import require_role

from .. import canonical
from ..checks.preference import pair_hash, split_pair
from ..models import Dataset, Example, ExampleStatus
from .examples import example_create

MAX_PAIRS = 5_000
TOO_MANY_PAIRS = f"At most {MAX_PAIRS} pairs can be saved at once; save them in parts."
INVALID_PAIR = "Pair {index} is not a valid preference example; see errors."
RESERVED_METADATA = "metadata.rejected is where the rejected answer goes; it cannot be given."


@dataclass(frozen=True)
class PreferencePair:
    """One pick: ``prompt`` (the turns before the answer), ``chosen`` and ``rejected`` (the
    answers' assistant turns), the prompt's ``tools``, and ``metadata`` naming who picked and
    which models answered."""

    prompt: list[dict]
    chosen: list[dict]
    rejected: list[dict]
    tools: list | None = None
    metadata: dict = field(default_factory=dict)

    def content(self) -> dict:
        return {
            "messages": [*self.prompt, *self.chosen],
            "tools": self.tools or None,
            "metadata": {**self.metadata, "rejected": list(self.rejected)},
        }


@dataclass(frozen=True)
class PairsSaved:
    created: list[int]
    skipped_duplicates: int


def _key(content: dict) -> str | None:
    pair = split_pair(content)
    return pair_hash(pair) if pair is not None else None


def _existing_keys(dataset: Dataset, hashes: set[str]) -> set[str]:
    rows = (
        Example.objects.filter(dataset=dataset, content_hash__in=hashes)
        .exclude(status=ExampleStatus.ARCHIVED)
        .values_list(
            "current_revision__messages",
            "current_revision__tools",
            "current_revision__metadata",
        )
    )
    keys = set()
    for messages, tools, metadata in rows:
        key = _key({"messages": messages, "tools": tools, "metadata": metadata or {}})
        if key is not None:
            keys.add(key)
    return keys


def _validated(pairs: Sequence[PreferencePair]) -> list[dict]:
    contents = []
    for index, pair in enumerate(pairs):
        if "rejected" in pair.metadata:
            raise ApplicationError(
                RESERVED_METADATA,
                errors=[{"path": f"pairs[{index}].metadata.rejected", "message": "reserved"}],
            )
        content = pair.content()
        body = {k: v for k, v in content.items() if v is not None}
        errors = canonical.validate_content(body)
        if errors:
            raise ApplicationError(
                INVALID_PAIR.format(index=index),
                errors=[{"path": f"pairs[{index}].{e.path}", "message": e.message} for e in errors],
            )
        contents.append(content)
    return contents


def preference_pairs_save(
    *,
    user,
    dataset: Dataset,
    pairs: Sequence[PreferencePair],
    source_format: str = "preference",
    status: str = ExampleStatus.DRAFT,
) -> PairsSaved:
    """Add ``pairs`` to ``dataset`` (curators and up) as preference examples in ``status``,
    duplicates skipped and counted; all or nothing: an invalid pair stores none. The dataset's
    checks are refreshed for the new examples and its report re-run after the commit (by
    ``example_create``)."""
    require_role(user, dataset.team_id, Action.CURATE)
    if len(pairs) > MAX_PAIRS:
        raise ApplicationError(
            TOO_MANY_PAIRS, errors=[{"path": "pairs", "message": TOO_MANY_PAIRS}]
        )
    contents = _validated(pairs)
    hashes = {canonical.content_hash(c["messages"], c["tools"]) for c in contents}
    seen = _existing_keys(dataset, hashes)
    created, duplicates = [], 0
    with transaction.atomic():
        for content in contents:
            key = _key(content)
            if key in seen:
                duplicates += 1
                continue
            seen.add(key)
            example = example_create(
                user=user,
                dataset=dataset,
                messages=content["messages"],
                tools=content["tools"],
                metadata=content["metadata"],
                source_format=source_format,
                status=status,
            )
            created.append(example.pk)
    return PairsSaved(created=created, skipped_duplicates=duplicates)
