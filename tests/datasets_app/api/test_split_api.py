"""POST /datasets/{id}/split/ and GET /datasets/{id}/leakage/."""

import pytest

from datasets_app.models import Example
from datasets_app.services.dedup import dedup_job_create, dedup_job_run

RATIOS = {"train": 0.8, "validation": 0.1, "test": 0.1}


def chat(text):
    return [{"role": "user", "content": text}, {"role": "assistant", "content": "ok " + text}]


@pytest.fixture
def examples(dataset, owner, make_example):
    made = []
    for i in range(60):
        # every 6th example repeats its predecessor: ten exact-duplicate pairs
        k = i - 1 if i % 6 == 5 else i
        text = f"question number {k} about topic {k % 3}"
        made.append(make_example(dataset, owner, chat(text), metadata={"topic": f"t{i % 3}"}))
    return made


@pytest.fixture
def split(api_for, owner, dataset):
    def run(user=owner, **body):
        return api_for(user).post(
            f"/api/v1/datasets/{dataset.pk}/split/", {"ratios": RATIOS, **body}, format="json"
        )

    return run


def splits_of(dataset):
    return dict(Example.objects.filter(dataset=dataset).values_list("pk", "split"))


def test_it_splits_deterministically_and_reports_counts(split, dataset, examples):
    response = split(seed=7, keep_existing=False)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["examples"] == 60 and sum(body["counts"].values()) == 60
    assert body["counts"]["train"] > body["counts"]["validation"]
    first = splits_of(dataset)
    assert "unassigned" not in first.values()
    Example.objects.filter(dataset=dataset).update(split="unassigned")
    assert split(seed=7, keep_existing=False).json()["counts"] == body["counts"]
    assert splits_of(dataset) == first
    split(seed=8, keep_existing=False)
    assert splits_of(dataset) != first


def test_it_never_moves_existing_examples_when_data_is_added(
    split, dataset, owner, examples, make_example
):
    split(seed=1)
    before = splits_of(dataset)
    revisions = dict(Example.objects.values_list("pk", "revision"))
    for i in range(40):
        make_example(dataset, owner, chat(f"a later question {i}"))
    body = split(seed=1).json()
    after = splits_of(dataset)
    assert body["changed"] == 40
    assert all(after[pk] == s for pk, s in before.items())
    assert "unassigned" not in after.values()
    # untouched examples keep their revision; written ones moved theirs
    assert all(e.revision == revisions[e.pk] for e in Example.objects.filter(pk__in=list(before)))


def test_it_keeps_manual_overrides(split, api_for, owner, dataset, examples):
    target = examples[3]
    response = api_for(owner).patch(
        f"/api/v1/examples/{target.pk}/", {"split": "test"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert response.status_code == 200
    body = split(seed=2, keep_existing=False).json()
    assert body["locked"] == 1
    target.refresh_from_db()
    assert (target.split, target.split_locked, target.revision) == ("test", True, 2)


def test_it_keeps_duplicates_together_so_leakage_is_zero(
    split, api_for, owner, dataset, examples, django_capture_on_commit_callbacks
):
    job = dedup_job_create(user=owner, dataset=dataset, method="near", threshold=0.5)
    dedup_job_run(job_id=job.pk)
    body = split(seed=3, keep_existing=False).json()
    assert body["grouped"] > 0
    report = api_for(owner).get(f"/api/v1/datasets/{dataset.pk}/leakage/").json()
    assert report["pair_count"] == 0 and report["pairs"] == []
    assert sum(report["counts"].values()) == 60
    # without grouping some duplicate pair straddles splits for some seed
    leaked = 0
    for seed in range(10):
        split(seed=seed, keep_existing=False, group_near_duplicates=False)
        leaked += api_for(owner).get(f"/api/v1/datasets/{dataset.pk}/leakage/").json()["pair_count"]
    assert leaked > 0


def test_it_stratifies_by_metadata_and_by_tag(split, api_for, owner, dataset, examples):
    body = split(seed=4, keep_existing=False, stratify_by="metadata:topic").json()
    assert set(body["strata"]) == {"t0", "t1", "t2"}
    for counts in body["strata"].values():
        # 20 examples per topic: 80/10/10 as nearly as the duplicate groups allow
        assert 14 <= counts["train"] <= 18 and counts["validation"] >= 1 and counts["test"] >= 1
    report = (
        api_for(owner)
        .get(f"/api/v1/datasets/{dataset.pk}/leakage/", {"stratify_by": "metadata:topic"})
        .json()
    )
    assert {k: v["train"] for k, v in report["strata"].items()} == {
        k: v["train"] for k, v in body["strata"].items()
    }
    api_for(owner).post(
        f"/api/v1/datasets/{dataset.pk}/examples/bulk/",
        {"action": "add_tags", "value": "hard", "ids": [e.pk for e in examples[:10]]},
        format="json",
    )
    body = split(seed=4, keep_existing=False, stratify_by="tag:hard").json()
    assert sum(body["strata"]["hard"].values()) == 10


@pytest.mark.parametrize(
    "body",
    [
        {"ratios": {"train": 0.8, "test": 0.1}},
        {"ratios": {"train": 0.5, "dev": 0.5}},
        {"stratify_by": "colour"},
        {"stratify_by": "metadata:bad key"},
    ],
)
def test_it_rejects_bad_input_and_writes_nothing(split, dataset, examples, body):
    response = split(**body)
    assert response.status_code == 400
    assert set(splits_of(dataset).values()) == {"unassigned"}


def test_it_forbids_an_annotator_to_split(split, teammate, dataset, examples):
    assert split(user=teammate).status_code == 403
    assert set(splits_of(dataset).values()) == {"unassigned"}
