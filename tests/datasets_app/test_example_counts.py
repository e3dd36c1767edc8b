"""Exact counts (issue 16.2): the example list, its bulk actions and the review queue say how
many examples there are past 10,000, and a bulk action on a filter names the exact number it
changes and is refused when the set changed since it was shown."""

import re

import pytest

from datasets_app.models import Example
from tests.many_examples import add_many

MANY = 10_050


@pytest.fixture
def logged_in(client, owner):
    client.force_login(owner)
    return client


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


def confirm_fields(html):
    """The hidden fields of the confirmation form, as the browser would send them back."""
    form = html[html.index('id="bulk-confirm-title"') :]
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))


def test_it_shows_the_exact_count_past_ten_thousand(logged_in, dataset, owner):
    add_many(dataset, owner, MANY)
    add_many(dataset, owner, 7, status="needs_review")
    add_many(dataset, owner, 5, status="archived")
    url = f"/datasets/{dataset.pk}/"
    page = text(logged_in.get(url))
    assert "Counting the matches" in page  # the page does not wait for its number
    counted = text(logged_in.get(url, {"count": "1"}))
    assert "10,057 examples</strong> match" in counted
    assert 'All <span id="filter-count">10,057</span> matching the filter' in counted
    assert "More than" not in counted and "more than" not in counted
    review_only = text(logged_in.get(url, {"status": "needs_review", "count": "1"}))
    assert "7 examples</strong> match" in review_only
    drafts = text(logged_in.get(url, {"status": "draft,archived", "count": "1"}))
    assert "10,055 examples</strong> match" in drafts


def test_it_fetches_the_exact_count_of_any_filter_after_the_page(logged_in, dataset, owner):
    add_many(dataset, owner, MANY, word="apple", tag="fruit")
    add_many(dataset, owner, 3, word="banana")
    for filters, expected in (
        ({"search": "apple"}, "10,050"),
        ({"tag": "fruit"}, "10,050"),
        ({"search": "banana", "status": "draft"}, "3"),
        ({"tag": "fruit", "search": "banana"}, "0"),
    ):
        page = text(logged_in.get(f"/datasets/{dataset.pk}/", filters))
        # shown without its number: the choice "all matching" waits for it
        assert "count=1" in page and "Counting the matches" in page, filters
        if expected != "0":  # no rows, no bulk actions
            assert 'name="scope" value="filter" disabled' in page, filters
        counted = text(logged_in.get(f"/datasets/{dataset.pk}/", {**filters, "count": "1"}))
        assert f"<strong>{expected} example" in counted, (filters, counted[:300])
        assert 'id="bulk-scope-filter" hx-swap-oob="true"' in counted
        assert f'name="expected_count" value="{expected.replace(",", "")}"' in counted


def test_it_confirms_a_filter_bulk_action_with_its_exact_number(logged_in, dataset, owner):
    pks = add_many(dataset, owner, MANY, word="apple")
    other = add_many(dataset, owner, 2, word="banana")
    body = {"action": "set_status:approved", "scope": "filter", "search": "apple"}
    asked = logged_in.post(f"/datasets/{dataset.pk}/examples/bulk/", body)
    page = text(asked)
    assert asked.status_code == 200
    assert "Set status: Approved: change 10,050 examples?" in page
    assert "Change 10,050 examples" in page
    assert not Example.objects.filter(status="approved").exists()  # nothing changed yet
    done = logged_in.post(
        f"/datasets/{dataset.pk}/examples/bulk/", confirm_fields(asked.content.decode())
    )
    assert done.status_code == 302
    approved = set(Example.objects.filter(status="approved").values_list("pk", flat=True))
    assert approved == set(pks) and not approved & set(other)
    shown = text(logged_in.get(done["Location"]))
    assert "Set status: Approved: 10,050 examples changed." in shown


def test_it_names_the_new_number_when_the_list_was_out_of_date(logged_in, dataset, owner):
    add_many(dataset, owner, 4)
    body = {"action": "archive", "scope": "filter", "expected_count": "3"}
    page = text(logged_in.post(f"/datasets/{dataset.pk}/examples/bulk/", body))
    assert "The list showed 3 when you chose this; the filter matches 4 now." in page
    assert "Archive: change 4 examples?" in page


