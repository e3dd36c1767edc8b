"""The example list: search and filters, keyset pages, bulk actions on a selection or a filter."""

import re

import pytest

from datasets_app.models import Example


def chat(text, answer="ok"):
    return [{"role": "user", "content": text}, {"role": "assistant", "content": answer}]


@pytest.fixture
def logged_in(client, owner):
    client.force_login(owner)
    return client


def shown_ids(html):
    return [int(i) for i in re.findall(r'name="ids" value="(\d+)"', html)]


@pytest.mark.postgres
def test_it_searches_and_filters(logged_in, dataset, owner, make_example):
    a = make_example(dataset, owner, chat("refund policy please"), status="needs_review")
    make_example(dataset, owner, chat("refund status"), status="approved")
    make_example(dataset, owner, chat("unrelated"), status="needs_review")
    html = logged_in.get(
        f"/datasets/{dataset.pk}/", {"search": "refund", "status": "needs_review"}
    ).content.decode()
    assert shown_ids(html) == [a.pk]
    assert "count=1" in html  # a search's count is fetched after the page
    count = logged_in.get(
        f"/datasets/{dataset.pk}/", {"search": "refund", "status": "needs_review", "count": "1"}
    ).content.decode()
    assert "1 example</strong> matches" in count and 'id="filter-count"' in count


@pytest.mark.postgres
def test_it_pages_search_results_through_small_index_windows(
    logged_in, dataset, other_dataset, owner, outsider, make_example, monkeypatch
):
    from datasets_app.pages import examples as examples_page
    from datasets_app.workspace import keyset

    monkeypatch.setattr(examples_page, "PAGE_SIZE", 2)
    monkeypatch.setattr(keyset, "FIRST_WINDOW", 2)
    mine = []
    for i in range(5):
        make_example(other_dataset, outsider, chat(f"kiwi elsewhere {i}"))
        mine.append(make_example(dataset, owner, chat(f"kiwi here {i}")).pk)
        make_example(dataset, owner, chat(f"banana {i}"))
    seen, after = [], None
    while True:
        params = {"search": "kiwi", **({"after": after} if after else {})}
        page = shown_ids(logged_in.get(f"/datasets/{dataset.pk}/", params).content.decode())
        if not page:
            break
        seen += page
        after = page[-1]
    assert seen == mine
    newest = logged_in.get(
        f"/datasets/{dataset.pk}/", {"search": "kiwi", "sort": "-id", "before": mine[1]}
    ).content.decode()
    assert shown_ids(newest) == [mine[3], mine[2]]


def test_it_pages_by_keyset_both_ways(logged_in, dataset, owner, make_example, monkeypatch):
    from datasets_app.pages import examples as examples_page

    monkeypatch.setattr(examples_page, "PAGE_SIZE", 2)
    ids = [make_example(dataset, owner, chat(f"q{i}")).pk for i in range(5)]
    first = logged_in.get(f"/datasets/{dataset.pk}/").content.decode()
    assert shown_ids(first) == ids[:2]
    second = logged_in.get(f"/datasets/{dataset.pk}/", {"after": ids[1]}).content.decode()
    assert shown_ids(second) == ids[2:4]
    back = logged_in.get(f"/datasets/{dataset.pk}/", {"before": ids[2]}).content.decode()
    assert shown_ids(back) == ids[:2]
    newest = logged_in.get(
        f"/datasets/{dataset.pk}/", {"sort": "-id", "after": ids[3]}
    ).content.decode()
    assert shown_ids(newest) == [ids[2], ids[1]]
    assert f"after={ids[1]}" in newest and f"before={ids[2]}" in newest


def test_it_pages_by_last_edit(logged_in, dataset, owner, make_example, monkeypatch):
    from datasets_app.pages import examples as examples_page

    monkeypatch.setattr(examples_page, "PAGE_SIZE", 2)
    ids = [make_example(dataset, owner, chat(f"q{i}")).pk for i in range(4)]
    Example.objects.filter(pk=ids[0]).update(notes="touched")  # same updated_at ties break on id
    pages, after = [], None
    for _ in range(3):
        html = logged_in.get(
            f"/datasets/{dataset.pk}/",
            {"sort": "-updated_at", **({"after": after} if after else {})},
        ).content.decode()
        page = shown_ids(html)
        if not page:
            break
        pages += page
        after = page[-1]
    assert sorted(pages) == sorted(ids) and len(pages) == 4


