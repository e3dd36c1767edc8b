"""Train/validation/test splits in the app, and the leakage report.

The assignment is the pure :func:`datasets_app.splits.assign_splits`; this module loads the live
(non-archived) examples, builds their duplicate groups, passes each example's stored split as
``current`` (so existing examples never move) and its manual choice (``split_locked``) as
``override``, and writes the result set-based: one UPDATE per split over id lists, each bumping
``revision`` and never touching a locked example.

Duplicate groups: the members of every stored duplicate cluster (exact and near, as the latest
dedup jobs left them), plus examples with equal content hashes, joined transitively. The leakage
report uses the same groups, so a grouped split reports none.

``stratify_by`` syntax:

- ``tag:<name>`` — two strata: examples with the tag ``<name>`` and examples without it;
- ``metadata:<key>`` — one stratum per value of the metadata field ``<key>`` (a key of
  ``[A-Za-z0-9_]{1,64}``); examples without it form the stratum ``(missing)``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Mapping

from django.db import connection, transaction
from django.db.models import F, OuterRef, Subquery
from django.db.models.fields.json import KT

from finetunedb.exceptions import ApplicationError
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import require_role

from ..dedup import exact_clusters
from ..models import (
    Dataset,
    DuplicateCluster,
    DuplicateClusterMember,
    Example,
    ExampleRevision,
    ExampleStatus,
)
from ..splits import SPLITS, SplitConfigError, assign_splits, group_ids, leakage_report
from .checks.schedule import dataset_checks_schedule
from .dedup.jobs import excluded_pairs_for_dataset
from .split_groups import split_group_members

WRITE_CHUNK = 5000
MAX_LEAKAGE_PAIRS = 200
MISSING = "(missing)"
WITHOUT_TAG = "(without {name})"
METADATA_KEY = re.compile(r"^[A-Za-z0-9_]{1,64}$")
READING = "Reading the examples and their duplicate groups"
ASSIGNING = "Assigning {count:,} examples to splits"
WRITING = "Writing {count:,} changed splits"
STRATIFY_SYNTAX = "stratify_by is tag:<tag name> or metadata:<key> (key of letters, digits, _)."


def parse_stratify_by(value: str | None) -> tuple[str, str] | None:
    """``"tag:x"`` → ``("tag", "x")``, ``"metadata:k"`` → ``("metadata", "k")``, empty → None."""
    if not value:
        return None
    kind, _, name = str(value).partition(":")
    name = name.strip()
    if kind == "tag" and 1 <= len(name) <= 64:
        return kind, name
    if kind == "metadata" and METADATA_KEY.match(name):
        return kind, name
    raise ApplicationError(
        STRATIFY_SYNTAX, errors=[{"path": "stratify_by", "message": STRATIFY_SYNTAX}]
    )


def _live_rows(dataset: Dataset, stratify: tuple[str, str] | None) -> list[tuple]:
    """``(pk, split, split_locked, content_hash, stratum)`` of every live example, by pk."""
    qs = (
        Example.objects.filter(dataset=dataset)
        .exclude(status=ExampleStatus.ARCHIVED)
        .order_by("pk")
    )
    if stratify and stratify[0] == "metadata":
        # KT does not follow the foreign key, so the value is read in a subquery on the revision
        value = ExampleRevision.objects.filter(pk=OuterRef("current_revision_id")).annotate(
            value=KT(f"metadata__{stratify[1]}")
        )
        qs = qs.annotate(stratum=Subquery(value.values("value")[:1]))
        return [
            (pk, split, locked, chash, MISSING if s is None else s)
            for pk, split, locked, chash, s in qs.values_list(
                "pk", "split", "split_locked", "content_hash", "stratum"
            )
        ]
    rows = _fetch_plain(qs.values_list("pk", "split", "split_locked", "content_hash"))
    if not stratify:
        return [(*row, None) for row in rows]
    name = stratify[1]
    tagged = set(
        Example.tags.through.objects.filter(tag__dataset=dataset, tag__name=name).values_list(
            "example_id", flat=True
        )
    )
    without = WITHOUT_TAG.format(name=name)
    return [(*row, name if row[0] in tagged else without) for row in rows]


def _fetch_plain(qs) -> list[tuple]:
    """The rows of a ``values_list`` query of plain columns, as the driver returns them.

    Django runs a converter over every value it reads (a third of the load for 100,000 rows);
    ids, texts and the lock flag need none here (SQLite's 0/1 serves as the flag).
    """
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def duplicate_groups(dataset: Dataset, rows: list[tuple]) -> list[tuple[str, float, list[int]]]:
    """``(kind, similarity, live member ids)`` of every stored cluster and content-hash group
    with two or more live members. ``similarity`` is the lowest inside the group."""
    live = {row[0] for row in rows}
    members: dict[int, list[int]] = {}
    for cluster_id, example_id in _fetch_plain(
        DuplicateClusterMember.objects.filter(cluster__dataset=dataset).values_list(
            "cluster_id", "example_id"
        )
    ):
        if example_id in live:
            ids = members.get(cluster_id)
            if ids is None:
                ids = members[cluster_id] = []
            ids.append(example_id)
    clusters = {
        pk: (method, lowest)
        for pk, method, lowest in DuplicateCluster.objects.filter(dataset=dataset).values_list(
            "pk", "method", "min_similarity"
        )
    }
    out = [(*clusters[cid], ids) for cid, ids in members.items() if len(ids) > 1]
    # only hashes held by two or more examples can form a group
    repeated = {h for h, n in Counter(row[3] for row in rows).items() if n > 1}
    by_hash = {row[0]: row[3] for row in rows if row[3] in repeated}
    excluded = excluded_pairs_for_dataset(dataset.pk)
    out.extend(("exact", 1.0, list(c.members)) for c in exact_clusters(by_hash, excluded))
    return out


def _chain(members: list[int]):
    members = sorted(members)
    return zip(members, members[1:], strict=False)


def _write_split(split: str, ids: list[int]) -> None:
    """Set ``split`` on the examples ``ids`` that are not locked, bumping their revision.

    ``split_locked`` is tested again in SQL, so a manual choice made meanwhile still wins.
    Django compiles every id of a ``pk__in`` list one by one (0.7 s for 100,000 ids), so SQLite
    and PostgreSQL get the whole list as one parameter; other databases take the ORM path.
    """
    table = connection.ops.quote_name(Example._meta.db_table)
    if connection.vendor == "sqlite":
        sql = (
            f"UPDATE {table} SET split = %s, revision = revision + 1 "  # noqa: S608 (model table)
            "WHERE NOT split_locked AND id IN (SELECT value FROM json_each(%s))"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [split, json.dumps(ids)])
        return
    if connection.vendor == "postgresql":
        sql = (
            f"UPDATE {table} SET split = %s, revision = revision + 1 "  # noqa: S608 (model table)
            "WHERE NOT split_locked AND id = ANY(%s)"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [split, ids])
        return
    for start in range(0, len(ids), WRITE_CHUNK):
        Example.objects.filter(pk__in=ids[start : start + WRITE_CHUNK], split_locked=False).update(
            split=split, revision=F("revision") + 1
        )


def dataset_split(
    *,
    user,
    dataset: Dataset,
    ratios: Mapping[str, float],
    seed: int | str = 0,
    stratify_by: str | None = None,
    group_near_duplicates: bool = True,
    keep_existing: bool = True,
    progress: Callable | None = None,
    group_topics: bool = False,
) -> dict:
    """Assign every live example a split and store it; returns the counts. ``progress(stage=)``
    hears each stage (a page's job shows it).

    Returns ``{"counts": {split: n}, "strata": {stratum: {split: n}} (only when stratified),
    "changed": examples whose split was written, "locked": examples kept by a manual choice,
    "grouped": examples in a duplicate group, "examples": live examples}``.
    """
    require_role(user, dataset.team_id, Action.CURATE)
    stratify = parse_stratify_by(stratify_by)
    report = progress or (lambda **_: None)
    report(stage=READING)
    rows = _live_rows(dataset, stratify)
    report(stage=ASSIGNING.format(count=len(rows)))
    pairs = []
    if group_near_duplicates:
        pairs = [p for _, _, members in duplicate_groups(dataset, rows) for p in _chain(members)]
    if group_topics:
        # whole topic clusters (the semantic layer's) in one split: a test split of unseen topics
        live = {row[0] for row in rows}
        for members in split_group_members("topics", dataset):
            pairs.extend(_chain([pk for pk in members if pk in live]))
    groups = group_ids(pairs) if pairs else {}
    # SplitItem fields as plain tuples: (key, group, stratum, current, override)
    items = [
        (pk, groups.get(pk), stratum, split, split if locked and split in SPLITS else None)
        for pk, split, locked, _, stratum in rows
    ]
    try:
        result = assign_splits(
            items,
            ratios=ratios,
            seed=seed,
            group_near_duplicates=group_near_duplicates or group_topics,
            stratify=stratify is not None,
            keep_existing=keep_existing,
        )
    except SplitConfigError as exc:
        raise ApplicationError(str(exc), errors=[{"path": "ratios", "message": str(exc)}]) from None
    moves: dict[str, list[int]] = {}
    for pk, split, locked, _, _ in rows:
        target = result.assignments[pk]
        if target != split and not locked:
            moves.setdefault(target, []).append(pk)
    report(stage=WRITING.format(count=sum(len(ids) for ids in moves.values())))
    with transaction.atomic():
        for split, ids in moves.items():
            _write_split(split, ids)
        if moves:  # the pair rules report prompts shared across splits
            dataset_checks_schedule(dataset_id=dataset.pk)
    out = {
        "examples": len(rows),
        "counts": result.counts,
        "changed": sum(len(ids) for ids in moves.values()),
        "locked": sum(1 for row in rows if row[2] and row[1] in SPLITS),
        "grouped": len(groups),
    }
    if stratify:
        out["strata"] = {
            str(k): v for k, v in sorted(result.strata.items(), key=lambda kv: str(kv[0]))
        }
    return out


def dataset_leakage(*, dataset: Dataset, stratify_by: str | None = None) -> dict:
    """Duplicate pairs that straddle splits, and split sizes (per stratum when asked).

    Returns ``{"pair_count", "pairs": [{"a", "b", "a_split", "b_split", "kind", "similarity"}]
    (at most 200), "counts": {split: n}, "strata": {stratum: {split: n}}}``; ``similarity`` is the
    lowest similarity inside the group the pair belongs to (1.0 for exact duplicates).
    """
    stratify = parse_stratify_by(stratify_by)
    rows = _live_rows(dataset, stratify)
    assignments = {row[0]: row[1] for row in rows}
    candidates = []
    for kind, similarity, members in duplicate_groups(dataset, rows):
        by_split: dict[str, list[int]] = {}
        for m in members:
            if assignments[m] in SPLITS:
                by_split.setdefault(assignments[m], []).append(m)
        names = sorted(by_split)
        for i, first in enumerate(names):
            for second in names[i + 1 :]:
                candidates.extend(
                    (a, b, kind, similarity) for a in by_split[first] for b in by_split[second]
                )
    # a pair can sit in several groups (an exact and a near cluster): report it once
    seen: set[tuple[int, int]] = set()
    pairs = []
    for pair in leakage_report(candidates, assignments):
        if (pair.a, pair.b) not in seen:
            seen.add((pair.a, pair.b))
            pairs.append(pair)
    counts = Counter(row[1] for row in rows)
    strata: dict[str, Counter] = {}
    if stratify:
        for row in rows:
            strata.setdefault(str(row[4]), Counter())[row[1]] += 1
    every = (*SPLITS, "unassigned")
    return {
        "pair_count": len(pairs),
        "pairs": [
            {
                "a": p.a,
                "b": p.b,
                "a_split": p.a_split,
                "b_split": p.b_split,
                "kind": p.kind,
                "similarity": round(p.similarity, 4),
            }
            for p in pairs[:MAX_LEAKAGE_PAIRS]
        ],
        "counts": {s: counts.get(s, 0) for s in every},
        "strata": {k: {s: c.get(s, 0) for s in every} for k, c in sorted(strata.items())},
    }
