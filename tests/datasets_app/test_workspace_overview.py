"""The team home page and the dataset overview."""

import pytest


@pytest.fixture
def logged_in(client, owner):
    client.force_login(owner)
    return client


def test_it_counts_examples_by_status_on_the_home_page(logged_in, dataset, owner, make_example):
    make_example(dataset, owner, status="approved")
    make_example(dataset, owner, status="approved")
    make_example(dataset, owner)
    html = logged_in.get("/").content.decode()
    assert f'href="/datasets/{dataset.pk}/?status=approved">2<' in html
    assert "Recent edits" in html and "revision 1" in html


def test_it_hides_other_teams_activity(logged_in, other_dataset, outsider, make_example):
    make_example(other_dataset, outsider)
    assert "their-data" not in logged_in.get("/").content.decode()


def test_it_shows_counts_checks_and_tools_on_the_overview(logged_in, dataset, owner, make_example):
    make_example(
        dataset, owner, [{"role": "user", "content": "hi"}, {"role": "assistant", "content": " "}]
    )
    html = logged_in.get(f"/datasets/{dataset.pk}/overview/").content.decode()
    assert f'href="/datasets/{dataset.pk}/?status=draft">1<' in html
    assert f'href="/datasets/{dataset.pk}/import/"' in html
    assert f'href="/datasets/{dataset.pk}/versions/"' in html
    assert "?rule=" in html
