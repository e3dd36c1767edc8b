"""The example editor: one form for the whole example; structural operations (add, delete, move
a turn, preview) re-render the unsaved form; saving sends the revision counter the form was
loaded with, and a stale save shows both versions instead of overwriting."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from finetunedb.exceptions import ApplicationError, PreconditionFailed
from finetunedb.teams.permissions import Action, role_allows
from finetunedb.teams.scoping import role_in_team

from .. import selectors
from ..checks import check_example
from ..dedup.worddiff import word_diff
from ..services.checks import example_findings, findings_by_turn
from ..services.checks.engine import check_settings_for
from ..services.examples import example_update, status_choices_for
from ..workspace.editor_state import (
    ROLES,
    EditorState,
    apply_operation,
    state_annotations,
    state_content,
    state_from_example,
    state_from_post,
)
from ..workspace.markdown import render_markdown

SAVED = "Saved: revision counter {n}."
NOTHING_CHANGED = "Nothing changed; nothing saved."
FIX_ERRORS = "Fix the errors marked below; nothing was saved."
CONFLICT = "Someone else saved this example since you opened it. Compare, then merge or overwrite."
SHORTCUTS = [("Ctrl+S", "Save"), ("Tab", "Move between fields")]
MERGING = "Their version is loaded below, with yours beside each turn. Edit, then save."


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _live_findings(dataset, content: dict):
    findings = check_example(content, check_settings_for(dataset))
    return findings_by_turn(findings, len(content.get("messages", [])))


def _editor(request, example, state: EditorState, **extra):
    dataset = example.dataset
    content, json_errors = state_content(state)
    errors = {**json_errors, **state.errors}
    if "stored_findings" in extra:
        top, by_turn = extra.pop("stored_findings")
    else:
        top, by_turn = _live_findings(dataset, content)
    previews = extra.pop("previews", {})
    reference = extra.pop("reference", None)
    turns = [
        {
            "i": i,
            "t": t,
            "findings": by_turn.get(i, []),
            "preview": previews.get(i),
            "errors": {k.split("-", 2)[2]: v for k, v in errors.items() if k.startswith(f"t-{i}-")},
            "mine": reference.turns[i] if reference and i < len(reference.turns) else None,
        }
        for i, t in enumerate(state.turns)
    ]
    role = role_in_team(request.user, dataset.team_id)
    return render(
        request,
        "workspace/edit.html",
        {
            "example": example,
            "dataset": dataset,
            "state": state,
            "turns": turns,
            "top_findings": top,
            "errors": errors,
            "roles": ROLES,
            "statuses": status_choices_for(role=role, current=example.status),
            "extra_mine": reference.turns[len(state.turns) :] if reference else [],
            "reference": reference,
            "can_annotate": role_allows(role, Action.ANNOTATE),
            "editor_shortcuts": SHORTCUTS,
            **extra,
        },
    )


def _changes(example, state: EditorState) -> tuple[dict, dict]:
    content, errors = state_content(state)
    annotations, more = state_annotations(state)
    errors.update(more)
    rev = example.current_revision
    changes = {}
    if content["messages"] != rev.messages:
        changes["messages"] = content["messages"]
    if content.get("tools") != (rev.tools or None):
        changes["tools"] = content.get("tools")
    if content["metadata"] != (rev.metadata or {}):
        changes["metadata"] = content["metadata"]
    current = {
        "tags": sorted(t.name for t in example.tags.all()),
        "rating": example.rating,
        "notes": example.notes,
        "status": example.status,
    }
    changes.update({k: v for k, v in annotations.items() if v != current[k]})
    return changes, errors


def _errors_from(exc: ApplicationError) -> dict[str, str]:
    """Map the service's JSON paths (``messages[2].content``) onto form fields."""
    out: dict[str, str] = {}
    for e in exc.errors or [{"path": "", "message": exc.message}]:
        path = e.get("path") or ""
        if path.startswith("messages["):
            index, _, rest = path[len("messages[") :].partition("]")
            field = rest.lstrip(".").split(".")[0].split("[")[0] or "content"
            field = field if field in ("role", "content", "name", "tool_calls") else "content"
            out.setdefault(f"t-{index}-{field}", f"{path}: {e['message']}")
        else:
            key = path.split(".")[0].split("[")[0]
            key = key if key in ("tools", "metadata", "tags", "rating", "status", "notes") else ""
            out.setdefault(key or "form", f"{path}: {e['message']}" if path else e["message"])
    return out


