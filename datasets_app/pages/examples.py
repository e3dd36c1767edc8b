"""The example list: full-text search, filters, sorting, keyset pages and bulk actions."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from finetunedb.exceptions import ApplicationError, ConflictError
from finetunedb.teams.models import Role
from finetunedb.teams.permissions import Action, role_allows
from finetunedb.teams.scoping import parse_id, role_in_team
from finetunedb.teams.selectors import team_user_list

from .. import selectors
from ..checks import FIXES, RULES
from ..models import ExampleStatus, Split
from ..services.bulk import examples_bulk_apply
from ..services.checks import example_fixes_apply
from ..services.examples import status_choices_for
from ..services.search import search_windowed
from ..workspace.keyset import DEFAULT_SORT, SORTS, keyset_page, keyset_search_page

FILTER_KEYS = (
    "search", "status", "split", "tag", "source_format", "rating", "rule", "severity",
    "cluster", "author", "sort", "topic",
)  # fmt: skip
PAGE_SIZE = 50
NOTHING_SELECTED = "Select some examples, or choose “all matching the filter”."
NOTHING_MATCHES = "No example matches the filter; nothing was changed."
NO_TAG = "Type the tag to add or remove."
BULK_DONE = "{action}: {n:,} example{s} changed."
FIXES_DONE = (
    "Safe fixes: {changed} of {selected} examples changed ({skipped} skipped: edited meanwhile)."
)


def read_filters(source) -> dict:
    return {k: source.get(k).strip() for k in FILTER_KEYS if (source.get(k) or "").strip()}


def _count_param(raw) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and len(raw) <= 18 else None


def _first_text(messages, role) -> str:
    for m in messages:
        if m.get("role") == role and isinstance(m.get("content"), str):
            return m["content"]
    return ""


def _row(example) -> dict:
    msgs = example.current_revision.messages if example.current_revision else []
    severities = {}
    for f in example.check_results.all():
        severities[f.severity] = severities.get(f.severity, 0) + 1
    return {
        "example": example,
        "user": _first_text(msgs, "user"),
        "assistant": _first_text(msgs, "assistant"),
        "turns": len(msgs),
        "tags": [t.name for t in example.tags.all()],
        "errors": severities.get("error", 0),
        "warnings": severities.get("warning", 0),
    }


def _bulk_actions(role: str | None) -> list[tuple[str, str]]:
    statuses = status_choices_for(role=role)
    actions = [(f"set_status:{v}", f"Set status: {label}") for v, label in statuses]
    if role_allows(role, Action.CURATE):
        actions += [(f"set_split:{v}", f"Set split: {label}") for v, label in Split.choices]
        actions += [("add_tags", "Add tag…"), ("remove_tags", "Remove tag…")]
        actions += [("archive", "Archive")]
        actions += [(f"fix:{f.id}", f"Safe fix: {f.title}") for f in FIXES.values()]
    return actions


@login_required
def example_list(request, dataset_id):
    dataset = selectors.dataset_get_for_user(request.user, dataset_id)
    role = role_in_team(request.user, dataset.team_id)
    filters = read_filters(request.GET)
    sort = filters.get("sort") if filters.get("sort") in SORTS else DEFAULT_SORT
    qs = selectors.example_list(dataset, filters=filters)
    search = filters.get("search")
    if request.GET.get("count") == "1":
        counted = selectors.example_count(qs)
        context = {"total": counted.count, "selection": counted.token, "oob": True}
        return render(request, "workspace/_count.html", context)
    cursor = {"after": request.GET.get("after"), "before": request.GET.get("before")}
    if search and sort in ("id", "-id") and search_windowed():
        others = selectors.example_list(
            dataset, filters={k: v for k, v in filters.items() if k != "search"}
        )
        page = keyset_search_page(
            others, search, dataset_id=dataset.pk, sort=sort, size=PAGE_SIZE, **cursor
        )
    else:
        page = keyset_page(qs, sort=sort, size=PAGE_SIZE, **cursor)
    # Exact, never capped, and never waited for: counting a million matches costs more than
    # the page itself (bench/pages.py), so the page asks for it once shown (?count=1) and the
    # "all matching" bulk choice stays disabled until the number is there.
    query = urlencode(filters)
    can_curate = role_allows(role, Action.CURATE)
    context = {
        "dataset": dataset,
        "tab": "examples",
        "rows": [_row(e) for e in page.rows],
        "page": page,
        "filters": filters,
        "query": query,
        "total": None,
        "sort": sort,
        "sorts": [(k, v[2]) for k, v in SORTS.items()],
        "statuses": ExampleStatus.choices,
        "splits": Split.choices,
        "tags": selectors.tag_names(dataset=dataset),
        "rules": sorted(RULES.values(), key=lambda r: r.title),
        "filter_rule": RULES.get(filters.get("rule", "")),
        "authors": team_user_list(team_id=dataset.team_id),
        "can_annotate": role_allows(role, Action.ANNOTATE),
        "can_curate": can_curate,
        "can_import": role_allows(role, Action.IMPORT),
        "can_export": role_allows(role, Action.EXPORT),
        "bulk_actions": _bulk_actions(role),
    }
    return render(request, "workspace/list.html", context)


@login_required
@require_POST
def example_bulk(request, dataset_id):
    dataset = selectors.dataset_get_for_user(request.user, dataset_id, action=Action.ANNOTATE)
    filters = read_filters(request.POST)
    back = reverse("datasets:detail", args=[dataset.pk]) + "?" + urlencode(filters)
    action, _, value = request.POST.get("action", "").partition(":")
    if action in ("add_tags", "remove_tags"):
        value = request.POST.get("bulk_tag", "").strip()
        if not value:
            messages.error(request, NO_TAG)
            return redirect(back)
    ids, queryset = None, None
    expected = {"expected_count": None, "expected_token": None}
    if request.POST.get("scope") == "filter":
        queryset = selectors.example_list(dataset, filters=filters)
        expected_count = _count_param(request.POST.get("expected_count"))
        # Never on an unknown number: a filter's action runs only once its exact count was
        # shown on the confirmation page and sent back with it.
        if request.POST.get("confirmed") != "1" or expected_count is None:
            return _bulk_confirm(request, dataset, filters, queryset, back, seen=expected_count)
        expected = {
            "expected_count": expected_count,
            "expected_token": request.POST.get("selection", "").strip() or None,
        }
    else:
        ids = [i for i in request.POST.getlist("ids") if parse_id(i) is not None]
        if not ids:
            messages.error(request, NOTHING_SELECTED)
            return redirect(back)
    try:
        if action == "fix":
            counts = example_fixes_apply(
                user=request.user,
                dataset=dataset,
                fix_ids=[value],
                ids=ids,
                queryset=queryset,
                **expected,
            )
            messages.success(
                request,
                FIXES_DONE.format(
                    changed=counts["changed"],
                    selected=counts["examples_selected"],
                    skipped=counts["skipped_conflicts"],
                ),
            )
        else:
            n = examples_bulk_apply(
                user=request.user,
                dataset=dataset,
                action=action,
                value=value or None,
                ids=ids,
                queryset=queryset,
                **expected,
            )
            label = _bulk_label(request.POST.get("action", ""), value)
            messages.success(request, BULK_DONE.format(action=label, n=n, s="" if n == 1 else "s"))
    except ConflictError as exc:
        if exc.code != "selection_changed":
            messages.error(request, exc.message)
            return redirect(back)
        # The set moved under the person: say so, and ask again with the number it has now.
        messages.error(request, exc.message)
        return _bulk_confirm(request, dataset, filters, queryset, back, seen=None, status=409)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect(back)


def _bulk_label(action: str, tag: str | None) -> str:
    label = dict(_bulk_actions(Role.OWNER)).get(action, action)
    if tag and action in ("add_tags", "remove_tags"):
        label = f"{label.rstrip('…')} “{tag}”"
    return label


def _bulk_confirm(request, dataset, filters, queryset, back, *, seen, status=200):
    """The confirmation of an action on every example a filter matches: the exact number it
    will change, counted now, and the token of that set, which the confirming POST sends back
    so the service refuses a set that changed meanwhile."""
    counted = selectors.example_count(queryset)
    if not counted.count:
        messages.error(request, NOTHING_MATCHES)
        return redirect(back)
    tag = request.POST.get("bulk_tag", "").strip()
    context = {
        "dataset": dataset,
        "tab": "examples",
        "label": _bulk_label(request.POST.get("action", ""), tag),
        "action": request.POST.get("action", ""),
        "bulk_tag": tag,
        "count": counted.count,
        "token": counted.token,
        "seen": seen,
        "filters": filters,
        "filter_labels": [(k, v) for k, v in filters.items() if k != "sort"],
        "back": back,
    }
    return render(request, "workspace/bulk_confirm.html", context, status=status)
