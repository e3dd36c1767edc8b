"""Issue 14 item 5: a full-text search reads only the searched dataset's part of the index, so
what it costs (and how long it takes) cannot tell whether another team's data holds a word.

CI does not time anything: the probes count the work instead — SQLite's virtual-machine steps
(every row the index hands back is steps), PostgreSQL's rows out of every plan node — and the
index is read without the dataset filter of the surrounding query, to show it is keyed by
dataset itself.
"""

import json

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datasets_app.models import Example
from datasets_app.services.search import (
    dataset_term_prefix,
    example_search,
    fts_window,
    search_windowed,
    search_words,
)

pytestmark = pytest.mark.django_db


def chat(text, answer="ok"):
    return [{"role": "user", "content": text}, {"role": "assistant", "content": answer}]


def sqlite_steps(run) -> int:
    """SQLite virtual-machine steps taken by ``run()``."""
    connection.ensure_connection()
    steps = [0]

    def tick():
        steps[0] += 1
        return 0

    raw = connection.connection
    raw.set_progress_handler(tick, 1)
    try:
        run()
    finally:
        raw.set_progress_handler(None, 1)
    return steps[0]


# What a merged index of more terms may add to one search: a term's doclist can start a page
# further on. One foreign row handed back costs more steps than this on its own.
STRUCTURE_STEPS = 4


def close(after, before) -> bool:
    return abs(after - before) <= STRUCTURE_STEPS


def merge_index():
    """FTS5 looks a term up once per segment of its index, and how many segments there are
    depends on everybody's write history; both sides of a comparison merge it into one first.
    (A segment lookup is not a row: the rows a term matches are what the probes compare.)"""
    if connection.vendor == "sqlite":
        with connection.cursor() as c:
            c.execute(
                "INSERT INTO datasets_app_example_fts(datasets_app_example_fts) VALUES ('optimize')"
            )


def plan_rows(node) -> int:
    rows = round(node.get("Actual Rows", 0) * node.get("Actual Loops", 1))
    return rows + sum(plan_rows(child) for child in node.get("Plans", []))


def search_work(dataset, text) -> int:
    """The work of the example list's search query: steps on SQLite, plan-node rows on PostgreSQL."""
    from datasets_app.selectors import example_list

    qs = example_list(dataset, filters={"search": text}).values_list("pk", flat=True)
    if connection.vendor == "postgresql":
        # The plan of a large table: on a dozen rows the planner would rather read them all.
        with connection.cursor() as c:
            c.execute("SET LOCAL enable_seqscan = off")
            c.execute("SET LOCAL enable_nestloop = off")
        try:
            plan = json.loads(qs.explain(format="json", analyze=True))[0]["Plan"]
        finally:
            with connection.cursor() as c:
                c.execute("RESET enable_seqscan")
                c.execute("RESET enable_nestloop")
        return plan_rows(plan)
    return sqlite_steps(lambda: list(qs))


def index_ids(dataset, text) -> set[int]:
    """Ids the index itself gives for ``text`` in ``dataset``: no dataset filter around it."""
    ids = set(
        example_search(Example.objects.all(), text, dataset_id=dataset.pk).values_list(
            "pk", flat=True
        )
    )
    if search_windowed() and search_words(text):
        words = search_words(text)
        for ascending in (True, False):
            ids |= set(
                fts_window(
                    words, dataset_id=dataset.pk, cursor=None, ascending=ascending, limit=10**6
                )
            )
    return ids


@pytest.fixture
def mine(dataset, owner, make_example):
    """Twelve examples, four of which say "paris tower"."""
    return [
        make_example(
            dataset, owner, chat(f"question {i}" + (" paris tower" if i % 3 == 0 else ""))
        ).pk
        for i in range(12)
    ]


def fill_theirs(other_dataset, outsider, n):
    """``n`` examples of another team that all hold the searched words (set-based, as an import)."""
    from django.db import transaction

    from datasets_app.canonical import content_hash
    from datasets_app.services.example_rows import examples_insert_new

    rows = []
    for i in range(n):
        messages = chat(f"paris tower secret{i} parisian", "towers of paris")
        rows.append(({"messages": messages}, "jsonl", content_hash(messages, None)))
    with transaction.atomic():
        examples_insert_new(dataset_id=other_dataset.pk, user_id=outsider.pk, rows=rows, count=n)


