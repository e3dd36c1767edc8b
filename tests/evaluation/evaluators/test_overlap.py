import pytest
from hypothesis import given
from hypothesis import strategies as st

from evaluation.evaluators import Item, evaluator_build
from evaluation.evaluators.overlap import lcs_length, rouge_l, rouge_tokens, token_f1


def lcs_reference(a, b):
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            table[i + 1][j + 1] = (
                table[i][j] + 1 if x == y else max(table[i][j + 1], table[i + 1][j])
            )
    return table[-1][-1]


words = st.lists(st.sampled_from(["a", "b", "c", "the", "cat"]), max_size=40)
texts = st.lists(st.sampled_from(["a", "b", "c", "The", "cat", "dog", "."]), max_size=30).map(
    " ".join
)


@given(words, words)
def test_it_computes_the_lcs_as_the_textbook_table_does(a, b):
    assert lcs_length(a, b) == lcs_reference(a, b)


def test_it_scores_rouge_l_on_a_worked_example():
    # LCS("the cat sat on the mat", "the cat on a mat") = "the cat on mat" = 4;
    # P = 4/5 (output), R = 4/6 (reference), F = 2PR/(P+R) = 8/11.
    precision, recall, f1 = rouge_l("the cat on a mat", "the cat sat on the mat")
    assert (precision, recall) == (4 / 5, 4 / 6)
    assert f1 == pytest.approx(8 / 11)


@given(texts, texts)
def test_it_keeps_rouge_l_in_the_unit_interval_and_one_only_for_equal_tokens(a, b):
    f1 = rouge_l(a, b)[2]
    assert 0.0 <= f1 <= 1.0
    assert (f1 == 1.0) == (rouge_tokens(a) == rouge_tokens(b))


@given(texts, texts)
def test_it_keeps_rouge_l_f_symmetric(a, b):
    assert rouge_l(a, b)[2] == pytest.approx(rouge_l(b, a)[2])


def test_it_scores_token_f1_as_squad_does():
    # SQuAD: "the" dropped, punctuation dropped; common {cat, sat} = 2, P = 2/3, R = 2/2.
    assert token_f1("A cat sat down.", "The cat sat") == pytest.approx(0.8)
    assert token_f1("", "") == 1.0
    assert token_f1("the", "cat") == 0.0  # "the" normalises away: one side empty


@given(texts, texts)
def test_it_keeps_token_f1_symmetric_and_bounded(a, b):
    assert token_f1(a, b) == pytest.approx(token_f1(b, a))
    assert 0.0 <= token_f1(a, b) <= 1.0


def test_it_passes_overlap_at_the_threshold():
    spec = {"type": "rouge_l", "params": {"threshold": 0.7}}
    result = evaluator_build(spec).score(Item("q", "the cat sat on the mat", "the cat on a mat"))
    assert result.passed and result.value == pytest.approx(8 / 11)
    f1 = evaluator_build({"type": "token_f1"}).score(Item("q", None, "x"))
    assert f1.value is None


def test_it_scores_long_answers_quickly():
    long = " ".join(f"w{i % 97}" for i in range(5000))
    assert rouge_l(long, long)[2] == 1.0
