"""An example's revision history: the list, a turn-by-turn diff of two revisions, and restoring
an old revision (which writes a new revision with its content; history is never rewritten)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from finetunedb.exceptions import ApplicationError, PreconditionFailed
from finetunedb.teams.permissions import Action, role_allows
from finetunedb.teams.scoping import role_in_team

from .. import selectors
from ..dedup.worddiff import word_diff
from ..services.examples import example_update
from ..services.versions.messagediff import message_diff

NO_SUCH_REVISION = "There is no revision {n} of this example."
RESTORED = "Revision {n} restored as a new revision."
ALREADY_CURRENT = "Revision {n} is the current content; nothing to restore."
STALE = "The example changed since you opened the history; look again before restoring."


def _content_text(message: dict) -> str:
    text = message.get("content") or ""
    for call in message.get("tool_calls") or []:
        fn = call.get("function") or {}
        text += f"\n→ {fn.get('name')}({fn.get('arguments')})"
    return text


def _diff(old, new) -> list[dict]:
    d = message_diff(old.messages, new.messages, old.tools, new.tools)
    rows = [
        {
            "kind": "changed",
            "index": c["new_index"],
            "role": c["new"].get("role"),
            "old_role": c["old"].get("role"),
            "segments": word_diff(_content_text(c["old"]), _content_text(c["new"])),
        }
        for c in d["changed"]
    ]
    rows += [
        {"kind": "added", "index": a["index"], "role": a["message"].get("role"),
         "segments": [("ins", _content_text(a["message"]))]}
        for a in d["added"]
    ]  # fmt: skip
    rows += [
        {"kind": "removed", "index": r["index"], "role": r["message"].get("role"),
         "segments": [("del", _content_text(r["message"]))]}
        for r in d["removed"]
    ]  # fmt: skip
    return sorted(rows, key=lambda r: (r["index"], r["kind"]))


def _number(value, default):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@login_required
def example_history(request, example_id):
    example = selectors.example_get_for_user(request.user, example_id)
    revisions = list(selectors.example_revision_list(example=example))
    by_number = {r.number: r for r in revisions}
    current = example.current_revision
    b = by_number.get(_number(request.GET.get("b"), current.number), current)
    a = by_number.get(_number(request.GET.get("a"), b.number - 1))
    role = role_in_team(request.user, example.dataset.team_id)
    return render(
        request,
        "workspace/history.html",
        {
            "example": example,
            "dataset": example.dataset,
            "revisions": revisions,
            "a": a,
            "b": b,
            "diff": _diff(a, b) if a else None,
            "tools_changed": a is not None and (a.tools or None) != (b.tools or None),
            "metadata_changed": a is not None and (a.metadata or {}) != (b.metadata or {}),
            "can_annotate": role_allows(role, Action.ANNOTATE),
        },
    )


@login_required
@require_POST
def example_restore(request, example_id):
    example = selectors.example_get_for_user(request.user, example_id, action=Action.ANNOTATE)
    n = _number(request.POST.get("number"), 0)
    revision = selectors.example_revision_get(example=example, number=n)
    if revision is None:
        messages.error(request, NO_SUCH_REVISION.format(n=n))
    elif revision.pk == example.current_revision_id:
        messages.info(request, ALREADY_CURRENT.format(n=n))
    else:
        try:
            example_update(
                user=request.user,
                example=example,
                expected_revision=_number(request.POST.get("expected_revision"), 0),
                changes={
                    "messages": revision.messages,
                    "tools": revision.tools,
                    "metadata": revision.metadata,
                },
            )
        except PreconditionFailed:
            messages.error(request, STALE)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, RESTORED.format(n=n))
    return redirect("datasets:example-history", example_id=example.pk)
