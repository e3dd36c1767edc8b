"""The training pre-flight as a page's job (finetunedb.actions), and its result reused by the
launch that follows it.

Tokenizing a version's train split with the base model's chat template takes seconds; the page
queues it and shows its progress. The launch checks the run's budget against the same figures:
when a pre-flight of the same version (content hash) and configuration finished recently, its
estimate is checked against the budget as it stands now instead of tokenizing again. Nothing
here imports torch at start-up (it is loaded by ``TrainingConfig.ready``).
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.urls import reverse
from django.utils import timezone

from datasets_app.models import DatasetVersion
from finetunedb.actions.models import ActionJob, ActionStatus
from finetunedb.actions.registry import ActionKind, ActionOutcome
from finetunedb.actions.services import action_job_start
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import require_role

from .records import training_splits

# An estimate older than this is computed again at launch (finished runs move the measured rate).
CACHE_FOR = timedelta(hours=1)
TOKENIZING = "Tokenizing {count:,} examples with the base model's chat template"

PREFLIGHT = ActionKind(name="preflight", run="training.services.preflight_jobs.preflight_run")


def _config_digest(config) -> str:
    text = json.dumps(config.to_dict(), sort_keys=True, cls=DjangoJSONEncoder)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def preflight_key(version: DatasetVersion, config) -> str:
    return f"preflight version {version.pk} {version.content_hash[:16]} {_config_digest(config)}"


def training_preflight_start(*, user, version: DatasetVersion, arguments: dict, form, back_url=""):
    """Queue a pre-flight; an invalid configuration is refused at once (400, field paths)."""
    from .runs import training_config_build

    require_role(user, version.dataset.team_id, Action.TRAIN)
    config = training_config_build(**arguments)
    return action_job_start(
        user=user,
        team_id=version.dataset.team_id,
        action="preflight",
        key=preflight_key(version, config),
        title=f"Pre-flight of {version.dataset.name} v{version.number}",
        params={"version": version.pk, "arguments": arguments, "form": form},
        back_url=back_url,
    )


def preflight_run(*, job, progress) -> ActionOutcome:
    from .preflight import training_preflight

    version = DatasetVersion.objects.select_related("dataset").get(
        pk=job.params["version"], dataset__team_id=job.team_id
    )
    require_role(job.created_by, version.dataset.team_id, Action.TRAIN)
    count = (version.counts or {}).get(training_splits(version)["train"], 0)
    progress(stage=TOKENIZING.format(count=count))
    report = training_preflight(version=version, **job.params["arguments"])
    report = json.loads(json.dumps(report, cls=DjangoJSONEncoder))  # a JSONField holds JSON
    report["version_hash"] = version.content_hash
    url = reverse("training:train", args=[version.pk])
    return ActionOutcome(url=f"{url}?preflight={job.pk}", result=report)


def preflight_estimate_cached(*, version: DatasetVersion, config) -> dict | None:
    """The estimate of a recent pre-flight of exactly this version and configuration, or None."""
    result = (
        ActionJob.objects.filter(
            key=preflight_key(version, config),
            status=ActionStatus.SUCCEEDED,
            team_id=version.dataset.team_id,
            finished_at__gte=timezone.now() - CACHE_FOR,
        )
        .order_by("-finished_at")
        .values_list("result", flat=True)
        .first()
    )
    if not result or result.get("version_hash") != version.content_hash:
        return None
    expected = json.loads(json.dumps(config.to_dict(), cls=DjangoJSONEncoder))
    if result.get("config") != expected:
        return None
    return result.get("estimate")
