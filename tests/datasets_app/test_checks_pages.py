import pytest

from datasets_app.checks_charts import histogram_chart
from datasets_app.models import ExampleRevision

XSS = "<img src=x onerror=alert(1)>"
ANSWERS = [
    "Paris is the capital of France.",
    "Berlin is the capital of Germany.",
    "Rome is the capital of Italy.",
    "Madrid is the capital of Spain.",
    "Lisbon is the capital of Portugal.",
    "Vienna is the capital of Austria.",
    "Oslo is the capital of Norway.",
    "Bern is the capital of Switzerland.",
    "Dublin is the capital of Ireland.",
    "Athens is the capital of Greece.",
    "Warsaw is the capital of Poland",
]


@pytest.fixture
def checked(dataset, owner, make_example, django_capture_on_commit_callbacks):
    """Eleven capital-city answers (one without a final period) and one hostile example."""
    with django_capture_on_commit_callbacks(execute=True):
        for answer in ANSWERS:
            make_example(
                dataset,
                owner,
                messages=[
                    {"role": "user", "content": f"What is the capital? {answer.split()[-1]}"},
                    {"role": "assistant", "content": answer},
                ],
            )
        hostile = make_example(
            dataset,
            owner,
            messages=[
                {"role": "user", "content": f"{XSS} {{{{name}}}}"},
                {"role": "assistant", "content": f"{XSS} is a tag. "},
            ],
        )
    return hostile


@pytest.fixture
def preview_of(client, django_capture_on_commit_callbacks):
    """GET a fix preview as a browser does: its scan is queued (the answer is the job's page),
    the worker runs it, and the job's page leads to the preview."""

    def get(url):
        with django_capture_on_commit_callbacks(execute=True):
            queued = client.get(url)
        assert queued.status_code == 302 and queued["Location"].startswith("/actions/")
        return client.get(queued["Location"], follow=True)

    return get


def test_it_renders_findings_statistics_and_histograms(checked, dataset, owner, client):
    client.force_login(owner)
    page = client.get(f"/datasets/{dataset.pk}/checks/").content.decode()
    assert "Unfilled template placeholder" in page
    assert f"/datasets/{dataset.pk}/?rule=unfilled_placeholder" in page
    assert "1 of 12 answers do not end with . ! or ? while 11 end with" in page
    assert page.count('class="histogram-svg"') == 3
    assert page.count('<rect class="bar"') >= 3
    assert "Total tokens" in page and "p95" in page


def test_it_escapes_user_text_everywhere(checked, dataset, owner, client, preview_of):
    client.force_login(owner)
    pages = [
        client.get(f"/datasets/{dataset.pk}/checks/"),
        client.get(f"/examples/{checked.pk}/"),
        preview_of(f"/datasets/{dataset.pk}/checks/fixes/?fix=trim_whitespace"),
        client.get(f"/datasets/{dataset.pk}/?rule=unfilled_placeholder"),
    ]
    for response in pages:
        assert response.status_code == 200
        html = response.content.decode()
        assert XSS not in html
        assert "style=" not in html
    # The fix preview prints each space as a marker (·): the payload comes out escaped in pieces.
    preview = pages[2].content.decode()
    assert "&lt;img" in preview and "onerror=alert(1)&gt;" in preview


def test_it_shows_findings_on_the_turn_they_concern(checked, owner, client):
    client.force_login(owner)
    html = client.get(f"/examples/{checked.pk}/").content.decode()
    user_turn = html.index("turn role-user")
    assistant_turn = html.index("turn role-assistant")
    placeholder = html.index("messages[0].content")
    whitespace = html.index("messages[1].content")
    assert user_turn < placeholder < assistant_turn < whitespace


def test_it_filters_the_dataset_page_by_rule(checked, dataset, owner, client):
    client.force_login(owner)
    html = client.get(f"/datasets/{dataset.pk}/?rule=unfilled_placeholder").content.decode()
    assert f'href="/examples/{checked.pk}/"' in html
    # The exact count arrives after the page (issue 16.2), from the same filter.
    count = client.get(f"/datasets/{dataset.pk}/?rule=unfilled_placeholder&count=1")
    assert "1 example<" in count.content.decode()


def test_it_estimates_the_cost_from_the_price_form(checked, dataset, owner, client):
    client.force_login(owner)
    html = client.get(
        f"/datasets/{dataset.pk}/checks/?price_per_million=25&epochs=2"
    ).content.decode()
    assert "trained tokens" in html and "epochs at 25" in html
    html = client.get(f"/datasets/{dataset.pk}/checks/?price_per_million=-3").content.decode()
    assert "must be a number" in html


def test_it_previews_and_applies_a_safe_fix(
    checked, dataset, owner, client, preview_of, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    preview = preview_of(
        f"/datasets/{dataset.pk}/checks/fixes/?fix=trim_whitespace&rule=surrounding_whitespace"
    )
    html = preview.content.decode()
    assert "would change" in html and 'name="csrfmiddlewaretoken"' in html
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/datasets/{dataset.pk}/checks/fixes/apply/",
            {"fix": "trim_whitespace", "rule": "surrounding_whitespace"},
        )
    # The writes are a job: its page, then the checks page saying what changed.
    assert response.status_code == 302 and response["Location"].startswith("/actions/")
    done = client.get(response["Location"], follow=True)
    assert done.redirect_chain[-1][0] == f"/datasets/{dataset.pk}/checks/"
    assert "Fixed 1 example(s)" in done.content.decode()
    checked.refresh_from_db()
    assert checked.current_revision.number == 2
    assert checked.current_revision.messages[1]["content"].endswith("tag.")
    assert ExampleRevision.objects.filter(example=checked).count() == 2


def test_it_keeps_the_fix_flow_from_annotators(checked, dataset, teammate, client):
    client.force_login(teammate)
    assert client.get(f"/datasets/{dataset.pk}/checks/").status_code == 200
    assert (
        client.get(f"/datasets/{dataset.pk}/checks/fixes/?fix=trim_whitespace").status_code == 403
    )
    response = client.post(
        f"/datasets/{dataset.pk}/checks/fixes/apply/", {"fix": "trim_whitespace"}
    )
    assert response.status_code == 403
    assert client.post(f"/datasets/{dataset.pk}/checks/recheck/").status_code == 403
    checked.refresh_from_db()
    assert checked.revision == 1


def test_it_scales_histogram_bars_to_the_tallest_bin():
    chart = histogram_chart([(0.0, 10.0, 4), (10.0, 20.0, 2), (20.0, 30.0, 0)])
    heights = [bar["height"] for bar in chart["bars"]]
    assert heights[0] == 2 * heights[1] and heights[2] == 0
    assert all(bar["y"] + bar["height"] == pytest.approx(chart["axis_y"]) for bar in chart["bars"])
    assert histogram_chart([]) is None


def test_it_shows_example_wide_findings_above_the_turns(
    dataset, owner, make_example, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = make_example(dataset, owner)
        second = make_example(dataset, owner)
    client.force_login(owner)
    html = client.get(f"/examples/{first.pk}/").content.decode()
    assert f"Identical to example {second.pk}." in html
    assert html.index(f"Identical to example {second.pk}.") < html.index('class="chat"')
