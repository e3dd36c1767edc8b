"""Dedup jobs, stored clusters, resolve actions and contamination, through the services."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files import File
from django.utils import timezone

from datasets_app.models import (
    Dataset,
    DedupJob,
    DuplicateCluster,
    Example,
    NotDuplicatePair,
)
from datasets_app.services.dedup import (
    dataset_contamination,
    dedup_job_create,
    dedup_job_run,
    duplicate_clusters_resolve,
)
from datasets_app.services.imports import import_job_create, import_job_run
from finetunedb.exceptions import ApplicationError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "dedup"


@pytest.fixture
def import_file(owner):
    def run(dataset, name):
        path = FIXTURES / name
        with open(path, "rb") as handle:
            upload = File(handle, name=name)
            upload.size = path.stat().st_size
            job = import_job_create(user=owner, dataset=dataset, upload=upload)
        import_job_run(job_id=job.pk)
        return list(Example.objects.filter(dataset=dataset).order_by("pk"))

    return run


@pytest.fixture
def groups(dataset, import_file):
    return import_file(dataset, "alpaca_groups.json")


def run_job(user, dataset, **options):
    job = dedup_job_create(user=user, dataset=dataset, **options)
    dedup_job_run(job_id=job.pk)
    job.refresh_from_db()
    return job


def clusters_of(dataset, method):
    return [
        sorted(c.members.values_list("example_id", flat=True))
        for c in DuplicateCluster.objects.filter(dataset=dataset, method=method).order_by("id")
    ]


def test_it_finds_the_exact_duplicate_groups(owner, dataset, groups):
    job = run_job(owner, dataset, method="exact")
    ids = [e.pk for e in groups]
    assert job.status == "succeeded"
    assert (job.clusters_found, job.duplicates_found) == (3, 4)
    assert job.progress == 1.0 and job.examples_total == 20
    assert clusters_of(dataset, "exact") == [
        [ids[0], ids[14]],
        [ids[1], ids[15], ids[16]],
        [ids[6], ids[17]],
    ]


def test_it_stores_verified_near_duplicate_clusters(owner, dataset, groups):
    job = run_job(owner, dataset, method="near", threshold=0.8)
    ids = [e.pk for e in groups]
    assert job.status == "succeeded"
    found = clusters_of(dataset, "near")
    assert [ids[18], ids[19]] in found
    near = DuplicateCluster.objects.get(dataset=dataset, method="near", members__example=ids[18])
    assert 0.8 <= near.min_similarity < 1.0
    assert all(0.8 <= m.similarity <= 1.0 for m in near.members.all())
    # a higher threshold than the pair's similarity leaves only the identical texts
    run_job(owner, dataset, method="near", threshold=0.95)
    assert [ids[18], ids[19]] not in clusters_of(dataset, "near")


def test_it_replaces_only_the_clusters_of_the_same_method(owner, dataset, groups):
    run_job(owner, dataset, method="exact")
    run_job(owner, dataset, method="near")
    run_job(owner, dataset, method="exact")
    assert DuplicateCluster.objects.filter(dataset=dataset, method="exact").count() == 3
    assert DuplicateCluster.objects.filter(dataset=dataset, method="near").count() == 4


def test_it_runs_a_claimed_job_only_once(owner, dataset, groups):
    job = dedup_job_create(user=owner, dataset=dataset, method="exact")
    dedup_job_run(job_id=job.pk)
    DedupJob.objects.filter(pk=job.pk).update(clusters_found=99)
    dedup_job_run(job_id=job.pk)  # a redelivered task finds the job finished
    job.refresh_from_db()
    assert job.clusters_found == 99 and job.attempts == 1


def test_it_reclaims_a_job_whose_lease_expired(owner, dataset, groups):
    job = dedup_job_create(user=owner, dataset=dataset, method="exact")
    DedupJob.objects.filter(pk=job.pk).update(
        status="running", attempts=1, lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    dedup_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.attempts, job.clusters_found) == ("succeeded", 2, 3)


def test_it_ignores_archived_examples(owner, dataset, groups):
    Example.objects.filter(pk=groups[14].pk).update(status="archived")
    job = run_job(owner, dataset, method="exact")
    assert job.clusters_found == 2


@pytest.mark.parametrize("options", [{"method": "fuzzy"}, {"threshold": 0.3}, {"fields": "x"}])
def test_it_rejects_bad_options(owner, dataset, options):
    with pytest.raises(ApplicationError):
        dedup_job_create(user=owner, dataset=dataset, **options)
    assert not DedupJob.objects.exists()


def test_it_keeps_one_and_archives_the_others_with_new_revisions(owner, dataset, groups):
    run_job(owner, dataset, method="exact")
    cluster = DuplicateCluster.objects.get(dataset=dataset, members__example=groups[1])
    before = {e.pk: e.revision for e in groups}
    result = duplicate_clusters_resolve(
        user=owner, dataset=dataset, action="keep", cluster=cluster.pk, keep=groups[15].pk
    )
    assert result["archived"] == 2
    rows = {e.pk: e for e in Example.objects.filter(pk__in=[g.pk for g in groups[:20]])}
    assert rows[groups[15].pk].status == "draft"
    for pk in (groups[1].pk, groups[16].pk):
        assert rows[pk].status == "archived"
        assert rows[pk].revision == before[pk] + 1
    assert not DuplicateCluster.objects.filter(pk=cluster.pk).exists()


def test_it_refuses_to_keep_an_example_outside_the_cluster(owner, dataset, groups):
    run_job(owner, dataset, method="exact")
    cluster = DuplicateCluster.objects.filter(dataset=dataset).first()
    with pytest.raises(ApplicationError, match="not a member"):
        duplicate_clusters_resolve(
            user=owner, dataset=dataset, action="keep", cluster=cluster.pk, keep=groups[5].pk
        )
    assert not Example.objects.filter(status="archived").exists()


def test_it_remembers_not_duplicates_so_the_next_job_skips_the_pair(owner, dataset, groups):
    run_job(owner, dataset, method="near")
    near = DuplicateCluster.objects.get(dataset=dataset, members__example=groups[18])
    result = duplicate_clusters_resolve(
        user=owner, dataset=dataset, action="not_duplicates", cluster=near.pk
    )
    assert result["pairs"] == 1
    pair = NotDuplicatePair.objects.get()
    assert (pair.example_a_id, pair.example_b_id) == (groups[18].pk, groups[19].pk)
    run_job(owner, dataset, method="near")
    assert [groups[18].pk, groups[19].pk] not in clusters_of(dataset, "near")
    # the other clusters are still found
    assert len(clusters_of(dataset, "near")) == 3


def test_it_forgets_a_pair_only_for_the_pair_so_a_bigger_group_stays(owner, dataset, groups):
    run_job(owner, dataset, method="exact")
    tides = DuplicateCluster.objects.get(dataset=dataset, members__example=groups[1])
    NotDuplicatePair.objects.create(
        dataset=dataset, example_a_id=groups[1].pk, example_b_id=groups[15].pk
    )
    run_job(owner, dataset, method="exact")
    # 1~16 and 15~16 still join all three; the excluded pair is simply not an edge
    assert [groups[1].pk, groups[15].pk, groups[16].pk] in clusters_of(dataset, "exact")
    assert not DuplicateCluster.objects.filter(pk=tides.pk).exists()


def test_it_merges_the_tags_of_every_member(owner, dataset, groups, make_example):
    from datasets_app.services.examples import example_update

    example_update(user=owner, example=groups[1], expected_revision=1, changes={"tags": ["a"]})
    example_update(user=owner, example=groups[16], expected_revision=1, changes={"tags": ["b"]})
    run_job(owner, dataset, method="exact")
    cluster = DuplicateCluster.objects.get(dataset=dataset, members__example=groups[1])
    result = duplicate_clusters_resolve(
        user=owner, dataset=dataset, action="merge_tags", cluster=cluster.pk
    )
    assert result["tagged"] == 3
    for pk in (groups[1].pk, groups[15].pk, groups[16].pk):
        assert sorted(Example.objects.get(pk=pk).tags.values_list("name", flat=True)) == ["a", "b"]


def test_it_keeps_the_best_of_each_cluster(owner, dataset, groups):
    ids = [e.pk for e in groups]
    Example.objects.filter(pk=ids[14]).update(status="approved")  # approved beats draft
    Example.objects.filter(pk=ids[16]).update(rating=5)  # then the higher rating
    Example.objects.filter(pk=ids[15]).update(rating=4)
    Example.objects.filter(pk=ids[6]).update(updated_at=timezone.now() + timedelta(days=1))
    run_job(owner, dataset, method="exact")
    result = duplicate_clusters_resolve(
        user=owner, dataset=dataset, action="keep_best", clusters="all"
    )
    assert (result["archived"], result["clusters_resolved"]) == (4, 3)
    live = set(Example.objects.exclude(status="archived").values_list("pk", flat=True))
    assert {ids[14], ids[16], ids[6]} <= live
    assert not {ids[0], ids[1], ids[15], ids[17]} & live
    assert not DuplicateCluster.objects.filter(dataset=dataset).exists()


def test_it_never_archives_a_keeper_of_an_overlapping_cluster(owner, dataset, groups):
    run_job(owner, dataset, method="exact")
    run_job(owner, dataset, method="near")
    duplicate_clusters_resolve(user=owner, dataset=dataset, action="keep_best", clusters="all")
    live = set(Example.objects.exclude(status="archived").values_list("pk", flat=True))
    assert len(live) == 20 - 4 - 1
    for group in ([0, 14], [1, 15, 16], [6, 17], [18, 19]):
        assert sum(groups[i].pk in live for i in group) == 1


def test_it_changes_nothing_when_a_cluster_of_another_dataset_is_named(
    owner, team, dataset, groups, import_file
):
    second = Dataset.objects.create(team=team, name="second", created_by=owner)
    import_file(second, "alpaca_groups.json")
    run_job(owner, dataset, method="exact")
    run_job(owner, second, method="exact")
    mine = DuplicateCluster.objects.filter(dataset=dataset).first()
    theirs = DuplicateCluster.objects.filter(dataset=second).first()
    with pytest.raises(ApplicationError, match="not duplicate clusters of this dataset"):
        duplicate_clusters_resolve(
            user=owner, dataset=dataset, action="keep_best", clusters=[mine.pk, theirs.pk]
        )
    assert not Example.objects.filter(status="archived").exists()
    assert DuplicateCluster.objects.count() == 6


def test_it_finds_contamination_across_an_alpaca_and_a_chat_import(
    owner, team, dataset, import_file
):
    alpaca = import_file(dataset, "alpaca_small.json")
    evals = Dataset.objects.create(team=team, name="evals", created_by=owner)
    chat = import_file(evals, "chat_small.jsonl")
    assert {e.source_format for e in alpaca} != {e.source_format for e in chat}
    report = dataset_contamination(dataset=dataset, against=evals)
    pairs = {(o["a"], o["b"]): o for o in report["overlaps"]}
    assert pairs[(alpaca[0].pk, chat[0].pk)]["kind"] == "exact"
    assert pairs[(alpaca[2].pk, chat[1].pk)]["kind"] == "near"
    assert not any(o["b"] == chat[3].pk for o in report["overlaps"])
    assert report["count"] == report["exact"] + report["near"] == len(pairs)


def test_it_refuses_contamination_against_another_team(owner, dataset, other_dataset):
    with pytest.raises(ApplicationError, match="same team"):
        dataset_contamination(dataset=dataset, against=other_dataset)
