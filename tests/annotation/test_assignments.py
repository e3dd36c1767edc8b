"""assignment_create: who gets which example, and what is refused (nothing stored then)."""

from collections import Counter

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from annotation.models import Assignment, AssignmentItem, ItemStatus
from annotation.services.assignments import assignment_annotator_remove, assignment_create
from finetunedb.exceptions import ApplicationError
from tests.factories import MembershipFactory


def chat(text):
    return [{"role": "user", "content": text}, {"role": "assistant", "content": "ok " + text}]


@pytest.fixture
def examples(dataset, owner, make_example):
    return [make_example(dataset, owner, messages=chat(f"question {i}")) for i in range(7)]


@pytest.fixture
def third(make_user, team):
    user = make_user("dora")
    MembershipFactory(team=team, user=user, role="curator")
    return user


def test_it_gives_each_example_to_overlap_annotators_evenly(
    dataset, owner, teammate, third, examples
):
    assignment = assignment_create(
        user=owner,
        dataset=dataset,
        annotator_ids=[owner.pk, teammate.pk, third.pk],
        overlap=2,
        guidelines="# Label\nPick *helpful* or *not*.",
        seed="s1",
    )
    items = list(AssignmentItem.objects.filter(assignment=assignment))
    assert Counter(i.example_id for i in items) == {e.pk: 2 for e in examples}
    assert sorted(Counter(i.annotator_id for i in items).values()) == [4, 5, 5]
    assert {i.status for i in items} == {ItemStatus.OPEN}
    assert assignment.seed == "s1" and assignment.guidelines_version == 1


def test_it_replays_the_same_distribution_from_the_seed(dataset, owner, teammate, examples):
    def who(assignment):
        return set(assignment.items.values_list("example_id", "annotator_id"))

    ids = [owner.pk, teammate.pk]
    first = assignment_create(user=owner, dataset=dataset, annotator_ids=ids, overlap=1, seed="x")
    again = assignment_create(user=owner, dataset=dataset, annotator_ids=ids, overlap=1, seed="x")
    assert who(first) == who(again)


def test_it_refuses_an_overlap_above_the_annotator_count(dataset, owner, teammate, examples):
    with pytest.raises(ApplicationError, match="overlap 3 needs at least 3 annotators"):
        assignment_create(
            user=owner, dataset=dataset, annotator_ids=[owner.pk, teammate.pk], overlap=3
        )
    assert not Assignment.objects.exists()


def test_it_refuses_annotators_outside_the_team(dataset, owner, outsider, other_team, examples):
    with pytest.raises(ApplicationError, match=f"annotators: {outsider.pk} cannot annotate"):
        assignment_create(
            user=owner, dataset=dataset, annotator_ids=[owner.pk, outsider.pk], overlap=1
        )
    assert not AssignmentItem.objects.exists()


def test_it_refuses_examples_of_another_dataset(dataset, owner, examples, other_dataset, outsider):
    with pytest.raises(ApplicationError, match="are not examples of this dataset"):
        assignment_create(
            user=owner,
            dataset=dataset,
            annotator_ids=[owner.pk],
            overlap=1,
            example_ids=[examples[0].pk, 10**9],
        )
    assert not Assignment.objects.exists()


def test_it_refuses_an_empty_dataset(dataset, owner):
    with pytest.raises(ApplicationError, match="no examples to assign"):
        assignment_create(user=owner, dataset=dataset, annotator_ids=[owner.pk], overlap=1)


def test_it_lets_only_curators_create_and_hides_other_teams(
    dataset, owner, teammate, outsider, examples
):
    with pytest.raises(PermissionDenied):
        assignment_create(user=teammate, dataset=dataset, annotator_ids=[owner.pk], overlap=1)
    with pytest.raises(Http404):
        assignment_create(user=outsider, dataset=dataset, annotator_ids=[owner.pk], overlap=1)
    assert not Assignment.objects.exists()


@pytest.mark.parametrize("overlap", [1, 2])
def test_it_moves_a_removed_annotators_open_items_to_the_others(
    dataset, owner, teammate, third, make_user, team, examples, overlap
):
    fourth = make_user("erin")
    MembershipFactory(team=team, user=fourth, role="annotator")
    people = [owner.pk, teammate.pk, third.pk, fourth.pk]
    assignment = assignment_create(
        user=owner, dataset=dataset, annotator_ids=people, overlap=overlap, seed="r"
    )
    done = assignment.items.filter(annotator=third).first()
    done.status = ItemStatus.SUBMITTED
    done.save()
    open_before = assignment.items.filter(annotator=third, status=ItemStatus.OPEN).count()

    moved = assignment_annotator_remove(user=owner, assignment=assignment, annotator_id=third.pk)

    assert moved == open_before > 0
    items = list(assignment.items.all())
    assert [i.pk for i in items if i.annotator_id == third.pk] == [done.pk]
    assert Counter(i.example_id for i in items) == {e.pk: overlap for e in examples}
    assert len({(i.example_id, i.annotator_id) for i in items}) == len(items)
    if overlap == 1:
        # Anyone may take any moved item, so loads end within one (with overlap 2 the pure
        # module's property test checks "as even as the constraint allows").
        load = Counter(i.annotator_id for i in items if i.annotator_id != third.pk)
        assert max(load.values()) - min(load.values()) <= 1


def test_it_refuses_to_remove_when_too_few_annotators_would_remain(
    dataset, owner, teammate, examples
):
    assignment = assignment_create(
        user=owner, dataset=dataset, annotator_ids=[owner.pk, teammate.pk], overlap=2
    )
    with pytest.raises(ApplicationError, match="every remaining annotator already has it"):
        assignment_annotator_remove(user=owner, assignment=assignment, annotator_id=teammate.pk)
    assert assignment.items.filter(annotator=teammate).count() == len(examples)
