from hypothesis import given, settings
from hypothesis import strategies as st

from datasets_app.checks import CheckSettings
from datasets_app.checks.batch_screen import any_text_findings, markdown_flags, re2_screen
from datasets_app.checks.content import check_texts
from datasets_app.checks.summary import has_markdown
from tests.datasets_app.checks.strategies import BENIGN, FRAGMENTS, clean_texts, texts

RE2_RULES = {"unfilled_placeholder", "contains_url", "contains_secret", "possible_secret"}


def findings_of(text):
    out = []
    check_texts([("messages[0].content", "user", text)], CheckSettings(), out)
    return {f.rule_id for f in out}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.one_of(texts, clean_texts), min_size=1, max_size=3), max_size=6))
def test_it_answers_exactly_what_check_texts_would(text_lists):
    expected = []
    for group in text_lists:
        out = []
        paths = [(f"messages[{i}].content", "user", text) for i, text in enumerate(group)]
        check_texts(paths, CheckSettings(), out)
        expected.append(bool(out))
    assert any_text_findings(text_lists, CheckSettings()) == expected


@given(st.lists(st.sampled_from(FRAGMENTS + BENIGN), min_size=1, max_size=4).map("".join))
def test_it_screens_in_every_ascii_text_a_placeholder_url_or_secret_detector_reports(text):
    if text.isascii():
        assert findings_of(text) & RE2_RULES <= set(re2_screen([text])[0])


def test_it_names_the_detectors_to_run_and_leaves_non_ascii_to_the_exact_path():
    screened = re2_screen(["Plain words, 12 digits and a {x} in code = 1.", "Café", "{name}"])
    assert screened == [(), (), ("unfilled_placeholder",)]
    assert re2_screen([]) == []


markdownish = st.lists(
    st.sampled_from(["\n", " ", "\t", "#", "## ", "- ", "* ", "1. ", "12) ", "```", "> ", "|a|"])
    | st.sampled_from(["**", "|" + "x" * 199 + "|", "|" + "x" * 200 + "|", "é", "٣. "])
    | st.text(max_size=4),
    max_size=8,
).map(lambda parts: "".join(parts).rstrip())


@given(st.lists(markdownish, max_size=5))
def test_it_flags_markdown_exactly_as_has_markdown(answers):
    assert markdown_flags(answers) == [has_markdown(a) for a in answers]
