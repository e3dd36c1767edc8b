"""capture.filters: the rules' matcher answers what the list's query answers, log by log."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capture.filters import filters_match, filters_parse
from capture.models import Log
from capture.selectors import log_filter
from capture.services.logs import log_batch_create
from finetunedb.exceptions import ApplicationError

pytestmark = pytest.mark.django_db

TAGS = ["a", "b", "c"]
MODELS = ["m1", "m2"]
WORDS = ["refund", "Order", "ship"]


def test_it_names_the_bad_field_with_its_prefix():
    with pytest.raises(ApplicationError) as caught:
        filters_parse({"feedback": "great", "colour": "red"}, prefix="filter.")
    assert {e["path"] for e in caught.value.errors} == {"filter.feedback", "filter.colour"}


@pytest.fixture
def stored(team):
    entries = [
        {
            "messages": [{"role": "user", "content": f"{WORDS[i % 3]} {i}"}],
            "response": {"role": "assistant", "content": "ok"},
            "model": MODELS[i % 2],
            "tags": TAGS[: i % 4],
            "trace_id": f"t{i % 3}",
            "metadata": [
                {"customer": f"c{i % 3}", "n": i % 2, "ok": i % 4 == 0},
                {"customer": {"nested": "c0"}},
                {},
            ][i % 3 if i % 5 else 0],
        }
        for i in range(12)
    ]
    ids = log_batch_create(team=team, entries=entries).ids
    for i, pk in enumerate(ids):
        Log.objects.filter(pk=pk).update(feedback_score=[None, -1, 0, 1][i % 4])
    return list(Log.objects.filter(pk__in=ids))


FILTERS = st.fixed_dictionaries(
    {},
    optional={
        "model": st.sampled_from(MODELS),
        "tag": st.sampled_from(TAGS),
        "trace_id": st.sampled_from(["t0", "t1", "t2"]),
        "feedback": st.sampled_from(["positive", "negative", "neutral", "none", "any"]),
        "search": st.sampled_from(["refund", "ORDER", "ship 1", "zzz"]),
        "since": st.sampled_from([-1, 1]),
        "metadata.customer": st.sampled_from(["c0", "c1", "c2", "c9"]),
        "metadata.n": st.sampled_from(["0", "1", 1]),
        "metadata.ok": st.sampled_from(["true", "false", True]),
        "meta_key": st.sampled_from(["customer", "n", "missing"]),
    },
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=FILTERS)
def test_it_matches_a_row_exactly_when_the_query_returns_it(stored, raw):
    if "since" in raw:
        raw["since"] = (datetime.now(UTC) + timedelta(hours=raw["since"])).isoformat()
    clean = filters_parse(raw)
    queried = set(log_filter(Log.objects.all(), clean).values_list("pk", flat=True))
    matched = {
        log.pk
        for log in stored
        if filters_match(
            clean,
            {
                "team_id": log.team_id,
                "model": log.model,
                "tags": log.tags,
                "trace_id": log.trace_id,
                "created_at": log.created_at,
                "feedback_score": log.feedback_score,
                "messages": log.messages,
                "response": log.response,
                "metadata": log.metadata,
            },
        )
    }
    assert matched == queried


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ({"metadata.bad-key": "x"}, "filter.metadata.bad-key"),
        ({"meta_value": "x"}, "filter.meta_value"),
        ({"meta_key": "k" * 65}, "filter.meta_key"),
        ({"metadata.k": "v" * 201}, "filter.metadata.k"),
        ({"metadata.k": {"a": 1}}, "filter.metadata.k"),
        ({f"metadata.k{i}": "v" for i in range(6)}, "filter.metadata"),
    ],
)
def test_it_bounds_metadata_filters_and_names_the_field(raw, path):
    with pytest.raises(ApplicationError) as caught:
        filters_parse(raw, prefix="filter.")
    assert [e["path"] for e in caught.value.errors] == [path]


def test_it_reads_both_spellings_of_a_metadata_filter():
    assert filters_parse({"metadata.customer": "c1"}) == {"metadata": [("customer", "c1")]}
    assert filters_parse({"meta_key": "customer", "meta_value": "c1"}) == {
        "metadata": [("customer", "c1")]
    }
    assert filters_parse({"meta_key": "customer"}) == {"metadata": [("customer", None)]}


@pytest.mark.parametrize(
    "raw",
    [{"tag": "a"}, {"tag": "b", "model": "m1"}, {"metadata.customer": "c1"}, {"meta_key": "n"}],
)
def test_it_finds_the_same_logs_whether_a_filter_is_dense_or_selective(stored, raw, monkeypatch):
    from capture import selectors

    clean = filters_parse(raw)
    selective = list(log_filter(Log.objects.all(), clean).values_list("pk", flat=True))
    monkeypatch.setattr(selectors, "DENSE_ROWS", 1)  # every filter takes the EXISTS way
    dense = list(log_filter(Log.objects.all(), clean).values_list("pk", flat=True))
    assert dense == selective and selective
