"""Issue 21 done means, in three browsers: a curator assigns 30 examples with overlap 2, two
annotators work through their queues blind with the keyboard, the agreement page shows the
krippendorff package's alpha and a hand-computed kappa, and the curator's adjudication sets the
examples' status."""

import re

import krippendorff
import numpy as np
import pytest
from playwright.sync_api import expect

from datasets_app.models import Example
from tests.factories import MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def chat(i):
    return [
        {"role": "user", "content": f"Question {i}?"},
        {"role": "assistant", "content": f"Answer {i}."},
    ]


def bob_says(i):
    return ("approved" if i % 3 else "rejected"), 1 + i % 5


def dora_says(i):
    return ("approved" if i % 4 else "rejected"), 1 + (i + i // 7) % 5


def work_through(page, says, index_of, seen_secret=None):
    page.goto("/queue/")
    done = 0
    while page.locator("#queue-empty").count() == 0:
        section = page.locator("section[data-item]")
        example = int(section.get_attribute("data-example"))
        if seen_secret is not None:
            assert seen_secret not in page.content()
        verdict, rating = says(index_of[example])
        expect(page.locator("html[data-queue-keys=ready][data-shortcuts=ready]")).to_have_count(1)
        page.keyboard.press(str(rating))
        expect(page.locator(f'[data-rating-key="{rating}"]')).to_be_checked()
        with page.expect_navigation():
            page.keyboard.press("a" if verdict == "approved" else "r")
        done += 1
        assert done <= 30
    return done


def test_it_runs_the_team_annotation_workflow(
    new_page, screenshot, owner, teammate, make_user, team, dataset, make_example
):
    curator = make_user("carol")
    MembershipFactory(team=team, user=curator, role="curator")
    dora = make_user("dora")
    MembershipFactory(team=team, user=dora, role="annotator")
    examples = [
        make_example(dataset, owner, messages=chat(i), status="needs_review") for i in range(30)
    ]
    make_example(dataset, owner, messages=chat(99))  # a draft: outside the filter
    index_of = {e.pk: i for i, e in enumerate(examples)}

    lead = new_page(curator)
    lead.goto(f"/datasets/{dataset.pk}/")
    lead.locator("#f-status").select_option("needs_review")
    expect(lead.locator("#assign-matching")).to_have_attribute(
        "href", re.compile(r"status=needs_review")
    )
    lead.locator("#assign-matching").click()
    expect(lead.locator("#assignment-scope")).to_contain_text("30 examples match")
    lead.get_by_label("bob").check()
    lead.get_by_label("dora").check()
    lead.get_by_label("Overlap (annotators per example)").fill("2")
    lead.get_by_label("Guidelines (Markdown)").fill("Approve **helpful** answers.")
    lead.get_by_role("button", name="Create assignment").click()
    expect(
        lead.get_by_text("Assignment created: 30 examples, 60 items for 2 annotators.")
    ).to_be_visible()
    assignment_url = lead.url

    bob_page, dora_page = new_page(teammate), new_page(dora)
    bob_page.goto("/queue/")
    expect(bob_page.get_by_text("Approve helpful answers.")).to_be_visible()
    screenshot(bob_page, "annotation-queue")
    assert work_through(bob_page, bob_says, index_of) == 30
    # dora works blind: bob's labels never show on her pages before she submits
    assert work_through(dora_page, dora_says, index_of) == 30
    expect(dora_page.get_by_text("You submitted all 30 of your items.")).to_be_visible()

    lead.goto(assignment_url)
    expect(lead.locator("#progress-submitted")).to_have_text("60")
    screenshot(lead, "annotation-agreement")
    ids = [e.pk for e in examples]
    code = {"approved": 1.0, "rejected": 0.0}
    verdicts = np.array(
        [
            [code[bob_says(index_of[i])[0]] for i in ids],
            [code[dora_says(index_of[i])[0]] for i in ids],
        ]
    )
    ratings = np.array(
        [[bob_says(index_of[i])[1] for i in ids], [dora_says(index_of[i])[1] for i in ids]],
        dtype=float,
    )

    def shown(selector):
        return float(lead.locator(selector).get_attribute("data-value"))

    assert shown("[data-field=verdict] .alpha[data-level=nominal]") == pytest.approx(
        krippendorff.alpha(reliability_data=verdicts, level_of_measurement="nominal")
    )
    for level in ("ordinal", "interval"):
        assert shown(f"[data-field=rating] .alpha[data-level={level}]") == pytest.approx(
            krippendorff.alpha(reliability_data=ratings, level_of_measurement=level)
        )
    # Cohen's kappa by hand: observed agreement against chance from each one's marginals
    a, b = verdicts
    p_o = sum(x == y for x, y in zip(a, b, strict=True)) / 30
    p_yes = (sum(a) / 30) * (sum(b) / 30)
    p_no = (1 - sum(a) / 30) * (1 - sum(b) / 30)
    kappa = (p_o - (p_yes + p_no)) / (1 - (p_yes + p_no))
    assert shown('[data-field=verdict] .kappa[data-pair="bob|dora"]') == pytest.approx(kappa)
    expect(lead.locator('[data-field=verdict] .kappa[data-pair="bob|dora"]')).to_contain_text(
        "n=30"
    )

    # disagreements first; the curator takes dora's verdict on each verdict disagreement
    articles = lead.locator("article.adjudicate")
    flags = [
        ("disagree" in (articles.nth(k).get_attribute("class") or ""))
        for k in range(articles.count())
    ]
    assert flags == sorted(flags, reverse=True) and any(flags)
    split = [i for i in ids if bob_says(index_of[i])[0] != dora_says(index_of[i])[0]]
    for pk in split:
        lead.locator(f"#example-{pk}").get_by_role("button", name="Use dora's").click()
        expect(lead.get_by_text(f"Example {pk}: consensus saved")).to_be_visible()
        expect(lead.locator(f"#example-{pk}")).to_have_attribute(
            "data-status", dora_says(index_of[pk])[0]
        )
    for pk in split:
        assert Example.objects.get(pk=pk).status == dora_says(index_of[pk])[0]
    untouched = [i for i in ids if i not in split]
    assert set(Example.objects.filter(pk__in=untouched).values_list("status", flat=True)) == {
        "needs_review"
    }
    lead.goto(assignment_url.rstrip("/") + "/statistics/")
    expect(lead.locator("tr[data-annotator=dora]")).to_contain_text("100%")
    assert re.search(r"/assignments/\d+/$", assignment_url)
