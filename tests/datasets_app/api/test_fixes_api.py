import pytest

from datasets_app.models import CheckResult, ExampleRevision

# Row replacement, locks and bulk inserts behave differently per database.
pytestmark = pytest.mark.postgres

MESSY = [
    {"role": "user", "content": "  Name a colour.\u0007"},
    {"role": "assistant", "content": "Red. "},
]
CLEAN = [
    {"role": "user", "content": "Name a colour."},
    {"role": "assistant", "content": "Blue."},
]


@pytest.fixture
def messy(dataset, owner, make_example):
    return make_example(dataset, owner, messages=MESSY)


@pytest.fixture
def clean(dataset, owner, make_example):
    return make_example(dataset, owner, messages=CLEAN)


def _url(dataset, step):
    return f"/api/v1/datasets/{dataset.pk}/fixes/{step}/"


def test_it_previews_changes_without_writing(dataset, messy, clean, owner, api_for):
    response = api_for(owner).post(
        _url(dataset, "preview"),
        {"fix_ids": ["trim_whitespace", "remove_control_characters"], "filter": {}},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["examples_selected"] == 2 and body["examples_changed"] == 1
    [item] = body["results"]
    assert item["example_id"] == messy.pk
    changes = {(c["path"], c["before"], c["after"]) for c in item["changes"]}
    assert ("messages[1].content", "Red. ", "Red.") in changes
    assert ("messages[0].content", "  Name a colour.\u0007", "  Name a colour.") in changes
    messy.refresh_from_db()
    assert messy.revision == 1 and messy.current_revision.messages == MESSY


def test_it_applies_fixes_as_new_revisions_and_keeps_the_old_ones(
    dataset, messy, clean, owner, api_for, django_capture_on_commit_callbacks
):
    assert CheckResult.objects.filter(example=messy, rule_id="surrounding_whitespace").exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(owner).post(
            _url(dataset, "apply"),
            {
                "fix_ids": ["remove_control_characters", "trim_whitespace"],
                "ids": [messy.pk, clean.pk],
            },
            format="json",
        )
    assert response.status_code == 200
    assert response.json()["changed"] == 1 and response.json()["skipped_conflicts"] == 0
    messy.refresh_from_db()
    clean.refresh_from_db()
    assert messy.revision == 2 and clean.revision == 1
    assert messy.current_revision.number == 2
    assert messy.current_revision.messages == [
        {"role": "user", "content": "Name a colour."},
        {"role": "assistant", "content": "Red."},
    ]
    assert messy.current_revision.author == owner
    old = ExampleRevision.objects.get(example=messy, number=1)
    assert old.messages == MESSY
    assert messy.content_hash == messy.current_revision.content_hash != old.content_hash
    assert not CheckResult.objects.filter(
        example=messy, rule_id__in=["surrounding_whitespace", "control_characters"]
    ).exists()


def test_it_selects_by_rule_filter(dataset, messy, clean, owner, api_for):
    response = api_for(owner).post(
        _url(dataset, "apply"),
        {"fix_ids": ["trim_whitespace"], "filter": {"rule": "surrounding_whitespace"}},
        format="json",
    )
    assert response.json()["examples_selected"] == 1 and response.json()["changed"] == 1


def test_it_rejects_unknown_fix_ids(dataset, messy, owner, api_for):
    for step in ("preview", "apply"):
        response = api_for(owner).post(
            _url(dataset, step), {"fix_ids": ["rewrite_everything"], "filter": {}}, format="json"
        )
        assert response.status_code == 400
        assert "rewrite_everything" in response.json()["detail"]
    messy.refresh_from_db()
    assert messy.revision == 1


def test_it_rejects_ids_of_another_dataset(
    dataset, other_dataset, outsider, owner, api_for, make_example
):
    theirs = make_example(other_dataset, outsider, messages=MESSY)
    response = api_for(owner).post(
        _url(dataset, "apply"), {"fix_ids": ["trim_whitespace"], "ids": [theirs.pk]}, format="json"
    )
    assert response.status_code == 400
    theirs.refresh_from_db()
    assert theirs.revision == 1


@pytest.mark.parametrize("role", ["annotator", "viewer"])
def test_it_forbids_fixes_below_the_curator_role(dataset, messy, make_user, api_for, role):
    from finetunedb.teams.models import Membership

    user = make_user(f"{role}-user")
    Membership.objects.create(team=dataset.team, user=user, role=role)
    for step in ("preview", "apply"):
        response = api_for(user).post(
            _url(dataset, step), {"fix_ids": ["trim_whitespace"], "filter": {}}, format="json"
        )
        assert response.status_code == 403
    messy.refresh_from_db()
    assert messy.revision == 1


def test_it_hides_fixes_from_outsiders(dataset, messy, outsider, api_for):
    response = api_for(outsider).post(
        _url(dataset, "apply"), {"fix_ids": ["trim_whitespace"], "filter": {}}, format="json"
    )
    assert response.status_code == 404


def test_it_skips_an_example_edited_while_the_fix_runs(dataset, messy, owner, api_for, monkeypatch):
    from datasets_app.models import Example
    from datasets_app.services.checks import fixes

    real = fixes.apply_fixes

    def racing(content, fix_ids):
        # Someone saves the example between our read and our write.
        Example.objects.filter(pk=messy.pk).update(revision=7)
        return real(content, fix_ids)

    monkeypatch.setattr(fixes, "apply_fixes", racing)
    body = (
        api_for(owner)
        .post(
            _url(dataset, "apply"),
            {"fix_ids": ["trim_whitespace"], "ids": [messy.pk]},
            format="json",
        )
        .json()
    )
    assert body["changed"] == 0 and body["skipped_conflicts"] == 1
    messy.refresh_from_db()
    assert messy.revision == 7 and messy.current_revision.number == 1
    assert ExampleRevision.objects.filter(example=messy).count() == 1
