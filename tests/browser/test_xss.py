"""Seeded script payloads in every place user text is shown never run: no dialog fires (the
page fixture fails the test on one) and no payload exists as an element in the DOM."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "</script><script>alert(1)</script>"
LINK = '[click me](javascript:alert(1)) <a href="javascript:alert(1)">raw</a>'
SVG = "<svg onload=alert(1)>"
ALL = f"{IMG} {SCRIPT} {LINK} {SVG}"
PAYLOAD_ELEMENTS = "img[src='x'], svg[onload], a[href^='javascript'], script:not([src])"


@pytest.fixture
def seeded(owner, team, make_example):
    from datasets_app.models import Dataset
    from datasets_app.services.checks import dataset_checks_run

    dataset = Dataset.objects.create(
        team=team, name=f"evil {IMG}", description=ALL, created_by=owner
    )
    example = make_example(
        dataset,
        owner,
        [
            {"role": "system", "content": ALL},
            {"role": "user", "content": f"{{placeholder}} {ALL}"},
            {"role": "assistant", "content": f"{ALL} ```{SCRIPT}```", "name": "bot"},
        ],
        status="needs_review",
        tags=[SVG, IMG[:60]],
        notes=ALL,
    )
    dataset_checks_run(dataset_id=dataset.pk)
    return dataset, example


def assert_inert(page):
    assert page.locator(PAYLOAD_ELEMENTS).count() == 0
    page.wait_for_timeout(150)  # an onerror/onload would have fired by now


def test_it_shows_payloads_as_text_everywhere(new_page, screenshot, owner, seeded):
    dataset, example = seeded
    page = new_page(owner)
    paths = [
        "/",
        "/datasets/",
        f"/datasets/{dataset.pk}/overview/",
        f"/datasets/{dataset.pk}/",
        f"/datasets/{dataset.pk}/?search=alert",
        f"/datasets/{dataset.pk}/review/",
        f"/examples/{example.pk}/",
        f"/examples/{example.pk}/edit/",
        f"/examples/{example.pk}/history/",
        f"/datasets/{dataset.pk}/checks/",
    ]
    for path in paths:
        page.goto(path)
        assert_inert(page)
    page.goto(f"/examples/{example.pk}/edit/")
    for turn in (1, 2, 3):
        page.get_by_role("button", name=f"Preview turn {turn} as markdown").click()
        page.get_by_role("region", name=f"Preview of turn {turn}").wait_for()
        assert_inert(page)
    assert "alert(1)" in page.get_by_role("region", name="Preview of turn 3").inner_text()
    page.get_by_label("Turn 3 content").fill(f"{ALL} edited")  # live checks swap findings in
    page.wait_for_timeout(1200)
    assert_inert(page)
    screenshot(page, "xss-editor")
