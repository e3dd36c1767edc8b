import copy
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from datasets_app.canonical import validate_content
from datasets_app.checks import FIXES, RULES, apply_fixes, check_example
from datasets_app.checks.fixes import Change


def content(*texts, system=None):
    messages = [{"role": "user", "content": texts[0]}, {"role": "assistant", "content": texts[1]}]
    if system is not None:
        messages.insert(0, {"role": "system", "content": system})
    return {"messages": messages}


def test_it_previews_each_change_without_touching_the_input():
    original = content("  Hi\x07 ", "Cafe\u0301\u200b.\n")
    before = copy.deepcopy(original)
    result = apply_fixes(original, FIXES)
    assert original == before
    assert result.content["messages"][0]["content"] == "Hi"
    assert result.content["messages"][1]["content"] == "Café."
    assert Change("messages[0].content", "  Hi\x07 ", "  Hi ") in result.changes
    assert result.changes[-1] == Change("messages[0].content", "  Hi ", "Hi") or result.changed


def test_it_makes_the_flagged_rules_go_away():
    dirty = content("  Hi\x07 ", "Cafe\u0301\u200b and more text.\n", system=" ")
    fix_ids = {RULES[f.rule_id].autofix for f in check_example(dirty) if RULES[f.rule_id].autofix}
    assert fix_ids == {
        "trim_whitespace",
        "remove_control_characters",
        "remove_invalid_characters",
        "normalize_unicode",
        "drop_empty_system_message",
    }
    fixed = apply_fixes(dirty, fix_ids).content
    assert {RULES[f.rule_id].autofix for f in check_example(fixed)} <= {None}
    assert validate_content(fixed) == []


def test_it_drops_empty_system_messages_but_never_every_message():
    result = apply_fixes(content("Q?", "A.", system="  "), ["drop_empty_system_message"])
    assert [m["role"] for m in result.content["messages"]] == ["user", "assistant"]
    assert result.changes == [Change("messages[0]", {"role": "system", "content": "  "}, None)]
    lonely = {"messages": [{"role": "system", "content": ""}]}
    assert apply_fixes(lonely, ["drop_empty_system_message"]).content == lonely


def test_it_fills_weight_only_where_missing():
    c = {
        "messages": [
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": "a", "weight": 0},
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": "b"},
        ]
    }
    result = apply_fixes(c, ["fill_weight_defaults"])
    assert [m.get("weight") for m in result.content["messages"]] == [None, 0, None, 1]
    assert result.changes == [Change("messages[3].weight", None, 1)]


def test_it_rejects_unknown_fixes():
    with pytest.raises(ValueError, match="unknown fix"):
        apply_fixes(content("a", "b"), ["rewrite_everything"])


def test_it_references_only_existing_fixes_from_rules():
    assert {r.autofix for r in RULES.values() if r.autofix} <= set(FIXES)


texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


@given(texts, texts)
def test_it_is_idempotent_and_only_removes_what_it_names(a, b):
    once = apply_fixes(content(a, b), FIXES)
    assert apply_fixes(once.content, FIXES).changes == []
    for original, fixed in zip(
        (a, b), [m["content"] for m in once.content["messages"]], strict=True
    ):
        named = {
            "\u200b",
            "\u2060",
            "\ufeff",
            "\u180e",
            "\ufffe",
            "\uffff",
            *map(chr, range(0x202A, 0x202F)),
            *map(chr, range(0x2066, 0x206A)),
        }
        named |= {chr(c) for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)]} - {"\t", "\n", "\r"}
        expected = unicodedata.normalize(
            "NFC", "".join(ch for ch in original if ch not in named)
        ).strip()
        assert fixed == expected
