"""The one strict JSON parser: pure (no Django, no app), shared by API bodies and imports."""

import json
import subprocess
import sys
from pathlib import Path

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from finetunedb.strictjson import DEFAULT_MAX_DEPTH, RowError, parse_json

ROOT = Path(__file__).resolve().parents[2]

# JSON values Python's json writes and the strict parser must read back unchanged: no NUL, no
# lone surrogates, integers within 64 bits, finite floats, unique keys, shallow enough.
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)


def test_it_imports_neither_django_nor_the_apps():
    code = (
        "import sys\nimport finetunedb.strictjson\n"
        "print(sorted(m for m in ('django', 'celery', 'datasets_app', 'training')"
        " if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert out.stdout.strip() == "[]"


def test_it_is_the_parser_imports_use():
    from datasets_app.formats import errors, jsonparse

    assert jsonparse.parse_json is parse_json
    assert errors.RowError is RowError
    assert errors.Limits().max_depth == DEFAULT_MAX_DEPTH


@given(VALUES)
def test_it_reads_back_what_json_writes(value):
    assert parse_json(json.dumps(value), 1, DEFAULT_MAX_DEPTH) == value


def test_it_names_the_duplicate_key_and_the_line():
    refused = parse_json(b'{"a": 1, "b": {"c": 2, "c": 3}}', 7, DEFAULT_MAX_DEPTH)
    assert isinstance(refused, RowError)
    assert (refused.line, refused.code) == (7, "duplicate_key")
    assert "'c'" in refused.message


def test_it_refuses_nesting_past_the_cap_without_recursing():
    refused = parse_json("[" * 100_000 + "]" * 100_000, 1, DEFAULT_MAX_DEPTH)
    assert refused.code == "too_deep"
    assert str(DEFAULT_MAX_DEPTH) in refused.message


@given(st.lists(st.integers(-(2**70), 2**70), min_size=1, max_size=5), TEXT)
def test_it_refuses_exactly_the_integers_past_64_bits(numbers, text):
    # digits in a string never count: only a number orjson would round to a float is refused
    parsed = parse_json(json.dumps({"n": numbers, "s": text + "1" * 25}), 1, DEFAULT_MAX_DEPTH)
    too_big = any(not -(2**63) <= n <= 2**64 - 1 for n in numbers)
    if too_big:
        assert isinstance(parsed, RowError) and parsed.code == "integer_out_of_range"
    else:
        assert parsed == {"n": numbers, "s": text + "1" * 25}


@settings(max_examples=60, deadline=None)
@given(
    depth=st.integers(min_value=58, max_value=70),
    shapes=st.lists(st.booleans(), min_size=70, max_size=70),
    empty_list=st.booleans(),
)
def test_it_refuses_exactly_what_is_nested_past_the_cap_in_a_large_document(
    depth, shapes, empty_list
):
    # many brackets in all, so the exact check runs (the indented-dump bound, then the walk)
    value = [] if empty_list else {}
    for in_list in shapes[: depth - 1]:
        value = [value, 1] if in_list else {"k": value, "z": [1]}
    doc = {"logs": [{"a": [1, 2]} for _ in range(40)] + [value]}  # two more levels
    found = parse_json(orjson.dumps(doc), 1, 64)
    refused = isinstance(found, RowError) and found.code == "too_deep"
    assert refused == (depth + 2 > 64)


# fragments whose refusal hangs on the escape and colon checks: \u003a keys (a duplicate once
# decoded, or not), NUL as \u0000 (in a value, in a key), a literal backslash before u0000
FRAGMENTS = st.sampled_from(
    [
        '{"a\\u003a": 1, "a:": 2}',
        '{"a\\u003A": 1, "b:": 2}',
        '{"a": 1, "a": 2}',
        '"x\\u0000y"',
        '{"k\\u0000": 1}',
        '"\\\\u0000"',
        '"caf\\u00e9 \\u003a"',
        '{"t": "12:30"}',
    ]
)


@settings(max_examples=80, deadline=None)
@given(st.lists(FRAGMENTS | VALUES.map(json.dumps), min_size=1, max_size=4), st.booleans())
def test_it_refuses_a_large_document_exactly_as_a_small_one(parts, ascii_only):
    # past 64 KB the bracket count is skipped and one escape search serves both escape checks
    small = "[" + ", ".join(parts) + "]"
    pad = json.dumps("é" * 70_000, ensure_ascii=ascii_only)
    large = "[" + ", ".join([*parts, pad]) + "]"
    found_small, found_large = parse_json(small, 1, 64), parse_json(large, 1, 64)
    if isinstance(found_small, RowError):
        assert isinstance(found_large, RowError)
        assert (found_large.code, found_large.message) == (found_small.code, found_small.message)
    else:
        assert found_large == [*found_small, "é" * 70_000]
