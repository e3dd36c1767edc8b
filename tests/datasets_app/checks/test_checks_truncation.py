"""looks_truncated: a final answer cut off mid-word, mid-sentence, inside a code block or with a
bracket or quotation left open is a warning naming why; answers that end without punctuation
legitimately (code, lists, URLs, numbers, short answers, emoji, verse) are not flagged."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from datasets_app.checks import CheckSettings, check_example
from datasets_app.checks.truncation import FENCE, MIN_JUDGE_CHARS, fence_count, truncation_reason

PROSE = (
    "Serial killers have fascinated criminologists for more than a century. Researchers study "
    "their childhoods, their methods and the way investigators finally caught them. "
)


def flagged(answer, *turns):
    messages = [{"role": "user", "content": "Tell me about it."}]
    for turn in turns:
        messages += [
            {"role": "assistant", "content": turn},
            {"role": "user", "content": "Go on."},
        ]
    messages.append({"role": "assistant", "content": answer})
    return [
        f
        for f in check_example({"messages": messages}, CheckSettings())
        if f.rule_id == "looks_truncated"
    ]


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (
            "Here are some well-known painters of the Italian Renaissance and their patrons. Many famou",
            "mid_word",
        ),
        (PROSE + "Serial kil", "mid_word"),
        (PROSE + "The most famous cases involved", "mid_word"),
        (PROSE + "The most famous case was the one in the", "mid_sentence"),
        (PROSE + "Among the best known are Bundy, Dahmer,", "mid_sentence"),
        (PROSE + "Here are the main theories:", "mid_sentence"),
        (
            "Here is the function you asked for:\n\n```python\ndef add(a, b):\n    return a +",
            "open_code_fence",
        ),
        (PROSE + "The key cases (documented by the FBI in the 1970s and", "unclosed_bracket"),
        (
            PROSE + 'One detective wrote that "the pattern was obvious once we looked at the',
            "unclosed_quote",
        ),
        (
            "Call it like this, then print the result:\n\nresult = compute(parse(load('data.csv'))",
            "unclosed_bracket",
        ),
    ],
)
def test_it_flags_cut_off_answers_and_names_the_reason(answer, reason):
    [found] = flagged(answer)
    assert found.severity == "warning"
    assert found.details["reason"] == reason
    assert found.message.startswith("The answer looks cut off:")
    assert found.path == "messages[1].content"
    assert repr(found.details["tail"]) in found.message


def test_it_says_why_in_words():
    [found] = flagged(PROSE + "Serial kil")
    assert "stops mid-word" in found.message and "Serial kil" in found.message
    [found] = flagged("Use this:\n\n```js\nconsole.log(1);\n" + "// more code here\n" * 5)
    assert "code block is never closed" in found.message


@pytest.mark.parametrize(
    "answer",
    [
        "Yes",
        "Paris",
        "42",
        PROSE + "They are studied to this day.",
        PROSE + "Is that what you wanted?",
        "Here is the function you asked for:\n\n```python\ndef add(a, b):\n    return a + b\n```",
        "Here is the function you asked for:\n\n```python\ndef add(a, b):\n    return a + b\n    ```",
        "Run the following shell command to find files changed today:\n\nfind . -type f -mtime 0 -print",
        'def add(a, b):\n    """Add two numbers and return the result to the caller."""\n    return a + b',
        PROSE + "Further reading:\n- Mindhunter by John Douglas\n- The Stranger Beside Me",
        "Games for a party of ten people: 1. Werewolf 2. Who Am I? 3. Charades 4. Pictionary 5. Uno",
        PROSE + "Read more at https://www.fbi.gov/history/famous-cases",
        PROSE + "The total number of solved cases in the archive is 1024",
        "Janet sells 16 - 3 - 4 = 9 duck eggs a day. She makes 9 * 2 = $18 every day.\n#### 18",
        PROSE + "Enjoy your research 🔍",
        PROSE + "#TrueCrime",
        "\"Friendship is born at that moment when one person says to another, 'What! You too?'\" -C.S. Lewis",
        "Roses are red and the morning is bright\nViolets are blue in the soft summer light\n"
        "Sugar is sweet and so are you tonight",
        "| Name | Year |\n|------|------|\n| Bundy | 1989 |\n| Dahmer | 1994 |\n| Gacy | 1994 |",
        "## Summary\n\nThe answer to your question about famous investigations is in the table above",
        "Dear team,\n\nI hope you are all doing well. Dinner is on Friday at seven.\n\nLooking forward to it,",
        "apples, pears, plums, cherries, apricots, peaches, nectarines, figs, grapes and quinces",
        '## Parts\n- Arduino Nano (or Uno)\n- 0.96" OLED display\n- a 9V battery and battery clip for it',
    ],
)
def test_it_leaves_answers_that_legitimately_end_without_punctuation(answer):
    assert flagged(answer) == []


def test_it_judges_only_the_final_answer():
    assert flagged("Complete answer, finally, with a full stop.", PROSE + "Serial kil") == []
    assert len(flagged(PROSE + "Serial kil", "An earlier complete answer.")) == 1


@given(st.text(alphabet=st.characters(blacklist_characters="`~"), max_size=MIN_JUDGE_CHARS - 1))
def test_it_never_judges_a_short_answer_without_a_code_block(answer):
    assert truncation_reason(answer) is None


@given(
    st.text(alphabet=st.characters(blacklist_characters="`~"), max_size=400),
    st.sampled_from(".!?…"),
)
def test_it_never_flags_an_answer_that_ends_a_sentence(body, end):
    assert truncation_reason(body + end) is None


@given(
    st.lists(
        st.sampled_from(["```", "~~~", "`", "~", " ", "\t", "\n", "\r", "x", "  " * 9]), max_size=20
    ).map("".join)
)
def test_it_counts_fences_exactly_as_the_line_pattern(text):
    assert fence_count(text) == len(FENCE.findall(text))
