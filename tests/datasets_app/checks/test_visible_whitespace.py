"""Whitespace fix previews show the whitespace (issue 16.10f)."""

from hypothesis import given
from hypothesis import strategies as st

from datasets_app.checks.visible_whitespace import (
    MARKERS,
    changed_masks,
    changed_spans,
    whitespace_diff,
)


def _shown(segments):
    return "".join(text for text, _, _ in segments)


def _changed(segments):
    return "".join(text for text, _, changed in segments if changed)


def test_trimmed_ends_differ_visibly():
    before, after = whitespace_diff("  Paris\t\n", "Paris")
    assert _shown(before) == "··Paris→↵\n" and _shown(after) == "Paris"
    assert _changed(before) == "··→↵\n" and _changed(after) == ""


def test_a_collapsed_run_is_marked_on_both_sides():
    before, after = whitespace_diff("a    b", "a b")
    assert _shown(before) == "a····b" and _shown(after) == "a·b"
    assert _changed(before) == "····" and _changed(after) == "·"
    assert all(is_space for _, is_space, changed in before if changed)


def test_odd_spaces_get_markers_too():
    before, _ = whitespace_diff("x\u00a0y\u2009z\r", "x y z")
    assert _shown(before) == "x⍽y␣z␍"


def test_none_means_no_text():
    assert whitespace_diff(None, "a") == ([], [("a", False, True)])


text = st.text(alphabet=st.sampled_from(list("ab \t\n\u00a0")), max_size=30)


@given(text, text)
def test_the_unchanged_parts_are_the_common_prefix_and_suffix(before, after):
    (b0, b1), (a0, a1) = changed_spans(before, after)
    assert before[:b0] == after[:a0] and before[b1:] == after[a1:]
    assert b0 <= b1 and a0 <= a1
    if before == after:
        assert b0 == b1 and a0 == a1


@given(text, text)
def test_the_unchanged_characters_are_the_same_on_both_sides(before, after):
    mask_b, mask_a = changed_masks(before, after)
    kept_b = "".join(c for c, changed in zip(before, mask_b, strict=True) if not changed)
    kept_a = "".join(c for c, changed in zip(after, mask_a, strict=True) if not changed)
    assert kept_b == kept_a
    if before != after:
        assert any(mask_b) or any(mask_a)


def test_a_long_text_falls_back_to_the_prefix_and_suffix():
    words = " ".join(["word"] * 5000)
    mask_b, mask_a = changed_masks(words + "  ", words)
    assert sum(mask_b) == 2 and not any(mask_a)


@given(text, text)
def test_the_shown_text_maps_back_to_the_original(before, after):
    shown_before, shown_after = whitespace_diff(before, after)
    back = {marker: char for char, marker in MARKERS.items() if marker != "␣"}
    for original, segments in ((before, shown_before), (after, shown_after)):
        rebuilt = "".join(back.get(t, t) if is_space else t for t, is_space, _ in segments)
        assert rebuilt == original
    # what differs is always visible: no changed segment is blank on screen
    for segments in (shown_before, shown_after):
        assert all(t.strip() for t, _, changed in segments if changed)


def test_the_template_tag_escapes_and_highlights():
    from django.template import Context, Template

    html = Template('{% load visible_text %}{% whitespace_shown before after "before" %}').render(
        Context({"before": "<b> x ", "after": "<b> x"})
    )
    assert (
        html
        == '&lt;b&gt;<span class="ws">·</span>x<mark class="ws-changed"><span class="ws">·</span></mark>'
    )
