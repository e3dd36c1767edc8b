"""Agreement and annotator statistics over plain annotation rows. No Django.

A row is ``{"example", "annotator", "username", "verdict", "rating", "tags", ...}`` (what
``annotation.selectors.assignment_annotations`` returns). Fields and their levels of
measurement:

* ``verdict`` — nominal;
* ``tags`` — nominal, the annotator's whole tag set as one value (``{"tone", "long"}`` and
  ``{"tone"}`` disagree; an empty set is the value "no tags");
* ``rating`` — ordinal and interval (both reported: 1–5 is ordered, and equally spaced only if
  the guidelines say so).

Alpha is :func:`annotation.agreement.krippendorff_alpha`; kappa is Cohen's, per pair of
annotators over the items both labelled, with n.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import defaultdict
from itertools import combinations

from .agreement import Agreement, cohen_kappa, krippendorff_alpha

FIELDS = {"verdict": ("nominal",), "rating": ("ordinal", "interval"), "tags": ("nominal",)}
DECIDED = ("approved", "rejected")


def field_value(row: dict, field: str):
    """The value of ``field`` in ``row`` as the coefficients compare it (None: not given)."""
    if field == "tags":
        return "|".join(sorted(row.get("tags") or [])) or "(no tags)"
    value = row.get(field)
    return None if value in ("", None) else value


def _as_dict(result: Agreement) -> dict:
    return {"value": result.value, "n": result.n, "reason": result.reason}


def field_table(rows: list[dict], field: str) -> dict:
    """``{example: {annotator: value}}`` of one field."""
    table: dict = defaultdict(dict)
    for row in rows:
        table[row["example"]][row["annotator"]] = field_value(row, field)
    return table


def agreement_report(rows: list[dict]) -> dict:
    """Alpha per field and level, kappa per field and annotator pair, and the items with the
    ones where annotators disagree first.

    >>> rows = [{"example": 1, "annotator": 7, "username": "ann", "verdict": "approved",
    ...          "rating": 4, "tags": []},
    ...         {"example": 1, "annotator": 8, "username": "ben", "verdict": "rejected",
    ...          "rating": 4, "tags": []}]
    >>> agreement_report(rows)["items"][0]["disagree"]
    ['verdict']
    """
    names = {row["annotator"]: row["username"] for row in rows}
    fields = {}
    for field, levels in FIELDS.items():
        table = field_table(rows, field)
        by_annotator: dict = defaultdict(dict)
        for example, values in table.items():
            for annotator, value in values.items():
                by_annotator[annotator][example] = value
        ordered = sorted(by_annotator, key=lambda a: names[a])
        pairs = []
        for a, b in combinations(ordered, 2):
            kappa = cohen_kappa(by_annotator[a], by_annotator[b])
            if kappa.n:
                pairs.append({"annotators": [names[a], names[b]], **_as_dict(kappa)})
        fields[field] = {
            "alpha": {level: _as_dict(krippendorff_alpha(table, level=level)) for level in levels},
            "kappa": pairs,
        }
    return {"fields": fields, "items": items_by_disagreement(rows)}


def items_by_disagreement(rows: list[dict]) -> list[dict]:
    """One entry per example: its annotations side by side and the fields they differ on;
    examples with any disagreement first, then by id."""
    by_example: dict = defaultdict(list)
    for row in rows:
        by_example[row["example"]].append(row)
    items = []
    for example, group in by_example.items():
        disagree = [
            field
            for field in FIELDS
            if len({field_value(r, field) for r in group if field_value(r, field) is not None}) > 1
        ]
        items.append(
            {
                "example": example,
                "disagree": disagree,
                "annotations": sorted(group, key=lambda r: r["username"]),
            }
        )
    items.sort(key=lambda item: (not item["disagree"], item["example"]))
    return items


def annotator_statistics(rows: list[dict], consensus: dict[int, dict]) -> list[dict]:
    """Per annotator: items done, items per day (UTC dates), median seconds per item, and
    agreement with the consensus (verdict equals the example's status, over the examples whose
    status is approved or rejected), with n.

    ``consensus`` is ``{example: {"status": ...}}``; rows need ``submitted_at`` (a datetime) and
    ``seconds`` (None when unknown).
    """
    by_annotator: dict = defaultdict(list)
    for row in rows:
        by_annotator[row["annotator"]].append(row)
    out = []
    for annotator, group in by_annotator.items():
        per_day: dict = defaultdict(int)
        for row in group:
            if row.get("submitted_at") is not None:
                per_day[row["submitted_at"].date().isoformat()] += 1
        seconds = [row["seconds"] for row in group if row.get("seconds") is not None]
        decided = [
            row
            for row in group
            if row.get("verdict") and consensus.get(row["example"], {}).get("status") in DECIDED
        ]
        agreed = sum(1 for row in decided if row["verdict"] == consensus[row["example"]]["status"])
        out.append(
            {
                "annotator": annotator,
                "username": group[0]["username"],
                "items": len(group),
                "per_day": dict(sorted(per_day.items())),
                "median_seconds": statistics.median(seconds) if seconds else None,
                "consensus_agreement": agreed / len(decided) if decided else None,
                "consensus_n": len(decided),
            }
        )
    out.sort(key=lambda s: s["username"])
    return out


CSV_COLUMNS = (
    "username", "date", "items", "median_seconds", "consensus_agreement", "consensus_n",
)  # fmt: skip


def _cell(value):
    # A spreadsheet runs a cell that starts with one of these as a formula.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def statistics_csv(stats: list[dict]) -> str:
    """The statistics as CSV text (:func:`statistics_csv_rows`)."""
    out = io.StringIO()
    csv.writer(out).writerows([[_cell(v) for v in row] for row in statistics_csv_rows(stats)])
    return out.getvalue()


def statistics_csv_rows(stats: list[dict]) -> list[list]:
    """Rows of the statistics CSV: one per annotator and day, then one total per annotator
    (``date`` = "all")."""
    rows = [list(CSV_COLUMNS)]
    for s in stats:
        for day, n in s["per_day"].items():
            rows.append([s["username"], day, n, "", "", ""])
        rows.append(
            [
                s["username"],
                "all",
                s["items"],
                "" if s["median_seconds"] is None else f"{s['median_seconds']:.1f}",
                "" if s["consensus_agreement"] is None else f"{s['consensus_agreement']:.4f}",
                s["consensus_n"],
            ]
        )
    return rows
