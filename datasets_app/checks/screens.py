"""Byte-class screens: one ``bytes.translate`` of a text answers several rule screens at C speed.

A screen may say "maybe" where no rule fires (the detector then decides), never "no" where one
would. Single-byte tests (``b"+" in data``) run at memchr speed; every multi-character substring
test costs a full scan, so the screens gate those behind single bytes where they can.
"""

from __future__ import annotations

_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])


def _class_table() -> bytes:
    table = bytearray(range(256))
    for b in b"0123456789":
        table[b] = ord("0")
    for b in range(ord("A"), ord("Z") + 1):
        table[b] = ord("A")
    for b in range(ord("a"), ord("z") + 1):
        table[b] = ord("a")
    for b in _CONTROL_BYTES:
        table[b] = 0
    return bytes(table)


# digits → "0", ASCII upper → "A", ASCII lower → "a", C0 controls (not tab/LF/CR) and DEL → NUL;
# every other byte (punctuation, whitespace, UTF-8 multi-byte sequences) stays itself.
CLASS_TABLE = _class_table()
MIN_PHONE_DIGITS = 7


def byte_classes(data: bytes) -> bytes:
    """``data`` (UTF-8) with each byte replaced by its class (see CLASS_TABLE); offsets are kept."""
    return data.translate(CLASS_TABLE)


def has_c0_control(classes: bytes) -> bool:
    """Any C0 control but tab/LF/CR, or DEL. For ASCII text this is the whole CONTROL pattern."""
    return b"\x00" in classes


def may_contain_phone_classes(classes: bytes) -> bool:
    """At least 7 digits and a phone-like digit shape (digits read as "0") somewhere."""
    if classes.count(b"0") < MIN_PHONE_DIGITS:
        return False
    # Every PHONE alternative contains "+<digit>" (after any character but a word character or
    # "+", so the screen takes every "+<digit>": a quote, a colon or a tab before it counts too),
    # ")" before three digits, or 000-000-0000 with "-" or "." separators, mixed or not; the
    # single-byte tests skip the longer scans for most texts.
    if b"+0" in classes:
        return True
    if b")" in classes and (
        b")000" in classes or b") 000" in classes or b")-000" in classes or b").000" in classes
    ):
        return True
    if b"000-000" in classes or b"000.000" in classes:
        return any(
            shape in classes
            for shape in (b"000-000-0000", b"000.000.0000", b"000-000.0000", b"000.000-0000")
        )
    return False
