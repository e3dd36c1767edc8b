"""A curator's answers to duplicate clusters. Every action is all or nothing: the clusters are
checked first (all must be clusters of this dataset), then every write happens in one
transaction. Archiving and tagging go through the bulk path, so every touched example's
``revision`` moves and open editors see the change."""

from __future__ import annotations

from django.db import transaction

from finetunedb.exceptions import ApplicationError
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import MAX_ID, require_role

from ...dedup import KeeperCandidate, choose_keeper
from ...models import Dataset, DuplicateCluster, ExampleStatus, NotDuplicatePair
from ..bulk import examples_bulk_apply
from .jobs import member_pairs

RESOLVE_ACTIONS = ("keep", "not_duplicates", "merge_tags", "keep_best")
# a cluster of n members has n(n-1)/2 pairs to remember; beyond this, a mark is a mistake
MAX_NOT_DUPLICATE_MEMBERS = 300

UNKNOWN_ACTION = (
    "Unknown action {action!r}; use one of keep, not_duplicates, merge_tags, keep_best."
)
CLUSTER_REQUIRED = "This action needs one cluster id in 'cluster'."
CLUSTERS_REQUIRED = "keep_best needs 'clusters': a list of cluster ids, or \"all\"."
UNKNOWN_CLUSTERS = (
    "Some ids are not duplicate clusters of this dataset: {ids}. Nothing was changed."
)
KEEP_NOT_MEMBER = "Example {keep} is not a member of cluster {cluster}. Nothing was changed."
TOO_MANY_MEMBERS = (
    "This cluster has {size} members; marking more than {limit} as not duplicates at once is "
    "refused. Raise the threshold and search again instead."
)


def _load(dataset: Dataset, ids) -> list[DuplicateCluster]:
    qs = DuplicateCluster.objects.filter(dataset=dataset).prefetch_related("members__example__tags")
    if ids == "all":
        return list(qs)
    try:
        wanted = sorted({int(i) for i in ids})
    except (TypeError, ValueError):
        raise ApplicationError(CLUSTERS_REQUIRED, code="invalid") from None
    # an id past 64 bits cannot be a row, and would make the database driver raise
    clusters = list(qs.filter(pk__in=[i for i in wanted if 1 <= i <= MAX_ID]))
    missing = sorted(set(wanted) - {c.pk for c in clusters})
    if missing:
        # clusters of other datasets or teams read the same as nonexistent ones
        raise ApplicationError(
            UNKNOWN_CLUSTERS.format(ids=", ".join(map(str, missing[:20]))), code="unknown_ids"
        )
    return clusters


def _live(cluster: DuplicateCluster) -> list:
    return [m.example for m in cluster.members.all() if m.example.status != ExampleStatus.ARCHIVED]


def _archive(user, dataset, ids: list[int]) -> int:
    if not ids:
        return 0
    return examples_bulk_apply(user=user, dataset=dataset, action="archive", ids=ids)


def _keep_best(clusters: list[DuplicateCluster]) -> list[int]:
    """Ids to archive. Clusters may overlap (an exact and a near cluster share members), so a
    member kept for one cluster is never archived for another: a cluster that already holds a
    keeper keeps it (or them) and loses only its other members."""
    kept: set[int] = set()
    archive: set[int] = set()
    for cluster in clusters:
        live = [e for e in _live(cluster) if e.pk not in archive]
        if not live:
            continue
        if kept.isdisjoint(e.pk for e in live):
            kept.add(
                choose_keeper(
                    [KeeperCandidate(e.pk, e.status, e.rating, e.updated_at) for e in live]
                )
            )
        archive.update(e.pk for e in live if e.pk not in kept)
    return sorted(archive)


def duplicate_clusters_resolve(
    *, user, dataset: Dataset, action: str, cluster=None, keep=None, clusters=None
) -> dict:
    """Apply one action; returns what changed.

    - ``keep`` (``cluster``, ``keep``): archive every other live member; the cluster is resolved.
    - ``not_duplicates`` (``cluster``): remember every member pair, so no later job reports it;
      the cluster is dropped.
    - ``merge_tags`` (``cluster``): every member gets the union of the members' tags.
    - ``keep_best`` (``clusters``: ids or ``"all"``): per cluster, keep the member
      :func:`choose_keeper` picks (approved > unreviewed > rejected, higher rating, newest) and
      archive the rest; those clusters are resolved.
    """
    require_role(user, dataset.team_id, Action.CURATE)
    if action not in RESOLVE_ACTIONS:
        raise ApplicationError(UNKNOWN_ACTION.format(action=action))
    if action == "keep_best":
        if clusters is None or (clusters != "all" and not isinstance(clusters, list | tuple)):
            raise ApplicationError(CLUSTERS_REQUIRED)
        chosen = _load(dataset, clusters)
    else:
        if cluster is None:
            raise ApplicationError(CLUSTER_REQUIRED)
        chosen = _load(dataset, [cluster])
    result = {"action": action, "clusters_resolved": 0, "archived": 0, "tagged": 0, "pairs": 0}

    if action == "keep":
        target = chosen[0]
        members = [m.example_id for m in target.members.all()]
        try:
            keep = int(keep)
        except (TypeError, ValueError):
            keep = None
        if keep not in members:
            raise ApplicationError(KEEP_NOT_MEMBER.format(keep=keep, cluster=target.pk))
        with transaction.atomic():
            result["archived"] = _archive(
                user, dataset, [e.pk for e in _live(target) if e.pk != keep]
            )
            target.delete()
        result["clusters_resolved"] = 1
    elif action == "not_duplicates":
        target = chosen[0]
        if target.size > MAX_NOT_DUPLICATE_MEMBERS:
            raise ApplicationError(
                TOO_MANY_MEMBERS.format(size=target.size, limit=MAX_NOT_DUPLICATE_MEMBERS)
            )
        pairs = member_pairs([m.example_id for m in target.members.all()])
        with transaction.atomic():
            NotDuplicatePair.objects.bulk_create(
                [
                    NotDuplicatePair(
                        dataset=dataset, example_a_id=a, example_b_id=b, created_by=user
                    )
                    for a, b in pairs
                ],
                ignore_conflicts=True,
                batch_size=2000,
            )
            target.delete()
        result.update(clusters_resolved=1, pairs=len(pairs))
    elif action == "merge_tags":
        target = chosen[0]
        examples = [m.example for m in target.members.all()]
        names = sorted({t.name for e in examples for t in e.tags.all()})
        if names:
            with transaction.atomic():
                result["tagged"] = examples_bulk_apply(
                    user=user,
                    dataset=dataset,
                    action="add_tags",
                    value=names,
                    ids=[e.pk for e in examples],
                )
    else:
        archive = _keep_best(chosen)
        with transaction.atomic():
            result["archived"] = _archive(user, dataset, archive)
            DuplicateCluster.objects.filter(pk__in=[c.pk for c in chosen]).delete()
        result["clusters_resolved"] = len(chosen)
    return result