def test_it_applies_a_bulk_action_to_the_selected_rows(logged_in, dataset, owner, make_example):
    a, b, c = (make_example(dataset, owner, chat(f"q{i}")) for i in range(3))
    response = logged_in.post(
        f"/datasets/{dataset.pk}/examples/bulk/",
        {"action": "set_status:approved", "scope": "selected", "ids": [a.pk, c.pk]},
    )
    assert response.status_code == 302
    statuses = dict(Example.objects.values_list("pk", "status"))
    assert statuses == {a.pk: "approved", b.pk: "draft", c.pk: "approved"}


def test_it_applies_a_bulk_action_to_everything_the_filter_matches(
    logged_in, dataset, owner, make_example
):
    hits = [make_example(dataset, owner, chat(f"apple {i}")).pk for i in range(3)]
    miss = make_example(dataset, owner, chat("banana")).pk
    body = {"action": "add_tags", "bulk_tag": "fruit", "scope": "filter", "search": "apple"}
    # confirmed with the exact number the confirmation page showed (tests/…/test_example_counts)
    logged_in.post(
        f"/datasets/{dataset.pk}/examples/bulk/", {**body, "confirmed": "1", "expected_count": 3}
    )
    tagged = set(Example.objects.filter(tags__name="fruit").values_list("pk", flat=True))
    assert tagged == set(hits) and miss not in tagged


def test_it_applies_a_safe_fix_in_bulk(logged_in, dataset, owner, make_example):
    ex = make_example(dataset, owner, chat("  spaced  "))
    logged_in.post(
        f"/datasets/{dataset.pk}/examples/bulk/",
        {"action": "fix:trim_whitespace", "scope": "selected", "ids": [ex.pk]},
    )
    ex.refresh_from_db()
    assert ex.current_revision.messages[0]["content"] == "spaced"


def test_it_refuses_curation_to_an_annotator(client, teammate, dataset, owner, make_example):
    ex = make_example(dataset, owner, chat("q"))
    client.force_login(teammate)
    response = client.post(
        f"/datasets/{dataset.pk}/examples/bulk/",
        {"action": "archive", "scope": "selected", "ids": [ex.pk]},
    )
    assert response.status_code == 403
    ex.refresh_from_db()
    assert ex.status == "draft"


def test_it_escapes_example_text_and_tags(logged_in, dataset, owner, make_example):
    payload = "<img src=x onerror=alert(1)>"
    make_example(dataset, owner, chat(payload), tags=["<svg onload=alert(1)>"])
    html = logged_in.get(f"/datasets/{dataset.pk}/").content.decode()
    assert "<img src=x" not in html and "<svg onload" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_it_offers_bulk_archiving_only_to_those_who_may_archive(
    client, owner, teammate, dataset, make_example
):
    make_example(dataset, owner, chat("one"))
    client.force_login(teammate)
    annotator_html = client.get(f"/datasets/{dataset.pk}/").content.decode()
    assert 'value="set_status:approved"' in annotator_html
    assert 'value="set_status:archived"' not in annotator_html
    client.force_login(owner)
    assert 'value="set_status:archived"' in client.get(f"/datasets/{dataset.pk}/").content.decode()


@pytest.mark.postgres
def test_it_filters_by_tag_in_pages_of_its_own_dataset_only(
    logged_in, dataset, other_dataset, owner, outsider, make_example, monkeypatch
):
    from datasets_app.models import Tag
    from datasets_app.pages import examples as list_page

    gold = Tag.objects.create(dataset=dataset, name="gold")
    theirs = Tag.objects.create(dataset=other_dataset, name="gold")
    tagged = []
    for i in range(7):
        ex = make_example(dataset, owner, chat(f"question {i}"), status="draft")
        if i % 2 == 0:
            ex.tags.add(gold)
            tagged.append(ex.pk)
    make_example(other_dataset, outsider, chat("their gold")).tags.add(theirs)
    archived = make_example(dataset, owner, chat("old gold"), status="archived")
    archived.tags.add(gold)
    monkeypatch.setattr(list_page, "PAGE_SIZE", 2)
    first = shown_ids(logged_in.get(f"/datasets/{dataset.pk}/", {"tag": "gold"}).content.decode())
    rest = logged_in.get(f"/datasets/{dataset.pk}/", {"tag": "gold", "after": first[-1]})
    rest = rest.content.decode()
    assert first + shown_ids(rest) == tagged
    count = logged_in.get(f"/datasets/{dataset.pk}/", {"tag": "gold", "count": "1"})
    assert "4 examples</strong> match" in count.content.decode()
    none = logged_in.get(f"/datasets/{dataset.pk}/", {"tag": "silver"}).content.decode()
    assert shown_ids(none) == []