@pytest.mark.postgres
def test_it_does_the_same_search_work_whatever_another_team_holds(
    dataset, other_dataset, outsider, mine
):
    queries = ["paris", "par", "paris tower", "tower p", "question"]
    merge_index()
    before = {q: search_work(dataset, q) for q in queries}
    fill_theirs(other_dataset, outsider, 300)
    merge_index()
    after = {q: search_work(dataset, q) for q in queries}
    assert all(close(after[q], before[q]) for q in queries), (after, before)
    assert index_ids(dataset, "paris") == {pk for i, pk in enumerate(mine) if i % 3 == 0}


def test_it_takes_the_same_steps_for_a_search_page_whatever_another_team_holds(
    client, owner, dataset, other_dataset, outsider, mine
):
    client.force_login(owner)
    url = f"/datasets/{dataset.pk}/"
    requests = [
        {"search": "paris"},
        {"search": "par", "sort": "-id"},
        {"search": "paris", "count": "1"},
    ]

    def pages():
        for params in requests:
            assert client.get(url, params).status_code == 200

    pages()  # the session and caches warm up once
    merge_index()
    before = sqlite_steps(pages)
    fill_theirs(other_dataset, outsider, 300)
    merge_index()
    assert close(sqlite_steps(pages), before)


@pytest.mark.postgres
def test_it_keys_every_index_entry_by_its_example_dataset(
    dataset, other_dataset, owner, outsider, make_example, mine
):
    fill_theirs(other_dataset, outsider, 5)
    moved = make_example(other_dataset, outsider, chat("moving house"))
    Example.objects.filter(pk=moved.pk).update(dataset=dataset)
    with connection.cursor() as c:
        if connection.vendor == "postgresql":
            c.execute(
                "SELECT e.id, e.dataset_id, u.lexeme FROM datasets_app_example_search AS s "
                "JOIN datasets_app_example AS e ON e.id = s.example_id, unnest(s.document) AS u"
            )
        else:
            c.execute(
                "CREATE VIRTUAL TABLE temp.terms_probe USING "
                "fts5vocab(main, datasets_app_example_fts, 'instance')"
            )
            c.execute(
                "SELECT e.id, e.dataset_id, v.term FROM temp.terms_probe AS v "
                "JOIN datasets_app_example AS e ON e.id = v.doc"
            )
        entries = c.fetchall()
    assert {pk for pk, _, _ in entries} >= set(mine) | {moved.pk}
    assert all(term.startswith(dataset_term_prefix(ds)) for _, ds, term in entries)
    assert index_ids(dataset, "moving") == {moved.pk}
    assert index_ids(other_dataset, "moving") == set()


def payloads(other_id):
    return [
        "secret0",
        f"d{other_id}xsecret0",
        f'"d{other_id}xsecret0"',
        f"d{other_id}x",
        f"terms:d{other_id}xsecret0",
        f"{{terms}} : d{other_id}x*",
        f"- d{other_id}xsecret0",
        f"question_d{other_id}xsecret0",
        f"question\u19b0d{other_id}xsecret0",  # a letter to Python, a separator to FTS5
        f"question OR d{other_id}xsecret0",
        f"NEAR(d{other_id}xparis d{other_id}xtower, 10)",
        f"'d{other_id}xsecret0':*",
        f"d{other_id}xsecret0:* | question",
        f"!question & d{other_id}xsecret0",
        "question <-> secret0",
        "rowid:1",
        "*",
        '"',
        "'",
        "\\",
        "((((",
        "^q",
        "\x00",
        "\u0301",
        "x" * 5000,
        " ".join(["q"] * 500),
    ]


@pytest.mark.postgres
def test_it_cannot_address_another_dataset_through_query_syntax(
    dataset, other_dataset, outsider, mine
):
    fill_theirs(other_dataset, outsider, 3)
    for text in payloads(other_dataset.pk):
        assert index_ids(dataset, text) <= set(mine), text


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=st.text(max_size=60))
def test_it_answers_any_text_from_the_searched_dataset_only(
    dataset, other_dataset, outsider, mine, text
):
    if not Example.objects.filter(dataset=other_dataset).exists():
        fill_theirs(other_dataset, outsider, 3)
    assert index_ids(dataset, text + " paris") <= set(mine)
    assert index_ids(dataset, text) <= set(mine)
