"""Two people edit the same example in two browsers: the second save shows both versions and
lets the user merge or overwrite; nothing is overwritten silently."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_resolves_an_edit_conflict_by_merging(
    new_page, screenshot, owner, teammate, dataset, make_example
):
    from datasets_app.models import Example

    ex = make_example(
        dataset,
        owner,
        [{"role": "user", "content": "Name a colour"}, {"role": "assistant", "content": "Blue"}],
    )
    alice, bob = new_page(owner), new_page(teammate)
    for page in (alice, bob):
        page.goto(f"/examples/{ex.pk}/edit/")

    bob.get_by_label("Turn 2 content").fill("Red, from Bob")
    bob.get_by_role("button", name="Save").click()
    expect(bob.get_by_role("status").filter(has_text="Saved")).to_be_visible()

    alice.get_by_label("Turn 2 content").fill("Green, from Alice")
    alice.get_by_role("button", name="Save").click()
    conflict = alice.get_by_role("region", name="Edit conflict")
    expect(conflict).to_be_visible()
    expect(conflict).to_contain_text("Red, from Bob")
    expect(conflict).to_contain_text("Alice")
    screenshot(alice, "edit-conflict")
    assert Example.objects.get(pk=ex.pk).current_revision.messages[1]["content"] == "Red, from Bob"

    alice.get_by_role("button", name="Merge: edit on top of theirs").click()
    answer = alice.get_by_label("Turn 2 content")
    expect(answer).to_have_value("Red, from Bob")
    expect(alice.get_by_role("note", name="Your version of turn 2")).to_contain_text("Green")
    answer.fill("Red and green")
    alice.get_by_role("button", name="Save").click()
    expect(alice.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    ex = Example.objects.get(pk=ex.pk)
    assert ex.current_revision.messages[1]["content"] == "Red and green"
    assert ex.revisions.count() == 3


def test_it_overwrites_only_when_asked(new_page, owner, teammate, dataset, make_example):
    from datasets_app.models import Example

    ex = make_example(
        dataset, owner, [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}]
    )
    alice, bob = new_page(owner), new_page(teammate)
    for page in (alice, bob):
        page.goto(f"/examples/{ex.pk}/edit/")
    bob.get_by_label("Turn 2 content").fill("Bob's answer")
    bob.get_by_role("button", name="Save").click()
    expect(bob.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    alice.get_by_label("Turn 2 content").fill("Alice's answer")
    alice.get_by_role("button", name="Save").click()
    alice.get_by_role("button", name="Overwrite theirs with mine").click()
    expect(alice.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    assert Example.objects.get(pk=ex.pk).current_revision.messages[1]["content"] == "Alice's answer"
