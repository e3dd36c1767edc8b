import pytest

from datasets_app.models import CheckResult, DatasetVersion, VersionRestore
from finetunedb.actions.models import ActionJob

from .conftest import chat

pytestmark = pytest.mark.postgres


@pytest.fixture
def logged_in(client, owner):
    client.force_login(owner)
    return client


def test_it_links_the_history_from_the_dataset_page(logged_in, dataset):
    page = logged_in.get(f"/datasets/{dataset.pk}/").content.decode()
    assert f'href="/datasets/{dataset.pk}/versions/"' in page


def test_it_freezes_from_the_history_page(
    logged_in, dataset, example, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post(
            f"/datasets/{dataset.pk}/versions/", {"name": "first", "notes": ""}
        )
    job = ActionJob.objects.get()
    # At once the job's page; once the worker froze it, that page leads to the version.
    assert response.status_code == 302 and response["Location"] == f"/actions/{job.pk}/"
    version = DatasetVersion.objects.get()
    done = logged_in.get(f"/actions/{job.pk}/")
    assert done.status_code == 302 and done["Location"] == f"/versions/{version.pk}/"
    assert "Version v1 frozen" in logged_in.get(done["Location"]).content.decode()
    page = logged_in.get(f"/datasets/{dataset.pk}/versions/").content.decode()
    assert "first" in page and version.content_hash[:10] in page
    assert "none yet" in page  # models trained on it


def test_it_shows_the_blockers_and_asks_for_a_reason(
    logged_in, dataset, example, django_capture_on_commit_callbacks
):
    CheckResult.objects.create(
        dataset=dataset, example=example, rule_id="empty_assistant", severity="error", message="m"
    )
    response = logged_in.post(f"/datasets/{dataset.pk}/versions/", {"name": "x"})
    page = response.content.decode()
    assert response.status_code == 409
    assert "empty_assistant" in page and f"#{example.pk}" in page
    assert 'name="reason"' in page and 'name="force"' in page
    assert not ActionJob.objects.exists()  # refused at once: no job was queued
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post(
            f"/datasets/{dataset.pk}/versions/", {"name": "x", "force": "on", "reason": "known"}
        )
    assert response.status_code == 302
    assert DatasetVersion.objects.get().force_reason == "known"


def test_it_escapes_user_text(logged_in, dataset, example, freeze):
    freeze(dataset, name="<script>alert(1)</script>", notes="<b>bold</b>")
    page = logged_in.get(f"/datasets/{dataset.pk}/versions/").content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page and "&lt;b&gt;bold" in page


def test_it_offers_exports_per_format_and_split(logged_in, dataset, example, freeze):
    version = freeze(dataset)
    page = logged_in.get(f"/versions/{version.pk}/").content.decode()
    assert f"/api/v1/versions/{version.pk}/export/?format=openai&amp;split=unassigned" in page
    assert f"/api/v1/versions/{version.pk}/export/?format=parquet" in page
    response = logged_in.get(f"/api/v1/versions/{version.pk}/export/?format=openai")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).count(b"\n") == 1


def test_it_hides_curator_buttons_from_an_annotator(client, teammate, dataset, example, freeze):
    version = freeze(dataset)
    client.force_login(teammate)
    page = client.get(f"/versions/{version.pk}/").content.decode()
    assert "/export/" not in page and "/restore/" not in page
    history = client.get(f"/datasets/{dataset.pk}/versions/").content.decode()
    assert "Freeze version" not in history
    assert client.post(f"/datasets/{dataset.pk}/versions/", {"name": "x"}).status_code == 403


def test_it_renames_a_version_from_its_page(logged_in, dataset, example, freeze):
    version = freeze(dataset)
    logged_in.post(f"/versions/{version.pk}/", {"name": "renamed", "notes": "n"})
    version.refresh_from_db()
    assert version.name == "renamed"


def test_it_shows_a_diff_against_the_parent(logged_in, dataset, example, freeze, edit):
    v1 = freeze(dataset)
    edit(example, messages=chat("What is 2+2?", "four <i>exactly</i>"))
    v2 = freeze(dataset)
    page = logged_in.get(f"/versions/{v2.pk}/diff/").content.decode()
    assert f'value="{v1.pk}" selected' in page
    assert "1 changed" in page and "four &lt;i&gt;exactly&lt;/i&gt;" in page


def test_it_restores_after_confirmation_and_undoes(logged_in, dataset, example, freeze, edit):
    v1 = freeze(dataset)
    edit(example, messages=chat("drifted"))
    confirm = logged_in.get(f"/versions/{v1.pk}/restore/")
    assert confirm.status_code == 200 and b"Restore to v1" in confirm.content
    assert not VersionRestore.objects.exists()
    logged_in.post(f"/versions/{v1.pk}/restore/")
    restore = VersionRestore.objects.get()
    example.refresh_from_db()
    assert example.content_hash == v1.entries.get().content_hash
    history = logged_in.get(f"/datasets/{dataset.pk}/versions/").content.decode()
    assert f"/restores/{restore.pk}/undo/" in history
    logged_in.post(f"/restores/{restore.pk}/undo/")
    example.refresh_from_db()
    assert example.current_revision.messages == chat("drifted")
