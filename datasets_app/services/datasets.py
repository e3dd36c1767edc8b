"""Writes for datasets."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from finetunedb.exceptions import ApplicationError, ConflictError
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import require_role

from ..checks.user_schema import schema_problems
from ..models import DEFAULT_DATASET_SETTINGS, Dataset

NAME_REQUIRED = "A dataset needs a name."
NAME_TAKEN = "This team already has a dataset with that name."
HAS_VERSIONS = (
    "This dataset has frozen versions, which are kept for lineage and cannot be deleted. "
    "Archive its examples instead, or rename it."
)
ENCODINGS = ("cl100k_base", "o200k_base")
COVERAGE_GATES = ("off", "warn", "block")  # semantic/: a freeze against the coverage plan

SETTINGS_NOT_AN_OBJECT = "settings must be a JSON object."


def _clean_settings(values: dict | None) -> dict:
    if values is not None and not isinstance(values, dict):
        raise ApplicationError(
            SETTINGS_NOT_AN_OBJECT, errors=[{"path": "settings", "message": SETTINGS_NOT_AN_OBJECT}]
        )
    values = dict(values or {})
    errors = []
    unknown = sorted(set(values) - set(DEFAULT_DATASET_SETTINGS))
    for key in unknown:
        errors.append(
            {
                "path": f"settings.{key}",
                "message": f"unknown setting; allowed: {', '.join(DEFAULT_DATASET_SETTINGS)}",
            }
        )
    tokens = values.get("target_context_tokens")
    if tokens is not None and (
        not isinstance(tokens, int) or isinstance(tokens, bool) or not 16 <= tokens <= 2_000_000
    ):
        errors.append(
            {
                "path": "settings.target_context_tokens",
                "message": "must be an integer from 16 to 2000000",
            }
        )
    encoding = values.get("token_encoding")
    if encoding is not None and encoding not in ENCODINGS:
        errors.append(
            {"path": "settings.token_encoding", "message": f"must be one of {', '.join(ENCODINGS)}"}
        )
    hint = values.get("base_model_hint")
    if hint is not None and (not isinstance(hint, str) or len(hint) > 300):
        errors.append(
            {
                "path": "settings.base_model_hint",
                "message": "must be a string of at most 300 characters",
            }
        )
    approval = values.get("require_approval")
    if approval is not None and not isinstance(approval, bool):
        errors.append({"path": "settings.require_approval", "message": "must be true or false"})
    embed = values.get("embed_after_import")
    if embed is not None and not isinstance(embed, bool):
        errors.append({"path": "settings.embed_after_import", "message": "must be true or false"})
    gate = values.get("coverage_gate")
    if gate is not None and gate not in COVERAGE_GATES:
        errors.append(
            {
                "path": "settings.coverage_gate",
                "message": f"must be one of {', '.join(COVERAGE_GATES)}",
            }
        )
    schema = values.get("assistant_json_schema")
    if schema is not None:
        # Remote references, costly patterns and unbounded schemas are refused here, and the
        # checks refuse them again at use (settings saved before these rules).
        for problem in schema_problems(schema):
            path = "settings.assistant_json_schema"
            if problem["path"]:
                path += ("" if problem["path"].startswith("[") else ".") + problem["path"]
            errors.append({"path": path, "message": problem["message"]})
    if errors:
        raise ApplicationError("Invalid dataset settings.", errors=errors)
    return values


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ApplicationError(NAME_REQUIRED, errors=[{"path": "name", "message": NAME_REQUIRED}])
    if len(name) > 200:
        raise ApplicationError(
            "Name too long.", errors=[{"path": "name", "message": "at most 200 characters"}]
        )
    return name


def dataset_create(
    *, user, team, name: str, description: str = "", settings: dict | None = None
) -> Dataset:
    require_role(user, team.pk, Action.MANAGE_DATASETS)
    name = _clean_name(name)
    try:
        with transaction.atomic():
            return Dataset.objects.create(
                team=team,
                name=name,
                description=description or "",
                settings=_clean_settings(settings),
                created_by=user,
            )
    except IntegrityError:
        raise ConflictError(NAME_TAKEN, errors=[{"path": "name", "message": NAME_TAKEN}]) from None


def dataset_update(
    *, user, dataset: Dataset, name=None, description=None, settings=None
) -> Dataset:
    require_role(user, dataset.team_id, Action.MANAGE_DATASETS)
    fields = ["updated_at"]
    if name is not None:
        dataset.name = _clean_name(name)
        fields.append("name")
    if description is not None:
        dataset.description = description
        fields.append("description")
    if settings is not None:
        dataset.settings = {**(dataset.settings or {}), **_clean_settings(settings)}
        fields.append("settings")
    try:
        with transaction.atomic():
            dataset.save(update_fields=fields)
    except IntegrityError:
        raise ConflictError(NAME_TAKEN, errors=[{"path": "name", "message": NAME_TAKEN}]) from None
    return dataset


def dataset_delete(*, user, dataset: Dataset) -> None:
    require_role(user, dataset.team_id, Action.DELETE_DATASETS)
    try:
        with transaction.atomic():
            dataset.delete()
    except ProtectedError:
        raise ConflictError(HAS_VERSIONS, code="has_versions") from None
