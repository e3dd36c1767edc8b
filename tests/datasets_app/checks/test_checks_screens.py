from hypothesis import given
from hypothesis import strategies as st

from datasets_app.checks.patterns import CONTROL
from datasets_app.checks.screens import byte_classes, has_c0_control, may_contain_phone_classes

_SHAPES = (b"000-000-0000", b"000.000.0000", b" +0", b"(+0", b"\n+0", b")000", b") 000")
_SHAPES += (b")-000", b").000")


def phone_screen_before(text):
    """The screen as first written: seven digits and one of the shapes, digits read as 0."""
    data = text.encode("utf-8", "surrogatepass")
    if len(data) - len(data.translate(None, b"0123456789")) < 7:
        return False
    shaped = data.translate(bytes.maketrans(b"123456789", b"000000000"))
    return shaped.startswith(b"+0") or any(shape in shaped for shape in _SHAPES)


phone_like = st.text(alphabet="0123456789 .-+()\nxé\x07", max_size=40)


@given(phone_like)
def test_it_screens_phone_shapes_as_before(text):
    classes = byte_classes(text.encode("utf-8", "surrogatepass"))
    assert may_contain_phone_classes(classes) == phone_screen_before(text)


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=40))
def test_it_finds_control_characters_in_ascii_text_like_the_pattern(text):
    assert has_c0_control(byte_classes(text.encode())) == bool(CONTROL.search(text))
