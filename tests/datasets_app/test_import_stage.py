"""stage_rows and stage_verdict: the pure staging step of an import, over plain rows."""

from __future__ import annotations

import io

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from datasets_app import canonical
from datasets_app.formats.errors import (
    DECOMPRESSED_TOO_LARGE,
    INVALID_JSON,
    STOP_CODES,
    ParsedRow,
    RowError,
)
from datasets_app.services.imports.stage import (
    ALL_DUPLICATES,
    FIRST_ERRORS,
    NO_VALID_ROWS,
    STOPPED,
    STRICT_FAILED,
    stage_rows,
    stage_verdict,
)

assert DECOMPRESSED_TOO_LARGE in STOP_CODES and INVALID_JSON not in STOP_CODES


def _row(text: str) -> ParsedRow:
    content = {
        "messages": [{"role": "user", "content": text}, {"role": "assistant", "content": "a"}]
    }
    return ParsedRow(0, content, "openai")


def _hash(text: str) -> str:
    return canonical.content_hash(_row(text).content["messages"])


# a small alphabet of texts, so duplicates within the file and against the dataset are common
texts = st.sampled_from(["a", "b", "c", "d", "e", "f"])
items = st.lists(
    st.one_of(
        texts.map(_row),
        st.builds(RowError, st.just(0), st.sampled_from([INVALID_JSON, "validation"]), texts),
        st.builds(RowError, st.just(0), st.just(DECOMPRESSED_TOO_LARGE), texts),
    ),
    max_size=80,
).map(lambda rows: [r._replace(line=i + 1) for i, r in enumerate(rows)])


def _stage(rows, existing=frozenset(), skip=False, **kwargs):
    out, err = io.BytesIO(), io.BytesIO()
    result = stage_rows(
        rows, existing=existing, skip_duplicates=skip, staged=out, errors=err, **kwargs
    )
    staged = [orjson.loads(line) for line in out.getvalue().splitlines()]
    errors = [orjson.loads(line) for line in err.getvalue().splitlines()]
    return result, staged, errors


@settings(max_examples=300, deadline=None)
@given(rows=items, existing=st.frozensets(texts.map(_hash)), skip=st.booleans())
def test_it_counts_stages_and_reports_every_row_read_once(rows, existing, skip):
    result, staged, errors = _stage(rows, existing, skip)

    stop = next(
        (i for i, r in enumerate(rows) if isinstance(r, RowError) and r.code in STOP_CODES), None
    )
    read = rows if stop is None else rows[: stop + 1]
    valid = [r for r in read if isinstance(r, ParsedRow)]
    invalid = [r for r in read if isinstance(r, RowError)]
    assert result.rows == len(read) == result.valid + result.invalid
    assert (result.valid, result.invalid) == (len(valid), len(invalid))
    assert result.stopped == (rows[stop] if stop is not None else None)
    assert errors == [e.as_dict() for e in invalid]
    assert result.first_errors == errors[:FIRST_ERRORS]

    hashes = [_hash(r.content["messages"][0]["content"]) for r in valid]
    assert result.dup_file == len(hashes) - len(set(hashes))
    assert result.dup_dataset == len({h for h in hashes if h in existing})
    assert result.staged == len(staged)
    for content, source_format, chash in staged:
        assert chash == canonical.content_hash(content["messages"], content.get("tools"))
        assert source_format == "openai"
    if skip:
        kept = [c for _, _, c in staged]
        assert kept == list(dict.fromkeys(h for h in hashes if h not in existing))
    else:
        assert [c for _, _, c in staged] == hashes


@settings(max_examples=100, deadline=None)
@given(rows=items, stop_after=st.integers(min_value=1, max_value=80))
def test_it_stops_staging_when_the_lease_is_lost(rows, stop_after):
    ticks = iter(range(10**6))
    asked = []

    def keep_going(n):
        asked.append(n)
        return n < stop_after

    result, staged, _ = _stage(rows, keep_going=keep_going, every_s=0.5, clock=lambda: next(ticks))
    # the fake clock moves 1 s a call: keep_going is asked after every row but a stopping one
    assert result.lost == (stop_after <= len(asked) and asked[-1] >= stop_after)
    if result.lost:
        assert result.rows == stop_after and asked == list(range(1, stop_after + 1))
    assert len(staged) == result.staged


def test_it_runs_the_row_hook_with_the_count_before_looking_at_the_row():
    seen = []
    result, _, _ = _stage([_row("a"), _row("b")], on_row=seen.append)
    assert seen == [1, 2] and result.staged == 2


def test_it_says_why_a_staged_file_must_not_be_published():
    stop = RowError(7, DECOMPRESSED_TOO_LARGE, "too big")
    assert stage_verdict(_stage([_row("a"), stop])[0], strict=False) == STOPPED.format(
        line=7, message="too big"
    )
    mixed = _stage([_row("a"), RowError(2, INVALID_JSON, "bad")])[0]
    assert stage_verdict(mixed, strict=True) == STRICT_FAILED.format(count=1)
    assert stage_verdict(mixed, strict=False) is None
    assert (
        stage_verdict(_stage([RowError(1, INVALID_JSON, "bad")])[0], strict=False) == NO_VALID_ROWS
    )
    dups = _stage([_row("a")], existing={_hash("a")}, skip=True)[0]
    assert stage_verdict(dups, strict=True) == ALL_DUPLICATES
    assert stage_verdict(_stage([_row("a")], existing={_hash("a")})[0], strict=True) is None
