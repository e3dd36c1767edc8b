"""The quota arithmetic and folder sizes (pure: runs with ``-p no:django``)."""

import os
import re

from hypothesis import example, given
from hypothesis import strategies as st

from finetunedb.teams.storage_usage import StorageUsage, exceeds, folder_bytes, format_bytes

sizes = st.integers(min_value=0, max_value=2**50)


@given(used=sizes, quota=sizes, incoming=sizes)
def test_it_exceeds_only_past_a_positive_quota(used, quota, incoming):
    assert exceeds(used=used, quota=quota, incoming=incoming) == (
        quota > 0 and used + incoming > quota
    )
    assert not exceeds(used=used, quota=0, incoming=incoming)


def test_it_allows_landing_exactly_on_the_quota():
    assert not exceeds(used=60, quota=100, incoming=40)
    assert exceeds(used=60, quota=100, incoming=41)


@given(parts=st.lists(sizes, min_size=4, max_size=4), quota=sizes)
def test_it_adds_up_its_parts_and_never_reports_negative_room(parts, quota):
    usage = StorageUsage(*parts, quota=quota)
    assert usage.total == sum(parts)
    body = usage.as_dict()
    assert body["used_bytes"] == sum(parts) and body["quota_bytes"] == quota
    assert sum(body["parts"].values()) == sum(parts)
    if quota == 0:
        assert usage.remaining is None and usage.percent is None and not usage.full
    else:
        assert usage.remaining == max(0, quota - sum(parts))
        assert 0 <= usage.percent <= 100
        assert usage.full == (sum(parts) >= quota)
        assert usage.full == usage.would_exceed(1)


def test_it_sums_regular_files_without_following_links(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "x.bin").write_bytes(b"1" * 300)
    (tmp_path / "a" / "b" / "y.bin").write_bytes(b"2" * 45)
    (tmp_path / "top.txt").write_bytes(b"abc")
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    (outside / "big.bin").write_bytes(b"3" * 10_000)
    os.symlink(outside, tmp_path / "a" / "linked-dir")
    os.symlink(outside / "big.bin", tmp_path / "linked-file")

    assert folder_bytes(tmp_path) == 348
    assert folder_bytes(tmp_path / "a" / "b") == 45


def test_it_counts_a_missing_folder_or_a_file_as_nothing(tmp_path):
    (tmp_path / "file").write_bytes(b"x" * 10)
    assert folder_bytes(tmp_path / "missing") == 0
    assert folder_bytes(tmp_path / "file") == 0


UNIT = {"bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40, "PiB": 2**50}


@example(count=15616)
@given(count=st.integers(min_value=0, max_value=2**60))
def test_it_formats_bytes_within_rounding_of_the_value(count):
    text = format_bytes(count)
    number, unit = re.fullmatch(r"([0-9.]+) (bytes|KiB|MiB|GiB|TiB|PiB)", text).groups()
    # One decimal: off by at most half a tenth of the unit (15.25 KiB prints as "15.2 KiB").
    assert abs(float(number) * UNIT[unit] - count) <= 0.05 * UNIT[unit] * (1 + 1e-9)
    if unit == "bytes":
        assert int(number) == count < 1024


def test_it_formats_the_usual_sizes():
    assert format_bytes(0) == "0 bytes"
    assert format_bytes(1536) == "1.5 KiB"
    assert format_bytes(20 * 1024**3) == "20.0 GiB"


def test_it_refuses_a_part_that_does_not_exist_or_already_has_a_measure():
    import pytest

    from finetunedb.teams.storage_usage import (
        storage_part_measure,
        storage_part_register,
        storage_parts_registered,
    )

    with pytest.raises(ValueError, match="no storage part"):
        storage_part_register("caches", lambda team_id: 1)
    with pytest.raises(ValueError, match="no storage part"):
        storage_part_measure("caches", team_id=1)
    known = storage_parts_registered().get("uploads")
    if known is not None:  # registered by datasets_app when Django is set up
        storage_part_register("uploads", known)  # the same measure again: a no-op
        with pytest.raises(ValueError, match="already measured"):
            storage_part_register("uploads", lambda team_id: 0)
        assert storage_parts_registered()["uploads"] is known
