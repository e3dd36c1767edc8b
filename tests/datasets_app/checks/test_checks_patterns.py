import re

from hypothesis import given
from hypothesis import strategies as st

from datasets_app.checks import patterns as p
from datasets_app.checks.summary import answer_style

SINGLE_BRACE_BEFORE = re.compile(r"(?<![{\w$%/])\{[a-z_][a-z0-9_]{1,30}\}(?!\})")
braces = st.text(alphabet="{}ab_1$%/ x\n", max_size=30)
markdownish = st.lists(
    st.sampled_from(["\n", " ", "\t", "#", "## ", "- ", "* ", "1. ", "12) ", "```", "> ", "|a|"])
    | st.text(max_size=4),
    max_size=8,
).map("".join)


@given(braces)
def test_it_finds_single_braces_where_the_look_behind_first_pattern_did(text):
    before = SINGLE_BRACE_BEFORE.search(text)
    after = p.SINGLE_BRACE.search(text)
    assert (before and before.span()) == (after and after.span())


@given(markdownish)
def test_it_splits_the_markdown_test_into_first_and_later_lines_exactly(text):
    split = bool(p.MARKDOWN_FIRST_LINE.match(text) or p.MARKDOWN_LATER_LINE.search(text))
    assert split == bool(p.MARKDOWN.search(text))


def test_it_still_tells_markdown_answers_from_plain_ones():
    assert answer_style("Steps:\n1. Mix.\n2. Bake.").markdown
    assert answer_style("# Title\nText.").markdown
    assert not answer_style("Plain answer.\nSecond line.").markdown
