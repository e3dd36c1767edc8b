from hypothesis import given
from hypothesis import strategies as st

from datasets_app.dedup.worddiff import word_diff

words = st.lists(st.sampled_from(["a", "b", "c", "dog", "cat", "\n", "  "]), max_size=30).map(
    " ".join
)


def test_it_marks_the_changed_word():
    assert word_diff("the cat sat", "the dog sat") == [
        ("same", "the "),
        ("del", "cat"),
        ("ins", "dog"),
        ("same", " sat"),
    ]


def test_it_says_nothing_changed_for_equal_texts():
    assert word_diff("same text here", "same text here") == [("same", "same text here")]


@given(words, words)
def test_it_rebuilds_both_texts_from_the_segments(a, b):
    segments = word_diff(a, b)
    new = "".join(t for kind, t in segments if kind != "del")
    old = "".join(t for kind, t in segments if kind != "ins")
    assert new == b
    # whitespace both share is shown as the new text has it, so compare the old words
    assert old.split() == a.split()
    assert all(segments[i][0] != segments[i + 1][0] for i in range(len(segments) - 1))
