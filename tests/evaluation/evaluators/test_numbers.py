from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evaluation.evaluators import Item, evaluator_build
from evaluation.evaluators.numbers import extract_number

GSM8K_REFERENCE = (
    "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n"
    "Natalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.\n#### 72"
)


def score(output, reference, **params):
    spec = {"type": "final_number", "params": params}
    return evaluator_build(spec).score(Item("q", reference, output))


@pytest.mark.parametrize(
    ("text", "value", "source"),
    [
        (GSM8K_REFERENCE, Fraction(72), "####"),
        ("#### 1,000", Fraction(1000), "####"),
        ("#### -3", Fraction(-3), "####"),
        ("The answer is $\\boxed{3/4}$.", Fraction(3, 4), "boxed"),
        ("$\\boxed{\\frac{3}{4}}$", Fraction(3, 4), "boxed"),
        ("\\boxed{\\dfrac{10}{4}} and later 7", Fraction(5, 2), "boxed"),
        ("\\boxed{x = {2}}", Fraction(2), "boxed"),
        ("She paid $1,234.50 in total.", Fraction(246_9, 2), "last"),
        ("It went from 5 to −12 degrees", Fraction(-12), "last"),
        ("about .5 of it", Fraction(1, 2), "last"),
        ("so 18 + 54 = 72.", Fraction(72), "last"),
        ("3 out of 4, i.e. 3/4", Fraction(3, 4), "last"),
        ("+7", Fraction(7), "last"),
        ("no digits here", None, ""),
    ],
)
def test_it_extracts_the_final_number(text, value, source):
    assert extract_number(text) == (value, source)


@pytest.mark.parametrize(
    ("output", "reference", "passed"),
    [
        ("Natalia sold 72 clips.", GSM8K_REFERENCE, True),
        ("#### 72.0", "#### 72", True),
        ("The answer is 0.75", "\\boxed{3/4}", True),
        ("I think 71", GSM8K_REFERENCE, False),
        ("no idea", GSM8K_REFERENCE, False),
        ("#### 1,234", "1234", True),
    ],
)
def test_it_compares_final_numbers(output, reference, passed):
    assert score(output, reference).passed is passed


def test_it_compares_with_a_tolerance():
    assert not score("3.14", "#### 3.14159").passed
    assert score("3.14", "#### 3.14159", tolerance=0.01).passed
    assert score("1001", "#### 1000", tolerance=0.001, relative=True).passed
    assert not score("1002", "#### 1000", tolerance=0.001, relative=True).passed


def test_it_leaves_a_reference_without_number_unscored():
    result = score("72", "seventy-two")
    assert result.value is None and result.reason == "reference_has_no_number"


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_it_reads_back_any_integer_written_with_separators(n):
    assert extract_number(f"so it is {n:,}.")[0] == n
    assert extract_number(f"#### {n}")[0] == n


@given(st.integers(-1000, 1000), st.integers(1, 1000))
def test_it_reads_back_any_fraction(numerator, denominator):
    text = f"\\boxed{{\\frac{{{abs(numerator)}}}{{{denominator}}}}}"
    assert extract_number(text)[0] == Fraction(abs(numerator), denominator)