def _save(request, example, state: EditorState):
    changes, errors = _changes(example, state)
    if errors:
        state.errors = errors
        return _editor(request, example, state, notice=FIX_ERRORS, notice_kind="error")
    if not changes:
        return _editor(request, example, state, notice=NOTHING_CHANGED, notice_kind="info")
    try:
        example = example_update(
            user=request.user,
            example=example,
            expected_revision=state.expected_revision,
            changes=changes,
        )
    except PreconditionFailed:
        return _conflict(request, example, state)
    except ApplicationError as exc:
        state.errors = _errors_from(exc)
        return _editor(request, example, state, notice=FIX_ERRORS, notice_kind="error")
    if not _is_htmx(request):
        messages.success(request, SAVED.format(n=example.revision))
        return redirect("datasets:example-edit", example_id=example.pk)
    example = selectors.example_get_for_user(request.user, example.pk)
    return _editor(
        request,
        example,
        state_from_example(example),
        notice=SAVED.format(n=example.revision),
        notice_kind="success",
    )


def _conflict(request, example, mine: EditorState):
    example = selectors.example_get_for_user(request.user, example.pk)
    theirs = state_from_example(example)
    n = max(len(theirs.turns), len(mine.turns))
    pairs = []
    for i in range(n):
        a = theirs.turns[i] if i < len(theirs.turns) else None
        b = mine.turns[i] if i < len(mine.turns) else None
        same = a == b
        pairs.append(
            {
                "i": i,
                "theirs": a,
                "mine": b,
                "same": same,
                "diff": word_diff(a.content, b.content) if a and b and not same else None,
            }
        )
    fields = [
        (label, getattr(theirs, key), getattr(mine, key))
        for key, label in (
            ("status", "Status"),
            ("tags", "Tags"),
            ("rating", "Rating"),
            ("notes", "Notes"),
            ("tools", "Tools"),
            ("metadata", "Metadata"),
        )
        if str(getattr(theirs, key)).strip() != str(getattr(mine, key)).strip()
    ]
    return render(
        request,
        "workspace/conflict.html",
        {
            "example": example,
            "dataset": example.dataset,
            "mine": mine,
            "pairs": pairs,
            "fields": fields,
            "current_revision": example.revision,
            "notice": CONFLICT,
        },
        status=200 if _is_htmx(request) else 409,
    )


@login_required
def example_edit(request, example_id):
    example = selectors.example_get_for_user(request.user, example_id)
    if request.method != "POST":
        stored = findings_by_turn(example_findings(example), len(example.current_revision.messages))
        return _editor(request, example, state_from_example(example), stored_findings=stored)
    example = selectors.example_get_for_user(request.user, example_id, action=Action.ANNOTATE)
    state = state_from_post(request.POST)
    op = request.POST.get("op", "save")
    if op == "save":
        return _save(request, example, state)
    if op == "overwrite":
        # explicit: the user saw their version and chose to replace it; the form carries the
        # counter of the version they saw, so a third writer still gets a conflict
        return _save(request, example, state)
    if op == "merge":
        return _editor(
            request,
            example,
            state_from_example(example),
            reference=state,
            notice=MERGING,
            notice_kind="info",
        )
    if op.startswith("preview:"):
        try:
            i = int(op.partition(":")[2])
            previews = {i: render_markdown(state.turns[i].content)}
        except (ValueError, IndexError):
            previews = {}
        return _editor(request, example, state, previews=previews)
    focus = apply_operation(state, op)
    return _editor(request, example, state, focus=focus)


@login_required
@require_POST
def example_checks_live(request, example_id):
    """Check findings of the unsaved form, as out-of-band swaps into each turn's findings list."""
    example = selectors.example_get_for_user(request.user, example_id)
    state = state_from_post(request.POST)
    content, errors = state_content(state)
    top, by_turn = _live_findings(example.dataset, content)
    return render(
        request,
        "workspace/_live_checks.html",
        {
            "dataset": example.dataset,
            "top_findings": top,
            "turns": [{"i": i, "findings": by_turn.get(i, [])} for i in range(len(state.turns))],
            "json_errors": errors,
        },
    )
