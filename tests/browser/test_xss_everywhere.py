"""Checklist F52 (Label Studio, Argilla XSS family): the payload corpus in every place user text
appears — team, user and token names, dataset names and descriptions, tags, notes, example
content, rule findings, version names and notes, import file names and error reports, run
failures and logs, model cards, evaluation generations and playground answers — is shown as text
in real Chromium: no dialog fires (the page fixture fails the test on one), no payload element
exists, and every page carries the CSP and nosniff headers."""

import pytest

from tests.browser.test_xss import ALL, IMG, PAYLOAD_ELEMENTS, SCRIPT, SVG

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEMPLATE = "{{7*7}} {% now 'Y' %} ${7*7}"
BIDI = "\u202egnp.exe \u200b"
EVERYTHING = f"{ALL} {TEMPLATE} {BIDI}"


@pytest.fixture
def world(owner, team_with, make_user, make_example):
    from datasets_app.models import Dataset, ImportJob
    from datasets_app.services.checks import dataset_checks_run
    from datasets_app.services.versions import dataset_version_freeze
    from finetunedb.teams.models import Membership
    from finetunedb.teams.services import api_token_create
    from training.models import ModelArtifact, PlaygroundRequest, TrainingRun

    team = team_with(f"team {IMG}", owner=owner)
    # a username the sign-up form would refuse, as an admin could create one
    evil_user = make_user(f"u{SVG}"[:150])
    Membership.objects.create(team=team, user=evil_user, role="curator")
    api_token_create(user=owner, name=f"token {IMG}"[:100])
    dataset = Dataset.objects.create(
        team=team, name=f"ds {SCRIPT}", description=EVERYTHING, created_by=owner
    )
    other = Dataset.objects.create(team=team, name=f"other {SVG}", created_by=owner)
    turns = [
        {"role": "system", "content": EVERYTHING},
        {"role": "user", "content": f"{EVERYTHING}  trailing "},
        {"role": "assistant", "content": EVERYTHING},
    ]
    example = make_example(dataset, evil_user, turns, tags=[SVG, IMG[:60]], notes=EVERYTHING)
    make_example(dataset, evil_user, turns)  # an exact duplicate for the duplicates page
    make_example(other, owner, turns)  # contamination
    dataset_checks_run(dataset_id=dataset.pk)
    first = dataset_version_freeze(
        user=owner, dataset=dataset, name=f"v {IMG}", force=True, reason=EVERYTHING
    )
    make_example(dataset, owner, [{"role": "user", "content": f"new {EVERYTHING}"}])
    second = dataset_version_freeze(
        user=owner,
        dataset=dataset,
        name=f"v2 {SVG}",
        notes=EVERYTHING,
        force=True,
        reason=EVERYTHING,
    )
    job = ImportJob.objects.create(
        dataset=dataset,
        stored_name="f" * 32,
        original_name=f"{IMG}.jsonl",
        status="failed",
        failure_reason=EVERYTHING,
        first_errors=[{"line": 1, "code": "invalid_json", "message": EVERYTHING, "path": SVG}],
    )
    run = TrainingRun.objects.create(
        version=second,
        dataset_version_hash=second.content_hash,
        base_model=f"org/{SVG}",
        config={"note": EVERYTHING},
        status="failed",
        failure_reason=EVERYTHING,
        log_tail=[EVERYTHING, SCRIPT],
    )
    sample = {"messages": turns, "reference": EVERYTHING, "base": EVERYTHING, "finetuned": ALL}
    model = ModelArtifact.objects.create(
        run=run,
        path=f"runs/{run.pk}/model",
        weights_sha256="0" * 64,
        model_card=EVERYTHING,
        manifest={"files": {}, "weights_file": ""},
        eval_status="done",
        eval_results={
            "base": {"loss": 1},
            "finetuned": {"loss": 1},
            "samples": [sample],
            "note": EVERYTHING,
        },
    )
    run2 = TrainingRun.objects.create(
        version=first,
        dataset_version_hash=first.content_hash,
        base_model="x",
        config={},
        status="failed",
        failure_reason=EVERYTHING,
    )
    other_model = ModelArtifact.objects.create(
        run=run2,
        path=f"runs/{run2.pk}/model",
        weights_sha256="1" * 64,
        eval_status="failed",
        eval_error=EVERYTHING,
    )
    PlaygroundRequest.objects.create(
        model=model,
        messages=turns,
        status="done",
        answers={"base": EVERYTHING, "finetuned": ALL},
        error=EVERYTHING,
    )
    d, v1, v2 = dataset.pk, first.pk, second.pk
    yield [
        "/",
        "/datasets/",
        f"/teams/{team.pk}/members/",
        "/tokens/",
        f"/datasets/{d}/",
        f"/datasets/{d}/overview/",
        f"/datasets/{d}/review/",
        f"/datasets/{d}/checks/",
        f"/datasets/{d}/duplicates/",
        f"/datasets/{d}/split/",
        f"/datasets/{d}/contamination/?against={other.pk}",
        f"/datasets/{d}/versions/",
        f"/datasets/{d}/export/",
        f"/datasets/{d}/import/",
        f"/examples/{example.pk}/",
        f"/examples/{example.pk}/edit/",
        f"/examples/{example.pk}/history/",
        f"/versions/{v2}/",
        f"/versions/{v2}/diff/?against={v1}",
        f"/versions/{v2}/restore/",
        f"/versions/{v2}/preview/",
        f"/versions/{v2}/train/",
        f"/imports/{job.pk}/",
        f"/runs/{run.pk}/",
        f"/models/{model.pk}/",
        f"/models/{other_model.pk}/",
        f"/models/{model.pk}/compare/?against={other_model.pk}",
    ]

    purge_frozen_versions()


def purge_frozen_versions():
    """Frozen versions refuse DELETE (a trigger); the transactional flush needs them gone."""
    from django.db import connection

    from datasets_app.models import (
        DatasetVersion,
        RestoreChange,
        VersionEntry,
        VersionRestore,
        versions_purge_allowed,
    )
    from training.models import ModelArtifact, PlaygroundRequest, TrainingRun

    for model in (PlaygroundRequest, ModelArtifact, TrainingRun):
        model.objects.all().delete()
    if connection.vendor != "sqlite":
        return
    with versions_purge_allowed(), connection.cursor() as cursor:
        for model in (RestoreChange, VersionRestore, VersionEntry, DatasetVersion):
            cursor.execute(f"DELETE FROM {model._meta.db_table}")  # noqa: S608


def test_it_shows_every_payload_as_text_on_every_page(new_page, owner, world):
    page = new_page(owner)
    shown = []
    for path in world:
        response = page.goto(path)
        assert response.status < 400, f"{path}: {response.status}"
        headers = response.headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
        assert headers["x-content-type-options"] == "nosniff", path
        assert page.locator(PAYLOAD_ELEMENTS).count() == 0, path
        if "alert(1)" in page.locator("body").inner_text():
            shown.append(path)
        page.wait_for_timeout(100)  # an onerror/onload would have fired by now
    # the payloads were really on the pages, as text
    assert len(shown) >= len(world) * 3 // 4, sorted(set(world) - set(shown))
    page.goto(world[-3])  # the run page polls the API and updates fields live
    page.wait_for_timeout(1500)
    assert page.locator(PAYLOAD_ELEMENTS).count() == 0
