"""The log filters of the list, of ``from-logs`` and of capture rules: one parser, one matcher.

:func:`filters_parse` turns what a person sent (query parameters or a JSON object) into clean
values or raises ``ApplicationError`` naming the field; ``selectors.log_list_for_user`` turns
clean values into a query, and :func:`filters_match` answers the same question for one plain
row (capture rules test a log as it is stored, without a query per rule).
"""

from __future__ import annotations

from datetime import datetime

from datasets_app.formats.validate import is_metadata_key
from finetunedb.exceptions import ApplicationError
from finetunedb.teams.scoping import parse_id

from .entries import conversation_text, metadata_value
from .search import text_matches

FIELDS = (
    "team",
    "model",
    "tag",
    "since",
    "until",
    "search",
    "feedback",
    "trace_id",
    "meta_key",
    "meta_value",
)
# ?metadata.<key>=<value> (any number of keys up to MAX_METADATA_FILTERS), the same as
# ?meta_key=<key>&meta_value=<value>; meta_key alone: logs that have that key
METADATA_PREFIX = "metadata."
MAX_METADATA_FILTERS = 5
FEEDBACK = ("positive", "negative", "neutral", "none", "any")
UNKNOWN = "unknown filter {!r}; filters are " + ", ".join(FIELDS)
BAD_TEAM = "team must be a team id"
BAD_TIME = "{} must be an ISO 8601 time with its offset, e.g. 2026-12-06T21:30:00Z"
BAD_FEEDBACK = "feedback is one of " + ", ".join(FEEDBACK)
BAD_TEXT = "{} must be text of at most 200 characters"
INVALID = "Invalid log filter."
BAD_META_KEY = "a metadata key is 1-64 letters, digits or underscores"
BAD_META_VALUE = (
    "a metadata value is a string of at most 200 characters, a number, true, false or null"
)
META_VALUE_ALONE = "meta_value needs meta_key (or write metadata.<key>=<value>)"
TOO_MANY_META = f"at most {MAX_METADATA_FILTERS} metadata filters"


def _time(value):
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


def filters_parse(raw, *, prefix: str = "", strict: bool = True) -> dict:
    """Clean filters from ``raw`` (a dict, or a QueryDict: first values); unknown keys are an
    error when ``strict`` (JSON bodies), ignored otherwise (query strings carry paging too)."""
    errors, clean = [], {}
    items = items_of(raw)
    for key, value in items:
        if key.startswith(METADATA_PREFIX) or key in ("meta_key", "meta_value"):
            continue
        if key not in FIELDS:
            if strict:
                errors.append({"path": prefix + key, "message": UNKNOWN.format(key)})
            continue
        if value in (None, ""):
            continue
        if key == "team":
            team = parse_id(value)
            if team is None:
                errors.append({"path": prefix + key, "message": BAD_TEAM})
            clean[key] = team
        elif key in ("since", "until"):
            when = _time(value)
            if when is None:
                errors.append({"path": prefix + key, "message": BAD_TIME.format(key)})
            clean[key] = when
        elif key == "feedback":
            if value not in FEEDBACK:
                errors.append({"path": prefix + key, "message": BAD_FEEDBACK})
            clean[key] = value
        else:
            if not isinstance(value, str) or len(value) > 200:
                errors.append({"path": prefix + key, "message": BAD_TEXT.format(key)})
            clean[key] = value
    meta, meta_errors = _metadata_filters(items_of(raw), prefix)
    errors += meta_errors
    if errors:
        raise ApplicationError(INVALID, code="invalid_filter", errors=errors)
    if meta:
        clean["metadata"] = meta
    return clean


def items_of(raw) -> list:
    return list(raw.items()) if hasattr(raw, "items") else []


def _metadata_filters(items, prefix: str):
    """``[(key, value text or None for "has the key")]`` and the problems, by path."""
    pairs, errors = [], []
    given = dict(items)
    for key, value in items:
        if key.startswith(METADATA_PREFIX):
            pairs.append((prefix + key, key[len(METADATA_PREFIX) :], value))
    if given.get("meta_key") not in (None, ""):
        pairs.append((prefix + "meta_key", given["meta_key"], given.get("meta_value")))
    elif given.get("meta_value") not in (None, ""):
        errors.append({"path": prefix + "meta_value", "message": META_VALUE_ALONE})
    if len(pairs) > MAX_METADATA_FILTERS:
        errors.append({"path": prefix + "metadata", "message": TOO_MANY_META})
        return [], errors
    out = []
    for path, key, value in pairs:
        if not is_metadata_key(key):
            errors.append({"path": path, "message": BAD_META_KEY})
            continue
        if value is None or value == "":
            out.append((key, None))
            continue
        text = metadata_value(value)
        if text is None:
            errors.append({"path": path, "message": BAD_META_VALUE})
            continue
        out.append((key, text))
    return out, errors


def _text(row: dict) -> str:
    if "search_text" in row:
        return row["search_text"]
    turns = list(row.get("messages") or []) + [row.get("response") or {}]
    return conversation_text(turns)


def _feedback_ok(wanted: str, score) -> bool:
    return {
        "positive": score is not None and score > 0,
        "negative": score is not None and score < 0,
        "neutral": score == 0,
        "none": score is None,
        "any": score is not None,
    }[wanted]


def filters_match(clean: dict, row: dict) -> bool:
    """Whether one log (a dict of its fields, ``created_at`` and ``team_id`` included) matches."""
    if "team" in clean and row.get("team_id") != clean["team"]:
        return False
    if "model" in clean and row.get("model") != clean["model"]:
        return False
    if "tag" in clean and clean["tag"] not in (row.get("tags") or []):
        return False
    if "trace_id" in clean and row.get("trace_id") != clean["trace_id"]:
        return False
    created = row.get("created_at")
    if "since" in clean and (created is None or created < clean["since"]):
        return False
    if "until" in clean and (created is None or created >= clean["until"]):
        return False
    if "feedback" in clean and not _feedback_ok(clean["feedback"], row.get("feedback_score")):
        return False
    for key, value in clean.get("metadata", ()):
        found = metadata_value((row.get("metadata") or {}).get(key, _MISSING))
        if found is None or (value is not None and found != value):
            return False
    return not ("search" in clean and not text_matches(clean["search"], _text(row)))


_MISSING = object()  # metadata_value of it is None: "no such key" reads as "not filterable"
