"""Writes for examples: every content change is a new immutable revision; every change of any
kind bumps ``Example.revision`` with a conditional UPDATE, which is the optimistic lock."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F, ProtectedError

from finetunedb.exceptions import ApplicationError, ConflictError, PreconditionFailed
from finetunedb.teams.permissions import Action, role_allows
from finetunedb.teams.scoping import require_role

from .. import canonical
from ..models import Dataset, Example, ExampleRevision, ExampleStatus, Split, Tag
from .checks import example_checks_after_change

INVALID_CONTENT = "The example's content is not valid chat fine-tuning data; see errors."
STALE = "The example changed since you loaded it (revision {current}, you sent {expected}). Reload it, reapply your change and send the new ETag."
TAG_INVALID = "Tags are 1–64 characters."
RATING_INVALID = "Rating is an integer from 1 to 5, or null."
IN_A_VERSION = "This example is part of a frozen version and cannot be deleted; archive it instead."

ANNOTATION_FIELDS = ("status", "split", "rating", "notes", "tags")
CONTENT_FIELDS = ("messages", "tools", "metadata")


def status_change_action(*, current: str | None, new: str) -> Action:
    """The action a status write needs: archiving or un-archiving is curation (archived examples
    leave checks, exports and versions, as if deleted); every other status change is annotation.
    Every path that sets a status (API, pages, review, bulk) asks this."""
    if current != new and ExampleStatus.ARCHIVED in (current, new):
        return Action.CURATE
    return Action.ANNOTATE


def status_choices_for(*, role: str | None, current: str | None = None) -> list[tuple[str, str]]:
    """The statuses ``role`` may set on an example now at ``current`` (None: any example, as in
    a bulk action): what pages offer, so nobody is shown a choice that answers 403."""
    return [
        (value, label)
        for value, label in ExampleStatus.choices
        if role_allows(role, status_change_action(current=current, new=value))
    ]


def _validate_content(messages, tools, metadata) -> None:
    body = {"messages": messages}
    if tools is not None:
        body["tools"] = tools
    if metadata is not None:
        body["metadata"] = metadata
    errors = canonical.validate_content(body)
    if errors:
        raise ApplicationError(INVALID_CONTENT, errors=[e.as_dict() for e in errors])


def _clean_annotations(values: dict) -> dict:
    errors = []
    if "status" in values and values["status"] not in ExampleStatus.values:
        errors.append(
            {"path": "status", "message": f"must be one of {', '.join(ExampleStatus.values)}"}
        )
    if "split" in values and values["split"] not in Split.values:
        errors.append({"path": "split", "message": f"must be one of {', '.join(Split.values)}"})
    if "rating" in values:
        rating = values["rating"]
        if rating is not None and (
            isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5
        ):
            errors.append({"path": "rating", "message": RATING_INVALID})
    if "notes" in values and not isinstance(values["notes"], str):
        errors.append({"path": "notes", "message": "must be a string"})
    if "tags" in values:
        tags = values["tags"]
        if not isinstance(tags, list) or any(
            not isinstance(t, str) or not 1 <= len(t.strip()) <= 64 for t in tags
        ):
            errors.append({"path": "tags", "message": TAG_INVALID})
        else:
            values["tags"] = sorted({t.strip() for t in tags})
    if errors:
        raise ApplicationError("Invalid annotation values.", errors=errors)
    return values


def _set_tags(example: Example, names: list[str]) -> None:
    existing = {
        t.name: t for t in Tag.objects.filter(dataset_id=example.dataset_id, name__in=names)
    }
    missing = [Tag(dataset_id=example.dataset_id, name=n) for n in names if n not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {
            t.name: t for t in Tag.objects.filter(dataset_id=example.dataset_id, name__in=names)
        }
    example.tags.set([existing[n] for n in names])


def example_create(
    *,
    user,
    dataset: Dataset,
    messages,
    tools=None,
    metadata=None,
    source_format: str = "manual",
    **annotations,
) -> Example:
    require_role(user, dataset.team_id, Action.ANNOTATE)
    _validate_content(messages, tools, metadata)
    annotations = _clean_annotations(dict(annotations))
    if "status" in annotations:
        action = status_change_action(current=None, new=annotations["status"])
        require_role(user, dataset.team_id, action)
    tags = annotations.pop("tags", None)
    if "split" in annotations and annotations["split"] != Split.UNASSIGNED:
        annotations["split_locked"] = True
    chash = canonical.content_hash(messages, tools)
    with transaction.atomic():
        example = Example.objects.create(
            dataset=dataset,
            content_hash=chash,
            source_format=source_format,
            created_by=user,
            **annotations,
        )
        revision = ExampleRevision.objects.create(
            example=example,
            number=1,
            messages=messages,
            tools=tools or None,
            metadata=metadata or {},
            content_hash=chash,
            author=user,
        )
        example.current_revision = revision
        example.save(update_fields=["current_revision"])
        if tags:
            _set_tags(example, tags)
        example_checks_after_change(example=example)
    return example


def example_update(*, user, example: Example, expected_revision: int, changes: dict) -> Example:
    """Apply ``changes`` (content and/or annotation fields) if the example is still at
    ``expected_revision``; otherwise raise PreconditionFailed (HTTP 412)."""
    require_role(user, example.dataset.team_id, Action.ANNOTATE)
    unknown = sorted(set(changes) - set(ANNOTATION_FIELDS) - set(CONTENT_FIELDS))
    if unknown:
        raise ApplicationError(
            "Unknown or read-only fields.",
            errors=[{"path": k, "message": "cannot be changed"} for k in unknown],
        )
    annotations = _clean_annotations({k: v for k, v in changes.items() if k in ANNOTATION_FIELDS})
    content_changed = any(k in changes for k in CONTENT_FIELDS)

    with transaction.atomic():
        # The conditional UPDATE is the lock: of two writers holding the same revision only one
        # matches; the other sees 0 rows and gets 412, whatever the database.
        updated = Example.objects.filter(pk=example.pk, revision=expected_revision).update(
            revision=F("revision") + 1
        )
        if not updated:
            current = (
                Example.objects.filter(pk=example.pk).values_list("revision", flat=True).first()
            )
            raise PreconditionFailed(
                STALE.format(current=current, expected=expected_revision),
                extra={"current_revision": current},
            )
        example.refresh_from_db()
        if "status" in annotations:
            # Decided on the row as of the revision the caller holds, inside the transaction.
            action = status_change_action(current=example.status, new=annotations["status"])
            require_role(user, example.dataset.team_id, action)
        fields = ["updated_at"]
        if content_changed:
            base = example.current_revision
            messages = changes.get("messages", base.messages)
            tools = changes.get("tools", base.tools)
            metadata = changes.get("metadata", base.metadata)
            _validate_content(messages, tools, metadata)
            chash = canonical.content_hash(messages, tools)
            number = (
                example.revisions.order_by("-number").values_list("number", flat=True).first() or 0
            ) + 1
            revision = ExampleRevision.objects.create(
                example=example,
                number=number,
                messages=messages,
                tools=tools or None,
                metadata=metadata or {},
                content_hash=chash,
                author=user,
            )
            example.current_revision = revision
            example.content_hash = chash
            fields += ["current_revision", "content_hash"]
        tags = annotations.pop("tags", None)
        if "split" in annotations:
            annotations["split_locked"] = annotations["split"] != Split.UNASSIGNED
        for key, value in annotations.items():
            setattr(example, key, value)
            fields.append(key)
        example.save(update_fields=fields)
        if tags is not None:
            _set_tags(example, tags)
        if content_changed or "status" in annotations:
            example_checks_after_change(example=example)
    return example


def example_archive(*, user, example: Example, expected_revision: int) -> Example:
    return example_update(
        user=user,
        example=example,
        expected_revision=expected_revision,
        changes={"status": ExampleStatus.ARCHIVED},
    )


def example_delete(*, user, example: Example) -> None:
    require_role(user, example.dataset.team_id, Action.CURATE)
    try:
        with transaction.atomic():
            example.delete()
    except ProtectedError:
        raise ConflictError(IN_A_VERSION) from None
