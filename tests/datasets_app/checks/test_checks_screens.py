from hypothesis import example, given
from hypothesis import strategies as st

from datasets_app.checks.patterns import CONTROL, PHONE
from datasets_app.checks.screens import byte_classes, has_c0_control, may_contain_phone_classes

# Phone-ish text with the characters that may stand before or between a number's parts.
phone_like = st.text(alphabet="0123456789 .-+()\n\t\"':,;[]<>=/xé\x07", max_size=40)


@given(phone_like)
@example('"+44 20 7946 0958"')  # after a quote: the screen once said no (found by capture)
@example("tel:+1 415 555 0132")
@example("call 415-555.0132 now")  # mixed separators
@example("[+49 30 1234 5678]")
def test_it_never_screens_out_text_the_phone_pattern_finds(text):
    # A screen may say "maybe" where no rule fires, never "no" where one would.
    classes = byte_classes(text.encode("utf-8", "surrogatepass"))
    if PHONE.search(text):
        assert may_contain_phone_classes(classes)


@given(st.text(alphabet="abc xyz.,!", max_size=60))
def test_it_screens_out_text_without_digits(text):
    assert not may_contain_phone_classes(byte_classes(text.encode()))


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=40))
def test_it_finds_control_characters_in_ascii_text_like_the_pattern(text):
    assert has_c0_control(byte_classes(text.encode())) == bool(CONTROL.search(text))
