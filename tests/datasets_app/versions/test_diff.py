import pytest

from datasets_app.models import CheckResult
from datasets_app.services.versions import dataset_version_diff
from finetunedb.exceptions import ApplicationError

from .conftest import chat

pytestmark = pytest.mark.postgres


@pytest.fixture
def pair(dataset, owner, make_example, freeze, edit):
    """v1 → v2 with one example of each kind of change."""
    same = make_example(dataset, owner, chat("same"), split="train")
    changed = make_example(dataset, owner, chat("old question", "old answer", "sys"), split="train")
    moved = make_example(dataset, owner, chat("moved"), split="train")
    removed = make_example(dataset, owner, chat("removed"), split="test")
    CheckResult.objects.create(
        dataset=dataset, example=removed, rule_id="long", severity="warning", message="m"
    )
    v1 = freeze(dataset)
    edit(changed, messages=chat("old question", "new answer", "sys") + chat("more", "turns"))
    edit(moved, split="validation")
    edit(removed, status="archived")
    added = make_example(dataset, owner, chat("added"), split="test")
    v2 = freeze(dataset)
    ids = {"same": same, "changed": changed, "moved": moved, "removed": removed, "added": added}
    return v1, v2, {k: v.pk for k, v in ids.items()}


def test_it_finds_added_removed_changed_and_moved_examples(pair):
    v1, v2, ids = pair
    diff = dataset_version_diff(version=v2, against=v1)
    assert diff["summary"] == {
        "added": 1,
        "removed": 1,
        "changed": 1,
        "moved": 1,
        "unchanged": 1,
    }
    kinds = {item["example_id"]: item["kinds"] for item in diff["results"]}
    assert kinds == {
        ids["added"]: ["added"],
        ids["removed"]: ["removed"],
        ids["changed"]: ["changed"],
        ids["moved"]: ["moved"],
    }
    moved = next(i for i in diff["results"] if i["example_id"] == ids["moved"])
    assert (moved["old"]["split"], moved["new"]["split"]) == ("train", "validation")
    added = next(i for i in diff["results"] if i["example_id"] == ids["added"])
    assert added["new"]["messages"] == chat("added")


def test_it_diffs_changed_examples_turn_by_turn(pair):
    v1, v2, ids = pair
    diff = dataset_version_diff(version=v2, against=v1, kind="changed")
    [item] = diff["results"]
    turns = item["messages"]
    assert [(c["old_index"], c["new_index"]) for c in turns["changed"]] == [(2, 2)]
    assert (turns["changed"][0]["old"]["content"], turns["changed"][0]["new"]["content"]) == (
        "old answer",
        "new answer",
    )
    assert [(a["index"], a["message"]["content"]) for a in turns["added"]] == [
        (3, "more"),
        (4, "turns"),
    ]
    assert turns["removed"] == []


def test_it_reports_the_change_in_counts_and_checks(pair):
    v1, v2, _ = pair
    diff = dataset_version_diff(version=v2, against=v1)
    counts = {c["path"]: (c["old"], c["new"]) for c in diff["counts_change"]}
    assert counts == {"train": (3, 2), "validation": (0, 1)}
    assert diff["checks_change"] == [
        {"rule_id": "long", "severity": "warning", "old": 1, "new": 0, "delta": -1}
    ]


def test_it_pages_a_large_diff_in_example_order(pair):
    v1, v2, ids = pair
    pages = [
        dataset_version_diff(version=v2, against=v1, page=p, page_size=1) for p in (1, 2, 3, 4, 5)
    ]
    assert [p["num_pages"] for p in pages] == [4] * 5
    seen = [i["example_id"] for p in pages for i in p["results"]]
    assert seen == sorted({ids["added"], ids["removed"], ids["changed"], ids["moved"]})


def test_it_answers_the_reverse_diff_symmetrically(pair):
    v1, v2, ids = pair
    diff = dataset_version_diff(version=v1, against=v2)
    assert (diff["summary"]["added"], diff["summary"]["removed"]) == (1, 1)
    kinds = {item["example_id"]: item["kinds"] for item in diff["results"]}
    assert kinds[ids["removed"]] == ["added"] and kinds[ids["added"]] == ["removed"]


def test_it_finds_nothing_between_a_version_and_itself(pair):
    v1, _, _ = pair
    diff = dataset_version_diff(version=v1, against=v1)
    assert diff["results"] == [] and diff["summary"]["unchanged"] == v1.total


@pytest.mark.parametrize("params", [{"page": "x"}, {"page_size": -1}, {"kind": "renamed"}])
def test_it_rejects_bad_paging_and_kinds(pair, params):
    v1, v2, _ = pair
    with pytest.raises(ApplicationError):
        dataset_version_diff(version=v2, against=v1, **params)
