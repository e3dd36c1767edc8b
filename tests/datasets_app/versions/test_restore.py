import pytest

from datasets_app.models import Example, ExampleRevision, RestoreChange
from datasets_app.services.versions import dataset_version_restore, version_restore_undo
from finetunedb.exceptions import ConflictError

from .conftest import chat

pytestmark = pytest.mark.postgres


def _state(dataset):
    return {
        e.pk: (e.current_revision.messages, e.split, e.status)
        for e in Example.objects.filter(dataset=dataset).select_related("current_revision")
    }


@pytest.fixture
def drifted(dataset, owner, make_example, freeze, edit):
    """v1 frozen, then the working copy drifted in every way a restore must undo."""
    a = make_example(dataset, owner, chat("a"), split="train", status="approved")
    b = make_example(dataset, owner, chat("b"), split="train")
    c = make_example(dataset, owner, chat("c"), split="test", status="needs_review")
    untouched = make_example(dataset, owner, chat("d"), split="test")
    v1 = freeze(dataset)
    frozen = _state(dataset)
    edit(a, messages=chat("a, rewritten"))
    edit(b, split="validation")
    edit(c, status="archived")
    extra = make_example(dataset, owner, chat("new"))
    return v1, frozen, {"a": a, "b": b, "c": c, "d": untouched, "extra": extra}


def test_it_makes_the_working_copy_equal_the_version(drifted, dataset, owner, freeze):
    v1, frozen, ex = drifted
    drifted_state = _state(dataset)
    restore = dataset_version_restore(user=owner, version=v1)
    now = _state(dataset)
    assert {pk: now[pk] for pk in frozen} == frozen
    assert now[ex["extra"].pk][2] == "archived"
    assert restore.counts == {
        "content": 1,
        "split": 1,
        "archived": 1,
        "reactivated": 1,
        "examples": 4,
    }
    assert freeze(dataset).content_hash == v1.content_hash
    assert drifted_state != now


def test_it_writes_new_revisions_and_bumps_counters(drifted, owner):
    v1, _, ex = drifted
    a = Example.objects.get(pk=ex["a"].pk)
    counter, revisions = a.revision, ExampleRevision.objects.filter(example=a).count()
    dataset_version_restore(user=owner, version=v1)
    a.refresh_from_db()
    assert a.revision == counter + 1
    assert ExampleRevision.objects.filter(example=a).count() == revisions + 1
    assert a.current_revision.number == revisions + 1
    assert a.current_revision_id != v1.entries.get(example=a).revision_id
    untouched = Example.objects.get(pk=ex["d"].pk)
    assert untouched.revision == 1


def test_it_deletes_nothing(drifted, dataset, owner):
    v1, _, _ = drifted
    examples = Example.objects.filter(dataset=dataset).count()
    revisions = ExampleRevision.objects.count()
    dataset_version_restore(user=owner, version=v1)
    assert Example.objects.filter(dataset=dataset).count() == examples
    assert ExampleRevision.objects.count() > revisions


def test_it_undoes_a_restore(drifted, dataset, owner):
    v1, _, _ = drifted
    drifted_state = _state(dataset)
    restore = dataset_version_restore(user=owner, version=v1)
    version_restore_undo(user=owner, restore=restore)
    assert _state(dataset) == drifted_state
    restore.refresh_from_db()
    assert restore.undone_by == owner
    with pytest.raises(ConflictError):
        version_restore_undo(user=owner, restore=restore)


def test_it_refuses_to_undo_over_later_edits(drifted, dataset, owner, edit):
    v1, _, ex = drifted
    restore = dataset_version_restore(user=owner, version=v1)
    edit(ex["a"], messages=chat("edited after the restore"))
    before = _state(dataset)
    with pytest.raises(ConflictError) as info:
        version_restore_undo(user=owner, restore=restore)
    assert str(ex["a"].pk) in info.value.message
    assert _state(dataset) == before


def test_it_records_nothing_to_change_when_already_equal(dataset, example, owner, freeze):
    v1 = freeze(dataset)
    restore = dataset_version_restore(user=owner, version=v1)
    assert restore.counts["examples"] == 0
    assert not RestoreChange.objects.filter(restore=restore).exists()
