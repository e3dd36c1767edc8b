"""Capture settings (PII redaction, retention) and the deletion of logs past retention."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from capture.models import Log, LogMeta, LogTag
from capture.services.logs import log_batch_create
from capture.services.retention import logs_retention_apply
from datasets_app.models import Example

pytestmark = pytest.mark.django_db


def logs(team, n, **extra):
    entries = [
        {
            "messages": [{"role": "user", "content": f"question {i}"}],
            "response": {"role": "assistant", "content": f"answer {i}"},
            "model": "m",
            "tags": ["prod"],
            "metadata": {"customer": f"c{i}"},
            **extra,
        }
        for i in range(n)
    ]
    return log_batch_create(team=team, entries=entries).ids


def age(ids, days):
    Log.objects.filter(pk__in=ids).update(created_at=timezone.now() - timedelta(days=days))


def settings_url(team):
    return f"/api/v1/teams/{team.pk}/capture-settings/"


def test_it_keeps_logs_and_stores_them_as_sent_by_default(api_for, owner, team):
    assert api_for(owner).get(settings_url(team)).json() == {
        "redact_pii": False,
        "retention_days": None,
    }
    [log_id] = logs(team, 1, metadata={"email": "ann@corp.io"})
    assert Log.objects.get(pk=log_id).metadata == {"email": "ann@corp.io"}
    age([log_id], 10_000)
    assert logs_retention_apply() == {}
    assert Log.objects.filter(pk=log_id).exists()


def test_it_lets_owners_and_admins_change_the_settings_and_no_one_else(
    api_for, owner, teammate, outsider, team
):
    url = settings_url(team)
    assert api_for(teammate).patch(url, {"redact_pii": True}, format="json").status_code == 403
    assert api_for(outsider).get(url).status_code == 404
    assert api_for(outsider).patch(url, {"redact_pii": True}, format="json").status_code == 404
    done = api_for(owner).patch(url, {"redact_pii": True, "retention_days": 30}, format="json")
    assert done.status_code == 200, done.content
    assert done.json() == {"redact_pii": True, "retention_days": 30}
    team.refresh_from_db()
    assert team.log_redact_pii and team.log_retention_days == 30


@pytest.mark.parametrize(
    "body",
    [
        {"retention_days": 0},
        {"retention_days": 99999},
        {"retention_days": "seven"},
        {"redact_pii": "maybe"},
        {"ttl": 3},
    ],
)
def test_it_refuses_bad_settings_and_changes_nothing(api_for, owner, team, body):
    response = api_for(owner).patch(settings_url(team), body, format="json")
    assert response.status_code == 400, response.content
    team.refresh_from_db()
    assert team.log_retention_days is None


def test_it_redacts_pii_before_storing_when_the_team_asks(api_for, owner, team):
    api_for(owner).patch(settings_url(team), {"redact_pii": True}, format="json")
    team.refresh_from_db()
    [log_id] = logs(
        team,
        1,
        messages=[{"role": "user", "content": "I am ann@corp.io, call +1 415 555 0100"}],
        metadata={"contact": "ann@corp.io"},
    )
    log = Log.objects.get(pk=log_id)
    assert log.messages[0]["content"] == "I am [EMAIL], call [PHONE]"
    assert log.metadata == {"contact": "[EMAIL]"}
    assert log.redactions == {"EMAIL": 2, "PHONE": 1}
    assert "ann@corp.io" not in log.search_text
    assert LogMeta.objects.get(log_id=log_id).value == "[EMAIL]"
    shown = api_for(owner).get(f"/api/v1/logs/{log_id}/").json()
    assert "ann@corp.io" not in str(shown)


def test_it_deletes_only_logs_past_retention_and_never_examples_made_from_them(
    api_for, owner, team, other_team, dataset
):
    team.log_retention_days = 30
    team.save()
    old, recent = logs(team, 7), logs(team, 3)
    theirs = logs(other_team, 2)  # no retention set there
    age(old + theirs, 31)
    age(recent, 29)
    made = api_for(owner).post(
        f"/api/v1/datasets/{dataset.pk}/from-logs/", {"ids": old[:2]}, format="json"
    )
    assert made.status_code == 201, made.content

    assert logs_retention_apply(batch_size=3) == {team.pk: 7}

    assert set(Log.objects.values_list("pk", flat=True)) == set(recent + theirs)
    assert not LogTag.objects.filter(log_id__in=old).exists()
    assert not LogMeta.objects.filter(log_id__in=old).exists()
    examples = Example.objects.filter(dataset=dataset)
    assert sorted(examples.values_list("source_log", flat=True)) == sorted(old[:2])
    assert logs_retention_apply() == {team.pk: 0}  # idempotent


def test_it_runs_as_a_management_command_for_cron(team, capsys):
    team.log_retention_days = 1
    team.save()
    age(logs(team, 2), 2)
    call_command("delete_old_logs")
    assert "Deleted 2 logs" in capsys.readouterr().out
    assert not Log.objects.exists()
