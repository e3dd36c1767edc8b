"""The example editor: saving, structural edits, JSON errors on the field, live checks, the
conflict flow (never a silent overwrite), history with diff and restore."""

import pytest

from datasets_app.models import Example

CHAT = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "What is 2+2?"},
    {"role": "assistant", "content": "4"},
]


@pytest.fixture
def logged_in(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def ex(dataset, owner, make_example):
    return make_example(dataset, owner, CHAT)


def form_of(example, **overrides):
    """The POST body the editor form sends for ``example`` as loaded."""
    example = Example.objects.get(pk=example.pk)
    msgs = example.current_revision.messages
    data = {
        "expected_revision": example.revision,
        "turn_count": len(msgs),
        "tools": "",
        "metadata": "",
        "tags": ", ".join(sorted(t.name for t in example.tags.all())),
        "rating": example.rating or "",
        "status": example.status,
        "notes": example.notes,
        "op": "save",
    }
    for i, m in enumerate(msgs):
        data[f"t-{i}-role"] = m["role"]
        data[f"t-{i}-content"] = m.get("content") or ""
        data[f"t-{i}-name"] = m.get("name", "")
        if m["role"] == "assistant":
            data[f"t-{i}-weight"] = "present"
            data[f"t-{i}-weight_orig"] = "" if m.get("weight") is None else str(m["weight"])
            if m.get("weight") != 0:
                data[f"t-{i}-train"] = "1"
    data.update(overrides)
    return data


def test_it_saves_an_edit_as_a_new_revision(logged_in, ex):
    url = f"/examples/{ex.pk}/edit/"
    response = logged_in.post(url, form_of(ex, **{"t-2-content": "Four.", "tags": "math, easy"}))
    assert response.status_code == 302
    ex.refresh_from_db()
    assert ex.current_revision.number == 2
    assert ex.current_revision.messages[2] == {"role": "assistant", "content": "Four."}
    assert sorted(t.name for t in ex.tags.all()) == ["easy", "math"]


def test_it_saves_nothing_when_nothing_changed(logged_in, ex):
    html = logged_in.post(f"/examples/{ex.pk}/edit/", form_of(ex)).content.decode()
    assert "Nothing changed" in html
    ex.refresh_from_db()
    assert ex.revision == 1 and ex.revisions.count() == 1


def test_it_turns_training_off_for_one_assistant_turn(logged_in, ex):
    data = form_of(ex)
    del data["t-2-train"]
    logged_in.post(f"/examples/{ex.pk}/edit/", data)
    ex.refresh_from_db()
    assert ex.current_revision.messages[2]["weight"] == 0


def test_it_adds_moves_and_deletes_turns_without_saving(logged_in, ex):
    url = f"/examples/{ex.pk}/edit/"
    html = logged_in.post(url, form_of(ex, op="add:2")).content.decode()
    assert 'name="turn_count" value="4"' in html
    html = logged_in.post(url, form_of(ex, op="up:2")).content.decode()
    assert html.index(">4</textarea>") < html.index(">What is 2+2?</textarea>")
    html = logged_in.post(url, form_of(ex, op="delete:0")).content.decode()
    assert 'name="turn_count" value="2"' in html and "Be brief." not in html
    ex.refresh_from_db()
    assert ex.revision == 1


def test_it_shows_a_json_error_on_the_tool_calls_field(logged_in, ex):
    html = logged_in.post(
        f"/examples/{ex.pk}/edit/", form_of(ex, **{"t-2-tool_calls": "[{oops"})
    ).content.decode()
    assert 'id="t-2-tool_calls-error"' in html and "Not valid JSON" in html
    ex.refresh_from_db()
    assert ex.revision == 1


def test_it_shows_the_services_validation_errors_on_the_turn(logged_in, ex):
    html = logged_in.post(
        f"/examples/{ex.pk}/edit/", form_of(ex, **{"t-1-role": "wizard"})
    ).content.decode()
    assert "Choose a role" in html
    ex.refresh_from_db()
    assert ex.revision == 1


def test_it_checks_the_unsaved_content(logged_in, ex):
    html = logged_in.post(
        f"/examples/{ex.pk}/checks/", form_of(ex, **{"t-2-content": "   "})
    ).content.decode()
    assert 'id="findings-turn-2" hx-swap-oob="true"' in html
    assert "severity-" in html.split('id="findings-turn-2"')[1]


def test_it_renders_a_sanitized_markdown_preview(logged_in, ex):
    text = "**bold** [x](javascript:alert(1)) <img src=x onerror=alert(1)>"
    html = logged_in.post(
        f"/examples/{ex.pk}/edit/", form_of(ex, op="preview:2", **{"t-2-content": text})
    ).content.decode()
    preview = html.split('class="preview markdown"')[1].split("</div>")[0]
    assert "<strong>bold</strong>" in preview
    assert "javascript:" not in preview.replace("[x](javascript:alert(1))", "")
    assert "<img" not in preview


def test_it_shows_both_versions_on_a_stale_save_and_overwrites_only_when_asked(
    logged_in, ex, owner
):
    from datasets_app.services.examples import example_update

    stale = form_of(ex, **{"t-2-content": "mine"})
    example_update(
        user=owner,
        example=Example.objects.get(pk=ex.pk),
        expected_revision=1,
        changes={"messages": [*CHAT[:2], {"role": "assistant", "content": "theirs"}]},
    )
    response = logged_in.post(f"/examples/{ex.pk}/edit/", stale)
    html = response.content.decode()
    assert response.status_code == 409
    assert "Edit conflict" in html and "theirs" in html and "mine" in html
    ex.refresh_from_db()
    assert ex.current_revision.messages[2]["content"] == "theirs"

    merged = logged_in.post(
        f"/examples/{ex.pk}/edit/", {**stale, "op": "merge", "expected_revision": ex.revision}
    ).content.decode()
    assert ">theirs</textarea>" in merged and "Your version" in merged

    logged_in.post(
        f"/examples/{ex.pk}/edit/", {**stale, "op": "overwrite", "expected_revision": ex.revision}
    )
    ex.refresh_from_db()
    assert ex.current_revision.messages[2]["content"] == "mine"


def test_it_diffs_and_restores_revisions(logged_in, ex):
    logged_in.post(f"/examples/{ex.pk}/edit/", form_of(ex, **{"t-2-content": "Four"}))
    html = logged_in.get(f"/examples/{ex.pk}/history/", {"a": 1, "b": 2}).content.decode()
    assert "<del>4</del>" in html and "<ins>Four</ins>" in html
    ex.refresh_from_db()
    logged_in.post(f"/examples/{ex.pk}/restore/", {"number": 1, "expected_revision": ex.revision})
    ex.refresh_from_db()
    assert ex.current_revision.number == 3
    assert ex.current_revision.messages == CHAT


def test_it_refuses_edits_from_a_viewer(client, make_user, team, ex):
    from finetunedb.teams.models import Membership

    viewer = make_user("vera")
    Membership.objects.create(team=team, user=viewer, role="viewer")
    client.force_login(viewer)
    assert client.get(f"/examples/{ex.pk}/edit/").status_code == 200
    response = client.post(f"/examples/{ex.pk}/edit/", form_of(ex, **{"t-2-content": "x"}))
    assert response.status_code == 403


def test_it_offers_archiving_only_to_those_who_may_archive(client, owner, teammate, ex):
    # Archiving is curation (SECURITY.md, roles): an annotator is not offered a choice that 403s.
    client.force_login(teammate)
    annotator_html = client.get(f"/examples/{ex.pk}/edit/").content.decode()
    assert 'value="approved"' in annotator_html
    assert 'value="archived"' not in annotator_html
    client.force_login(owner)
    assert 'value="archived"' in client.get(f"/examples/{ex.pk}/edit/").content.decode()