def test_it_refuses_a_bulk_action_when_more_examples_match_since(logged_in, dataset, owner):
    add_many(dataset, owner, 3, word="apple")
    body = {"action": "add_tags", "bulk_tag": "fruit", "scope": "filter", "search": "apple"}
    asked = logged_in.post(f"/datasets/{dataset.pk}/examples/bulk/", body)
    add_many(dataset, owner, 1, word="apple")  # an import lands meanwhile
    refused = logged_in.post(
        f"/datasets/{dataset.pk}/examples/bulk/", confirm_fields(asked.content.decode())
    )
    page = text(refused)
    assert refused.status_code == 409
    assert "The selection changed since you saw it: 3 examples then, 4 now." in page
    assert "Add tag “fruit”: change 4 examples?" in page  # asked again, with the new number
    assert not Example.objects.filter(tags__name="fruit").exists()
    again = logged_in.post(
        f"/datasets/{dataset.pk}/examples/bulk/",
        confirm_fields(refused.content.decode()),
        follow=True,
    )
    assert "Add tag “fruit”: 4 examples changed." in text(again)
    assert Example.objects.filter(tags__name="fruit").count() == 4


def test_it_refuses_when_the_same_number_of_other_examples_match(logged_in, dataset, owner):
    a, b, c = add_many(dataset, owner, 3, status="needs_review")
    (d,) = add_many(dataset, owner, 1, status="draft")
    body = {"action": "set_status:approved", "scope": "filter", "status": "needs_review"}
    asked = logged_in.post(f"/datasets/{dataset.pk}/examples/bulk/", body)
    # a reviewer rejects one and sends another for review: still three, not the same three
    Example.objects.filter(pk=a).update(status="rejected")
    Example.objects.filter(pk=d).update(status="needs_review")
    refused = logged_in.post(
        f"/datasets/{dataset.pk}/examples/bulk/", confirm_fields(asked.content.decode())
    )
    assert refused.status_code == 409
    assert "still 3 examples, but not the same ones" in text(refused)
    assert not Example.objects.filter(status="approved").exists()


def test_it_needs_the_number_before_a_filter_bulk_action(logged_in, dataset, owner):
    add_many(dataset, owner, 2)
    # a confirmation without the number it confirms is asked again, not applied
    body = {"action": "archive", "scope": "filter", "confirmed": "1"}
    page = text(logged_in.post(f"/datasets/{dataset.pk}/examples/bulk/", body))
    assert "Archive: change 2 examples?" in page
    assert not Example.objects.filter(status="archived").exists()


def test_it_says_so_when_nothing_matches_the_filter(logged_in, dataset, owner):
    add_many(dataset, owner, 2)
    body = {"action": "archive", "scope": "filter", "status": "rejected"}
    response = logged_in.post(f"/datasets/{dataset.pk}/examples/bulk/", body, follow=True)
    assert "No example matches the filter; nothing was changed." in text(response)


def review_count(client, dataset, **params) -> str:
    """The review page, then its "n of N waiting" as the page fetches it (hx-get on load)."""
    page = text(client.get(f"/datasets/{dataset.pk}/review/", params))
    assert "Counting the queue" in page and "waiting" not in page  # the page does not wait
    fragment = re.search(r'id="review-count" hx-get="([^"]+)"', page).group(1)
    return text(client.get(fragment.replace("&amp;", "&")))


def test_it_counts_the_review_queue_exactly(logged_in, dataset, owner):
    pks = add_many(dataset, owner, MANY, status="needs_review")
    add_many(dataset, owner, 20, status="draft")
    assert "1 of 10,050 waiting" in review_count(logged_in, dataset)
    assert "1,001 of 10,050 waiting" in review_count(logged_in, dataset, at=pks[1000])
    assert "1 of 10,070 waiting" in review_count(logged_in, dataset, drafts="1")
    # decided meanwhile (another reviewer): the number still waiting, no position
    Example.objects.filter(pk=pks[0]).update(status="approved")
    gone = text(logged_in.get(f"/datasets/{dataset.pk}/review/", {"count": "1", "example": pks[0]}))
    assert ">10,049 waiting<" in gone
