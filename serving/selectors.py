"""The models a caller may serve: the base models this server offers and the ready fine-tuned
models (``ftdb-model-<id>``) of the caller's teams, scoped in the one scoping place."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from finetunedb.teams.scoping import parse_id, scope_to_user
from training.models import Method, ModelArtifact
from training.services.base_models import base_model_choices
from training.services.model_store import model_key

FINETUNED = re.compile(r"^ftdb-model-(\d{1,19})$")
MODEL_NOT_FOUND = (
    "The model {name!r} does not exist or you do not have access to it; GET /v1/models lists "
    "the models you can use."
)
SYSTEM_OWNER = "finetunedb"


@dataclass(frozen=True)
class ServedModel:
    id: str
    base: str  # what the engine loads: the bundled name or a folder
    adapter: str | None  # a LoRA adapter folder, or None
    owned_by: str
    created: int
    team_id: int | None = None
    # A fine-tune's published folder in the object store, {key, folder}: an engine on a machine
    # without the training worker's models folder fetches it from there (serving/engine/models.py)
    store: dict | None = None


class ModelNotFound(LookupError):
    pass


def _base_models() -> list[ServedModel]:
    out, seen = [], set()
    for value, _label in base_model_choices():
        name = value if value.startswith("bundled:") else Path(value).name
        if name not in seen:
            seen.add(name)
            out.append(
                ServedModel(id=name, base=value, adapter=None, owned_by=SYSTEM_OWNER, created=0)
            )
    return out


def _finetuned(artifact: ModelArtifact) -> ServedModel:
    run = artifact.run
    # Folders are named relative to the models folder: the engine (or vLLM) resolves them
    # against its own, which is the training worker's machine's, not necessarily this process's.
    weights = Path(artifact.path) / "weights"
    # The manifest says whether the weights are an adapter (LoRA, and DPO/ORPO trained with LoRA
    # weights); manifests written before it carried the flag were adapters exactly for LoRA.
    lora = bool(artifact.manifest.get("adapter", run.method == Method.LORA))
    if lora and (artifact.manifest.get("lineage") or {}).get("start_from"):
        # SFT → DPO: the adapter was trained on the parent merged into the base, not on the
        # base; such a run always saves its merged weights (training/services/chain.py).
        lora, weights = False, Path(artifact.path) / "merged"
    return ServedModel(
        id=f"ftdb-model-{artifact.pk}",
        base=run.base_model if lora else str(weights),
        adapter=str(weights) if lora else None,
        owned_by=run.version.dataset.team.name,
        created=int(artifact.created_at.timestamp()),
        team_id=run.version.dataset.team_id,
        store={
            "key": model_key(team_id=run.version.dataset.team_id, run_id=run.pk),
            "folder": str(artifact.path),
        },
    )


def served_model_for_artifact(artifact: ModelArtifact) -> ServedModel:
    """What the engine loads for ``artifact`` (the caller has already been authorised)."""
    return _finetuned(artifact)


def served_artifacts_for(caller):
    """The models of ``caller``'s teams: a user's teams (``scope_to_user``), or for a team
    ingest key (``caller.team_id``) that one team, through the model's ``team_path`` too."""
    artifacts = ModelArtifact.objects.all()
    if getattr(caller, "is_authenticated", False):
        artifacts = scope_to_user(artifacts, caller)
    else:
        artifacts = artifacts.filter(**{f"{ModelArtifact.team_path}_id": caller.team_id})
    return artifacts.select_related("run__version__dataset__team")


def served_model_list_for_caller(caller) -> list[ServedModel]:
    """Base models, then the ready fine-tuned models of the caller's teams (user or ingest key)."""
    return _base_models() + [_finetuned(a) for a in served_artifacts_for(caller).order_by("id")]


def served_model_get_for_caller(caller, name: str) -> ServedModel:
    """The model ``name`` names, or :class:`ModelNotFound` (another team's model too)."""
    match = FINETUNED.match(name)
    if match:
        pk = parse_id(match.group(1))
        artifact = served_artifacts_for(caller).filter(pk=pk).first() if pk else None
        if artifact is not None:
            return _finetuned(artifact)
    else:
        for model in _base_models():
            if model.id == name:
                return model
    raise ModelNotFound(MODEL_NOT_FOUND.format(name=name))
