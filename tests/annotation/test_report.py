"""annotation.report: agreement per field, disagreements first, annotator statistics, CSV."""

import csv
import io
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from annotation.report import agreement_report, annotator_statistics, statistics_csv


def row(example, annotator, verdict=None, rating=None, tags=(), **extra):
    return {
        "example": example,
        "annotator": annotator,
        "username": f"user{annotator}",
        "verdict": verdict,
        "rating": rating,
        "tags": list(tags),
        **extra,
    }


def test_it_lists_disagreements_first_naming_the_fields():
    rows = [
        row(1, 1, "approved", 3, ["a"]),
        row(1, 2, "approved", 3, ["a"]),
        row(2, 1, "approved", 3, ["a", "b"]),
        row(2, 2, "approved", 3, ["b", "a"]),
        row(3, 1, "approved", 2, ["a"]),
        row(3, 2, "rejected", 2, []),
    ]
    items = agreement_report(rows)["items"]
    assert [(i["example"], i["disagree"]) for i in items] == [
        (3, ["verdict", "tags"]),
        (1, []),
        (2, []),
    ]


def test_it_reports_undefined_coefficients_with_a_reason_not_a_number():
    rows = [
        row(1, 1, "approved"),
        row(1, 2, "approved"),
        row(2, 1, "approved"),
        row(2, 2, "approved"),
    ]
    verdict = agreement_report(rows)["fields"]["verdict"]
    assert verdict["alpha"]["nominal"]["value"] is None
    assert "every rating is the same value" in verdict["alpha"]["nominal"]["reason"]
    assert verdict["kappa"][0]["value"] is None and verdict["kappa"][0]["n"] == 2


def test_it_counts_items_per_day_median_time_and_consensus_agreement():
    day1, day2 = datetime(2026, 12, 1, 9, tzinfo=UTC), datetime(2026, 12, 2, 9, tzinfo=UTC)
    rows = [
        row(1, 1, "approved", submitted_at=day1, seconds=10),
        row(2, 1, "rejected", submitted_at=day1, seconds=30),
        row(3, 1, "approved", submitted_at=day2, seconds=20),
    ]
    consensus = {
        1: {"status": "approved"},
        2: {"status": "approved"},
        3: {"status": "needs_review"},
    }
    (stats,) = annotator_statistics(rows, consensus)
    assert stats["per_day"] == {"2026-12-01": 2, "2026-12-02": 1}
    assert stats["median_seconds"] == 20
    assert (stats["consensus_agreement"], stats["consensus_n"]) == (0.5, 2)


def test_it_keeps_spreadsheet_formulas_out_of_the_csv():
    stats = [
        {
            "username": "@SUM(A1)",
            "items": 1,
            "per_day": {"2026-12-01": 1},
            "median_seconds": None,
            "consensus_agreement": None,
            "consensus_n": 0,
        }
    ]
    rows = list(csv.reader(io.StringIO(statistics_csv(stats))))
    assert rows[1][0] == "'@SUM(A1)" and rows[2][:3] == ["'@SUM(A1)", "all", "1"]


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.integers(1, 20),
        st.dictionaries(
            st.integers(1, 4),
            st.tuples(st.sampled_from(["approved", "rejected"]), st.integers(1, 5)),
            min_size=1,
        ),
        min_size=1,
    )
)
def test_it_flags_exactly_the_examples_whose_annotators_differ(table):
    rows = [row(e, a, v, r) for e, by in table.items() for a, (v, r) in by.items()]
    items = agreement_report(rows)["items"]
    for item in items:
        values = table[item["example"]].values()
        assert ("verdict" in item["disagree"]) == (len({v for v, _ in values}) > 1)
        assert ("rating" in item["disagree"]) == (len({r for _, r in values}) > 1)
    flags = [bool(i["disagree"]) for i in items]
    assert flags == sorted(flags, reverse=True)
