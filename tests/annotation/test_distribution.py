"""Distributing examples to annotators with overlap, and moving a removed annotator's work."""

import itertools
from collections import Counter

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from annotation.distribution import (
    Item,
    distribute,
    loads,
    redistribute_without,
)


def spread(values):
    return max(values) - min(values)


def test_it_gives_each_example_to_k_annotators_with_even_loads():
    items = distribute(list(range(10)), ["ann", "bob", "cy"], overlap=2, seed=7)
    per_example = Counter(item.example for item in items)
    assert per_example == dict.fromkeys(range(10), 2)
    assert sorted(loads(items).values()) == [6, 7, 7]
    assert all(item.open for item in items)


def test_it_refuses_an_overlap_larger_than_the_team():
    with pytest.raises(ValueError, match="overlap 3 needs at least 3 annotators, but only 2"):
        distribute([1, 2], ["ann", "bob"], overlap=3, seed=0)
    with pytest.raises(ValueError, match="overlap must be at least 1"):
        distribute([1, 2], ["ann", "bob"], overlap=0, seed=0)


def test_it_refuses_duplicate_ids():
    with pytest.raises(ValueError, match="annotator 'ann' is listed twice"):
        distribute([1], ["ann", "ann"], overlap=1, seed=0)
    with pytest.raises(ValueError, match="example 1 is listed twice"):
        distribute([1, 1], ["ann"], overlap=1, seed=0)


def test_it_refuses_to_move_work_when_too_few_annotators_remain():
    items = distribute([1, 2, 3], ["ann", "bob", "cy"], overlap=3, seed=0)
    with pytest.raises(ValueError, match="every remaining annotator already has it"):
        redistribute_without(items, removed="cy", annotators=["ann", "bob"], seed=0)


def test_it_keeps_the_removed_annotators_submitted_work():
    items = [
        Item(1, "cy", open=False),
        Item(1, "ann"),
        Item(2, "cy"),
        Item(2, "bob"),
    ]
    moves = redistribute_without(items, removed="cy", annotators=["ann", "bob"], seed=0)
    assert moves == [(2, "ann")]


@st.composite
def teams(draw):
    people = draw(st.integers(min_value=1, max_value=5))
    overlap = draw(st.integers(min_value=1, max_value=people))
    examples = draw(st.lists(st.integers(0, 10_000), max_size=14, unique=True))
    seed = draw(st.integers(0, 2**32))
    return examples, [f"u{i}" for i in range(people)], overlap, seed


@settings(max_examples=150, deadline=None)
@given(teams())
def test_it_assigns_k_distinct_balanced_annotators(team):
    examples, people, overlap, seed = team
    items = distribute(examples, people, overlap=overlap, seed=seed)
    pairs = {(item.example, item.annotator) for item in items}
    assert len(pairs) == len(items) == len(examples) * overlap
    assert Counter(item.example for item in items) == dict.fromkeys(examples, overlap)
    assert spread(loads(items, people).values()) <= 1


@settings(max_examples=60, deadline=None)
@given(teams(), st.randoms())
def test_it_is_deterministic_from_the_seed_whatever_the_input_order(team, rnd):
    examples, people, overlap, seed = team
    first = distribute(examples, people, overlap=overlap, seed=seed)
    shuffled_examples, shuffled_people = list(examples), list(people)
    rnd.shuffle(shuffled_examples)
    rnd.shuffle(shuffled_people)
    again = distribute(shuffled_examples, shuffled_people, overlap=overlap, seed=seed)
    assert set(first) == set(again)


def most_even_spread(items, removed, staying):
    """Brute force: the smallest spread any valid placement of the removed open items reaches."""
    kept = [i for i in items if not (i.annotator == removed and i.open)]
    base = loads((i for i in kept if i.annotator != removed), staying)
    holders = {}
    for i in kept:
        holders.setdefault(i.example, set()).add(i.annotator)
    moving = [i.example for i in items if i.annotator == removed and i.open]
    choices = [[p for p in staying if p not in holders.get(e, set())] for e in moving]
    best = None
    for placement in itertools.product(*choices):
        load = dict(base)
        for person in placement:
            load[person] += 1
        best = spread(load.values()) if best is None else min(best, spread(load.values()))
    return best


@settings(max_examples=200, deadline=None)
@given(teams(), st.data())
def test_it_moves_only_the_removed_annotators_open_items_keeping_k_and_balance(team, data):
    examples, people, overlap, seed = team
    assume(2 <= len(people) and overlap < len(people))
    items = distribute(examples, people, overlap=overlap, seed=seed)
    done = data.draw(st.sets(st.sampled_from(range(len(items))) if items else st.nothing()))
    items = [Item(i.example, i.annotator, open=n not in done) for n, i in enumerate(items)]
    removed = data.draw(st.sampled_from(people))
    staying = [p for p in people if p != removed]

    moves = redistribute_without(items, removed=removed, annotators=staying, seed=seed)

    moved = {example for example, _ in moves}
    assert moved == {i.example for i in items if i.annotator == removed and i.open}
    after = [i for i in items if not (i.annotator == removed and i.open)]
    after += [Item(example, annotator) for example, annotator in moves]
    assert Counter(i.example for i in after) == dict.fromkeys(examples, overlap)
    assert len({(i.example, i.annotator) for i in after}) == len(after)
    # Loads end within one of each other where any placement can do that, and otherwise as even
    # as the "k distinct annotators" constraint allows.
    reached = spread(loads((i for i in after if i.annotator != removed), staying).values())
    assert reached <= max(1, most_even_spread(items, removed, staying))
    # Nobody else's item changed hands.
    untouched = [i for i in items if i.annotator != removed]
    assert all(i in after for i in untouched)
    assert redistribute_without(items, removed=removed, annotators=staying, seed=seed) == moves
