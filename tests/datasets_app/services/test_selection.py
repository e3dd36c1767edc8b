"""The selection token and check that keep a bulk action on the set a person confirmed."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from datasets_app.services.selection import selection_check, selection_token
from finetunedb.exceptions import ConflictError

ID_SETS = st.sets(st.integers(1, 2**40), max_size=60)


@given(ID_SETS)
def test_it_accepts_the_set_it_was_given(ids):
    pks = sorted(ids)
    selection_check(
        pks, expected_count=len(pks), expected_token=selection_token(len(pks), sum(pks))
    )


@given(ID_SETS, st.integers(1, 2**40))
def test_it_refuses_a_set_with_one_more_or_one_less(ids, extra):
    pks = sorted(ids)
    token = selection_token(len(pks), sum(pks))
    grown = sorted(ids | {extra})
    if grown != pks:
        with pytest.raises(ConflictError):
            selection_check(grown, expected_count=len(pks), expected_token=token)
        with pytest.raises(ConflictError):  # the token alone tells them apart too
            selection_check(grown, expected_token=token)


@given(ID_SETS.filter(bool), st.integers(1, 2**40))
def test_it_refuses_the_same_count_of_other_ids(ids, other):
    pks = sorted(ids)
    swapped = sorted((ids - {pks[0]}) | {other})
    if len(swapped) == len(pks) and sum(swapped) != sum(pks):
        with pytest.raises(ConflictError, match="not the same ones"):
            selection_check(
                swapped,
                expected_count=len(pks),
                expected_token=selection_token(len(pks), sum(pks)),
            )


def test_it_checks_nothing_without_an_expectation():
    selection_check([1, 2, 3])
