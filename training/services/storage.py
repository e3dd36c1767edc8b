"""The bytes a team keeps in the training app: the ``models`` storage part.

Registered in ``TrainingConfig.ready`` (``finetunedb.teams.storage_usage.storage_part_register``)
and composed by ``finetunedb.teams.quota``.
"""

from __future__ import annotations

from django.db.models import Sum

from finetunedb.teams.storage_usage import folder_bytes

from ..models import ModelArtifact, TrainingRun
from .base_models import run_dir


def team_model_bytes(team_id: int) -> int:
    """The team's published models, by the size recorded on each model row when it was
    published (what the store holds, bucket or local folder alike; a fetched copy in a cache is
    not counted again), plus what this machine's disk holds of its other runs: checkpoints a
    running, failed or cancelled run keeps under its run folder, and the folders of models
    published before sizes were recorded (shared base-model caches are the server's, not counted;
    links are not followed)."""
    runs = TrainingRun.objects.filter(version__dataset__team_id=team_id)
    recorded = ModelArtifact.objects.filter(run__in=runs, size_bytes__isnull=False)
    published = recorded.aggregate(n=Sum("size_bytes"))["n"] or 0
    others = runs.exclude(model__size_bytes__isnull=False).values_list("pk", flat=True)
    return int(published) + sum(folder_bytes(run_dir(run_id)) for run_id in others)


STORAGE_PARTS = {"models": team_model_bytes}
