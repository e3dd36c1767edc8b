import re

from hypothesis import given
from hypothesis import strategies as st

from datasets_app.checks import CheckSettings
from datasets_app.checks.text_columns import ascii_text_screens

ascii_texts = st.text(alphabet=st.characters(max_codepoint=127), max_size=40) | st.sampled_from(
    ["", " ", "ALL CAPS TEXT THAT IS LOUD", "Mostly lower case text here", "a@b", "\x07", "x\x7f"]
)


def expected(texts, check_settings):
    shape = any(not t or t[0].isspace() or t[-1].isspace() for t in texts)
    candidates = []
    for t in texts:
        upper, lower = len(re.findall("[A-Z]", t)), len(re.findall("[a-z]", t))
        letters = upper + lower
        minimum = check_settings.uppercase_min_letters
        if not (not t or t[0].isspace() or t[-1].isspace()) and (
            len(t) >= minimum
            and upper * 3 >= minimum
            and letters >= minimum
            and upper > check_settings.uppercase_max_share * letters
        ):
            candidates.append(t)
    rules = set()
    if any(re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", t) for t in texts):
        rules.add("control_characters")
    if any("@" in t for t in texts):
        rules.add("contains_email")
    return shape, candidates, tuple(sorted(rules))


@given(st.lists(st.lists(ascii_texts, max_size=4), max_size=6), st.sampled_from([5, 20]))
def test_it_screens_every_text_as_the_python_loop_would(text_lists, min_letters):
    check_settings = CheckSettings(uppercase_min_letters=min_letters)
    screens = ascii_text_screens(text_lists, check_settings)
    assert [tuple(s) for s in screens] == [expected(t, check_settings) for t in text_lists]
