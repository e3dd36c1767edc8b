"""The XSS payload corpus wherever the annotation pages show user text — assignment names,
Markdown guidelines, usernames, tags, notes, edited answers, example content — is shown as text
in real Chromium (the page fixture fails on any dialog or CSP violation)."""

import pytest

from tests.browser.test_xss import ALL, PAYLOAD_ELEMENTS, SVG

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_shows_every_payload_as_text_on_the_annotation_pages(
    new_page, owner, teammate, make_user, team, dataset, make_example
):
    from annotation.models import AssignmentItem
    from annotation.services.assignments import assignment_create
    from annotation.services.queue import annotation_submit, queue_next
    from finetunedb.teams.models import Membership

    evil = make_user(f"u{SVG}"[:150])
    Membership.objects.create(team=team, user=evil, role="annotator")
    turns = [{"role": "user", "content": ALL}, {"role": "assistant", "content": ALL}]
    for _ in range(2):
        make_example(dataset, owner, turns, tags=[SVG])
    assignment = assignment_create(
        user=owner,
        dataset=dataset,
        annotator_ids=[evil.pk, teammate.pk],
        overlap=2,
        name=f"batch {ALL}"[:200],
        guidelines=f"# Rules\n{ALL}",
    )
    item = queue_next(user=evil)
    annotation_submit(
        user=evil,
        item=item,
        values={"verdict": "approved", "rating": 3, "tags": [SVG], "note": ALL, "answer": ALL},
    )
    bob_item = queue_next(user=teammate)
    annotation_submit(user=teammate, item=bob_item, values={"verdict": "rejected"})
    mine = AssignmentItem.objects.filter(annotator=teammate, example=item.example).first()

    pages = [
        (owner, f"/datasets/{dataset.pk}/assignments/"),
        (owner, f"/datasets/{dataset.pk}/assignments/new/?tag={SVG}"),
        (owner, f"/assignments/{assignment.pk}/"),
        (owner, f"/assignments/{assignment.pk}/statistics/"),
        (evil, "/queue/"),
        (evil, f"/queue/{item.pk}/"),
    ]
    if mine is not None and mine.status == "submitted":
        pages.append((teammate, f"/queue/{mine.pk}/"))
    shown = []
    for user, path in pages:
        page = new_page(user)
        response = page.goto(path)
        assert response.status < 400, f"{path}: {response.status}"
        assert page.locator(PAYLOAD_ELEMENTS).count() == 0, path
        if "alert(1)" in page.locator("body").inner_text():
            shown.append(path)
        page.wait_for_timeout(100)
    assert len(shown) >= len(pages) - 1, sorted({p for _, p in pages} - set(shown))
