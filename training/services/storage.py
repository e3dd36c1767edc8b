"""The bytes a team keeps in the training app: the ``models`` storage part.

Registered in ``TrainingConfig.ready`` (``finetunedb.teams.storage_usage.storage_part_register``)
and composed by ``finetunedb.teams.quota``.
"""

from __future__ import annotations

from finetunedb.teams.storage_usage import folder_bytes

from ..models import TrainingRun
from .base_models import run_dir


def team_model_bytes(team_id: int) -> int:
    """Every file under the team's training runs' folders: adapters, merged weights,
    checkpoints a failed or cancelled run left behind (shared base-model caches are the
    server's, not counted; links are not followed)."""
    run_ids = TrainingRun.objects.filter(version__dataset__team_id=team_id).values_list(
        "pk", flat=True
    )
    return sum(folder_bytes(run_dir(run_id)) for run_id in run_ids)


STORAGE_PARTS = {"models": team_model_bytes}
