"""Log text search through the full-text index (capture.search, capture.search_index)."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capture import search_index
from capture.models import Log
from capture.search import index_document, index_terms, search_words, text_matches, text_words
from capture.selectors import log_filter
from capture.services.logs import log_batch_create
from finetunedb.teams.models import Team

# also run on PostgreSQL by scripts/test.sh (tsvector + GIN there)
pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def entry(text, model="m1"):
    return {
        "messages": [{"role": "user", "content": text}],
        "response": {"role": "assistant", "content": "ok"},
        "model": model,
    }


def store(team, texts):
    return log_batch_create(team=team, entries=[entry(t) for t in texts]).ids


def searched(team, query):
    logs = log_filter(Log.objects.filter(team=team), {"team": team.pk, "search": query})
    return sorted(logs.values_list("pk", flat=True))


def test_it_matches_all_words_the_last_as_a_prefix(team):
    ids = store(team, ["Where is my REFUND?", "refunds and orders", "order_refund", "été"])
    assert searched(team, "refund") == ids[:3]  # "order_refund": the underscore separates
    assert searched(team, "refunds order") == [ids[1]]  # orders: the last word is a prefix
    assert searched(team, "order refund") == [ids[2]]  # "order" whole: not "orders"
    assert searched(team, "ÉTÉ") == [ids[3]]
    assert searched(team, "efund") == []  # words, not substrings
    assert searched(team, "?!") == []  # no word: nothing, not everything


def test_it_never_reads_another_teams_words(team):
    other = Team.objects.create(name="other")
    mine = store(team, ["refund please"])
    store(other, ["refund now", "refunds"])
    assert searched(team, "refund") == mine
    assert searched(team, "now") == []
    assert all(t.startswith(f"t{other.pk}x") for t in index_terms(other.pk, "refund now"))
    assert index_document(other.pk, "refund now refund") == " ".join(
        index_terms(other.pk, "refund now refund")
    )
    assert index_document(other.pk, "?!") == ""


def test_it_pages_a_dense_match_newest_first_in_windows(team, monkeypatch, owner, api_for):
    monkeypatch.setattr(search_index, "FIRST_WINDOW", 3)
    monkeypatch.setattr(search_index, "MAX_WINDOW", 4)
    ids = store(team, [f"refund {i} {'odd' if i % 2 else 'even'}" for i in range(25)])
    api = api_for(owner)
    seen, url = [], f"/api/v1/logs/?search=refund&page_size=4&team={team.pk}"
    while url:
        body = api.get(url).json()
        seen += [log["id"] for log in body["results"]]
        url = body["next"]
    assert seen == ids[::-1]
    odd = api.get("/api/v1/logs/?search=refund+od&page_size=50").json()["results"]
    assert [log["id"] for log in odd] == ids[1::2][::-1]
    back = api.get(f"/api/v1/logs/?search=refund&page_size=4&before={ids[10]}").json()
    assert [log["id"] for log in back["results"]] == ids[11:15][::-1]


def test_it_asks_the_index_per_log_when_matches_are_many(team, monkeypatch):
    monkeypatch.setattr(search_index, "DENSE_MATCHES", 2)
    ids = store(team, ["refund a", "refund b", "order c", "refund d"])
    assert searched(team, "refund") == [ids[0], ids[1], ids[3]]
    assert searched(team, "order") == [ids[2]]


def test_it_forgets_a_deleted_log(team):
    from django.db import connection

    ids = store(team, ["refund gone", "refund kept"])
    Log.objects.filter(pk=ids[0]).delete()
    assert searched(team, "gone") == []
    sql = {
        "sqlite": "SELECT rowid FROM capture_log_fts WHERE rowid = %s",
        "postgresql": "SELECT log_id FROM capture_log_search WHERE log_id = %s",
    }[connection.vendor]
    with connection.cursor() as cursor:
        cursor.execute(sql, [ids[0]])
        assert cursor.fetchall() == []


ALPHABET = st.sampled_from(list("abAB é É1 2_-'.,\u0301ßñ😀\t\n"))


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    texts=st.lists(st.text(ALPHABET, min_size=1, max_size=12), min_size=1, max_size=6),
    query=st.text(ALPHABET, max_size=6),
)
def test_it_finds_exactly_what_the_rule_matcher_matches(team, texts, query):
    Log.objects.filter(team=team).delete()
    ids = store(team, texts)
    expected = [
        pk
        for pk, log in zip(ids, Log.objects.filter(pk__in=ids).order_by("pk"), strict=True)
        if text_matches(query, log.search_text)
    ]
    assert searched(team, query) == expected
    assert (not search_words(query)) <= (expected == [])


@given(st.text(st.characters(max_codepoint=0x7F)) | st.text(ALPHABET))
def test_it_splits_ascii_text_as_the_word_pattern_does(text):
    import re

    pattern = [w[:100] for w in re.findall(r"[^\W_]+", text)]
    assert text_words(text) == list(dict.fromkeys(pattern))


# long runs of one letter: words past the 100-character cut, some that cut to the same word
LONG_WORDS = st.builds(lambda c, n: c * n, st.sampled_from(list("ab1é")), st.integers(95, 110))


@given(
    st.lists(st.text(st.characters(max_codepoint=0x7F)) | st.text(ALPHABET) | LONG_WORDS).map(
        " ".join
    ),
    st.integers(1, 10**6),
)
def test_it_indexes_the_distinct_cut_words_in_first_seen_order(text, team_id):
    import re

    pattern = [w[:100] for w in re.findall(r"[^\W_]+", text)]
    terms = [f"t{team_id}x{w}" for w in dict.fromkeys(pattern)]
    assert index_document(team_id, text) == " ".join(terms)
    assert index_terms(team_id, text) == terms


@pytest.mark.parametrize(
    "query",
    ['"', "refund*", "refund OR now", "NEAR(refund now)", "terms:refund", "^refund", "{t}xnow"],
)
def test_it_reads_query_syntax_as_words_and_stays_in_the_team(team, owner, api_for, query):
    other = Team.objects.create(name="other")
    store(other, ["refund now", f"t{other.pk}xnow"])
    mine = store(team, ["refund later"])
    query = query.replace("{t}", f"t{other.pk}")
    response = api_for(owner).get("/api/v1/logs/", {"search": query, "team": team.pk})
    assert response.status_code == 200, response.content
    assert {log["id"] for log in response.json()["results"]} <= set(mine)
