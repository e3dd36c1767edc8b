import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation.evaluators import Item, evaluator_build
from evaluation.evaluators.text import normalize


def score(spec, output, reference=None, prompt="q"):
    return evaluator_build(spec).score(Item(prompt, reference, output))


@pytest.mark.parametrize(
    ("output", "reference", "passed"),
    [
        ("Paris", "Paris", True),
        ("  paris. ", "Paris", True),
        ("The  answer:\nParis!", "the answer paris", True),
        ("Ｐａｒｉｓ", "paris", True),  # NFKC: full-width letters
        ("Paris, France", "Paris", False),
        ("", "", True),
    ],
)
def test_it_matches_exactly_after_normalising(output, reference, passed):
    result = score({"type": "exact_match"}, output, reference)
    assert (result.value, result.passed) == (float(passed), passed)


def test_it_matches_exactly_without_normalising_when_asked():
    spec = {"type": "exact_match", "params": {"case": False, "punctuation": False}}
    assert not score(spec, "paris", "Paris").passed
    assert not score(spec, "Paris.", "Paris").passed
    assert score(spec, " Paris ", "Paris").passed


def test_it_leaves_an_item_without_reference_unscored():
    result = score({"type": "exact_match"}, "Paris", None)
    assert result.value is None and result.reason == "no_reference"


@given(st.text())
def test_it_finds_every_text_exactly_equal_to_itself(text):
    assert score({"type": "exact_match"}, text, text).passed


def test_it_composes_a_letter_and_a_mark_that_punctuation_kept_apart():
    # Hypothesis found it: without a second NFKC, the first pass left "c" + U+0327, the second "ç".
    assert normalize("C:\u0327") == normalize(normalize("C:\u0327")) == "\xe7"


@settings(max_examples=2000)
@given(st.text())
def test_it_normalises_idempotently(text):
    assert normalize(normalize(text)) == normalize(text)


def test_it_checks_containment():
    assert score({"type": "contains"}, "The capital is PARIS.", "paris").passed
    assert not score(
        {"type": "contains", "params": {"case_sensitive": True}}, "PARIS", "paris"
    ).passed
    assert score({"type": "contains", "params": {"value": "42"}}, "it is 42", None).passed
    assert score({"type": "contains"}, "x", None).reason == "no_reference"


def test_it_matches_a_regex_in_linear_time():
    spec = {"type": "regex", "params": {"pattern": "^(a+)+$"}}
    assert score(spec, "aaaa").passed
    assert not score(spec, "a" * 5000 + "!").passed  # backtracking re would take forever
    negated = {"type": "regex", "params": {"pattern": "(?i)as an ai", "must_match": False}}
    assert score(negated, "Sure, here it is").passed
    assert not score(negated, "As an AI, I cannot").passed


@pytest.mark.parametrize(
    ("unit", "output", "length"),
    [("chars", "héllo", 5), ("words", "one two  three\nfour", 4), ("tokens", "hello world", 2)],
)
def test_it_measures_length_in_each_unit(unit, output, length):
    result = score({"type": "length_bounds", "params": {"unit": unit, "min": 1, "max": 4}}, output)
    assert result.detail["length"] == length
    assert result.passed is (1 <= length <= 4)


def test_it_bounds_length_on_one_side():
    assert score({"type": "length_bounds", "params": {"max": 3}}, "").passed
    assert not score({"type": "length_bounds", "params": {"min": 3}}, "ab").passed


@pytest.mark.parametrize(
    ("output", "refused"),
    [
        ("I'm sorry, but I can't help with that.", True),
        ("As an AI language model, I cannot browse the web.", True),
        ("Lo siento, pero no puedo ayudar con eso.", True),
        ("Je suis désolé, mais je ne peux pas faire cela.", True),
        ("Es tut mir leid, aber ich kann das nicht tun.", True),
        ("抱歉，我不能帮助你。", True),
        ("Sure! The capital of France is Paris.", False),
        ("I can help with that: 2 + 2 = 4.", False),
    ],
)
def test_it_detects_refusals(output, refused):
    result = score({"type": "refusal"}, output)
    assert result.detail["refused"] is refused
    assert result.passed is not refused
    assert score({"type": "refusal", "params": {"pass_when": "refused"}}, output).passed is refused


def test_it_takes_extra_refusal_phrases():
    spec = {"type": "refusal", "params": {"extra_phrases": ["That's outside my scope"]}}
    assert score(spec, "Hmm, that is... that's outside my scope, sorry").detail["refused"]
