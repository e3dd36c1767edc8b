import random

import pytest

from datasets_app import canonical
from datasets_app.models import CheckResult, Dataset, DatasetVersion, VersionEntry
from finetunedb.exceptions import ApplicationError, ConflictError

from .conftest import chat

pytestmark = pytest.mark.postgres

ROWS = [(f"question {i}", f"answer {i}", ["train", "validation", "test"][i % 3]) for i in range(12)]


def _fill(dataset, user, make_example, rows):
    return [make_example(dataset, user, chat(q, a), split=s) for q, a, s in rows]


def test_it_snapshots_the_live_examples_with_their_splits(dataset, owner, make_example, freeze):
    examples = _fill(dataset, owner, make_example, ROWS)
    version = freeze(dataset, name="first", notes="initial")
    assert (version.number, version.name, version.notes, version.parent) == (
        1,
        "first",
        "initial",
        None,
    )
    assert version.counts == {"test": 4, "train": 4, "validation": 4}
    entries = {e.example_id: e for e in VersionEntry.objects.filter(version=version)}
    assert set(entries) == {e.pk for e in examples}
    for ex in examples:
        assert entries[ex.pk].revision_id == ex.current_revision_id
        assert entries[ex.pk].split == ex.split
        assert entries[ex.pk].content_hash == ex.content_hash
    assert version.content_hash == canonical.version_hash(
        (e.split, e.content_hash) for e in examples
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_it_gives_the_same_hash_for_the_same_content_whatever_the_ids_and_order(
    team, owner, make_example, freeze, seed
):
    first = Dataset.objects.create(team=team, name="first")
    second = Dataset.objects.create(team=team, name="second")
    _fill(first, owner, make_example, ROWS)
    shuffled = ROWS[:]
    random.Random(seed).shuffle(shuffled)
    # Unrelated rows first, archived, so the ids differ as well as the order.
    for i in range(seed):
        make_example(second, owner, chat(f"noise {i}"), status="archived")
    _fill(second, owner, make_example, shuffled)
    assert freeze(first).content_hash == freeze(second).content_hash


def test_it_changes_the_hash_when_only_a_split_changes(dataset, owner, make_example, freeze, edit):
    examples = _fill(dataset, owner, make_example, ROWS)
    before = freeze(dataset).content_hash
    edit(examples[0], split="test")
    assert freeze(dataset).content_hash != before


def test_it_numbers_versions_and_links_each_to_its_parent(example, dataset, freeze):
    v1, v2, v3 = freeze(dataset), freeze(dataset), freeze(dataset)
    assert [v.number for v in (v1, v2, v3)] == [1, 2, 3]
    assert (v2.parent, v3.parent) == (v1, v2)
    assert v3.name == "v3"


def test_it_leaves_archived_examples_out(dataset, owner, make_example, freeze):
    kept = make_example(dataset, owner, chat("kept"))
    make_example(dataset, owner, chat("gone"), status="archived")
    version = freeze(dataset)
    assert list(version.entries.values_list("example_id", flat=True)) == [kept.pk]
    assert version.stats["by_status"] == {"archived": 1, "draft": 1}


def test_it_refuses_to_freeze_an_empty_dataset(dataset, owner, make_example, freeze):
    make_example(dataset, owner, status="archived")
    with pytest.raises(ApplicationError) as info:
        freeze(dataset)
    assert info.value.status_code == 400
    assert not DatasetVersion.objects.exists()


def _error(dataset, example, rule="empty_assistant"):
    return CheckResult.objects.create(
        dataset=dataset, example=example, rule_id=rule, severity="error", message="no answer"
    )


def test_it_blocks_a_freeze_on_error_level_findings(dataset, example, freeze):
    _error(dataset, example)
    _error(dataset, None, rule="too_few_examples")
    CheckResult.objects.create(
        dataset=dataset, example=example, rule_id="long", severity="warning", message="long"
    )
    with pytest.raises(ConflictError) as info:
        freeze(dataset)
    blockers = info.value.extra["blockers"]
    assert [(b["rule_id"], b["count"]) for b in blockers] == [
        ("empty_assistant", 1),
        ("too_few_examples", 1),
    ]
    assert blockers[0]["example_ids"] == [example.pk]
    assert not DatasetVersion.objects.exists()


def test_it_ignores_findings_on_archived_examples(dataset, owner, example, make_example, freeze):
    archived = make_example(dataset, owner, chat("old"), status="archived")
    _error(dataset, archived)
    assert freeze(dataset).forced is False


def test_it_needs_a_reason_to_force_a_freeze(dataset, example, freeze):
    _error(dataset, example)
    with pytest.raises(ApplicationError) as info:
        freeze(dataset, force=True, reason="  ")
    assert info.value.status_code == 400
    version = freeze(dataset, force=True, reason="known issue, fixing in v2")
    assert version.forced and version.force_reason == "known issue, fixing in v2"
    assert version.check_report["forced_past"][0]["rule_id"] == "empty_assistant"
    assert version.check_report["by_rule"]["empty_assistant"] == {"severity": "error", "count": 1}


def test_it_requires_approval_when_the_dataset_says_so(dataset, owner, make_example, freeze):
    approved = make_example(dataset, owner, chat("a"), status="approved")
    pending = make_example(dataset, owner, chat("b"), status="needs_review")
    dataset.settings = {"require_approval": True}
    dataset.save()
    with pytest.raises(ConflictError) as info:
        freeze(dataset)
    [blocker] = info.value.extra["blockers"]
    assert (blocker["rule_id"], blocker["count"], blocker["example_ids"]) == (
        "require_approval",
        1,
        [pending.pk],
    )
    pending.status = "approved"
    pending.save()
    assert freeze(dataset).total == 2
    assert approved.pk in freeze(dataset).entries.values_list("example_id", flat=True)


def test_it_lets_only_curators_freeze(dataset, example, teammate, freeze):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        freeze(dataset, user=teammate)


def test_it_keeps_name_and_notes_editable(dataset, example, freeze, owner):
    from datasets_app.services.versions import dataset_version_update

    version = freeze(dataset)
    dataset_version_update(user=owner, version=version, name="renamed", notes="better notes")
    version.refresh_from_db()
    assert (version.name, version.notes) == ("renamed", "better notes")


def test_it_refuses_to_delete_a_dataset_with_frozen_versions(api_for, owner, dataset, example):
    from datasets_app.models import Dataset
    from datasets_app.services.versions import dataset_version_freeze

    dataset_version_freeze(user=owner, dataset=dataset, name="v1")
    response = api_for(owner).delete(f"/api/v1/datasets/{dataset.pk}/")
    assert response.status_code == 409
    assert response.json()["code"] == "has_versions"
    assert Dataset.objects.filter(pk=dataset.pk).exists()
