"""Checklist C19 (and API5/BFLA): a role × route × method matrix generated from the URL conf.

``EXPECTED`` names, for every route and method, the :class:`Action` of
``finetunedb/teams/permissions.py`` it needs. For each of the five roles the route must answer
403 exactly when the documented matrix denies that action, and never 403/5xx when it allows it.
Methods a route does not list must answer 405. A route missing from the table fails
``test_it_has_an_expectation_for_every_route``, so a new route cannot ship without one.
"""

import pytest
from django.db import transaction

from finetunedb.teams.permissions import Action, role_allows
from tests.security.conftest import ROLES
from tests.security.routes import all_routes, fill

pytestmark = pytest.mark.django_db

A = Action
ANY = "any signed-in user"  # no team role involved (own teams, own tokens, own profile)
PUBLIC = "anyone"
METHODS = ("get", "post", "put", "patch", "delete")

EXPECTED: dict[str, dict[str, object]] = {
    # --- API ------------------------------------------------------------------------------
    "api:auth-token": {"post": PUBLIC},
    "api:me": {"get": ANY},
    "api:team-list": {"get": ANY, "post": ANY},
    # POST invites; DELETE removes someone else (leaving yourself is for every member: the
    # body's user is a third member, see call(); tests/security/test_membership.py leaves).
    "api:team-members": {"get": A.READ, "post": A.MANAGE_MEMBERS, "delete": A.MANAGE_MEMBERS},
    "api:team-member-detail": {"patch": A.MANAGE_MEMBERS, "delete": A.MANAGE_MEMBERS},
    "api:team-invitations": {"get": A.MANAGE_MEMBERS},
    "api:team-invitation-detail": {"delete": A.MANAGE_MEMBERS},
    # The caller's own invitations: another person's answers 404 to everyone.
    "api:invitation-list": {"get": ANY},
    "api:invitation-accept": {"post": ANY},
    "api:invitation-decline": {"post": ANY},
    "api:dataset-list": {"get": ANY, "post": A.MANAGE_DATASETS},
    "api:dataset-detail": {
        "get": A.READ,
        "patch": A.MANAGE_DATASETS,
        "delete": A.DELETE_DATASETS,
    },
    "api:dataset-examples": {"get": A.READ, "post": A.ANNOTATE},
    "api:dataset-examples-bulk": {"post": A.CURATE},  # body: action=archive
    "api:example-detail": {"get": A.READ, "patch": A.ANNOTATE, "delete": A.CURATE},
    "api:dataset-imports": {"get": A.READ, "post": A.IMPORT},
    "api:import-detail": {"get": A.READ},
    "api:action-job-detail": {"get": A.READ},
    "api:import-errors": {"get": A.READ},
    "api:dataset-export": {"get": A.EXPORT},
    "api:dataset-versions": {"get": A.READ, "post": A.FREEZE},
    "api:version-detail": {"get": A.READ, "patch": A.FREEZE},
    "api:version-diff": {"get": A.READ},
    "api:version-export": {"get": A.EXPORT},
    "api:version-restore": {"post": A.CURATE},
    "api:restore-detail": {"get": A.READ},
    "api:restore-undo": {"post": A.CURATE},
    "api:dataset-report": {"get": A.READ},
    "api:dataset-fixes-preview": {"post": A.CURATE},
    "api:dataset-fixes-apply": {"post": A.CURATE},
    "api:dataset-dedup": {"post": A.CURATE},
    "api:dedup-job-detail": {"get": A.READ},
    "api:dataset-embeddings": {"get": A.READ, "post": A.CURATE},
    "api:embedding-job-detail": {"get": A.READ},
    "api:dataset-topics": {"get": A.READ},
    "api:dataset-coverage-targets": {"get": A.READ, "post": A.CURATE},
    "api:coverage-target-detail": {"get": A.READ, "patch": A.CURATE, "delete": A.CURATE},
    "api:coverage-target-queue": {"post": A.CURATE},  # under its target: 409 with the URL
    "api:dataset-coverage": {"get": A.READ},
    "api:dataset-duplicate-clusters": {"get": A.READ},
    "api:dataset-duplicate-clusters-resolve": {"post": A.CURATE},
    "api:dataset-contamination": {"post": A.READ},  # a report, writes nothing
    "api:dataset-split": {"post": A.CURATE},
    "api:dataset-leakage": {"get": A.READ},
    "api:schema": {"get": PUBLIC},  # the API's shape is public; no data in it
    "api:docs": {"get": PUBLIC},
    "api:version-training-runs": {"get": A.READ, "post": A.TRAIN},
    "api:version-models": {"get": A.READ},
    "api:version-training-preflight": {"get": A.TRAIN, "post": A.TRAIN},
    "api:version-training-preview": {"get": A.READ},
    "api:training-run-detail": {"get": A.READ},
    "api:training-run-cancel": {"post": A.TRAIN},
    "api:example-models": {"get": A.READ},
    "api:model-detail": {"get": A.READ},
    "api:model-download": {"get": A.EXPORT},
    "api:model-playground": {"post": A.TRAIN},
    "api:model-compare": {"get": A.READ},
    "api:playground-detail": {"get": A.READ},
    # the body's dataset decides the role (CURATE, tests/training/test_playground_picks.py);
    # the matrix sends none: a 400 for everyone who can see the conversation
    "api:playground-pick": {"post": A.READ},
    "api:eval-suite-list": {"get": ANY, "post": A.TRAIN},
    "api:eval-suite-detail": {"get": A.READ},
    "api:eval-suite-runs": {"get": A.READ, "post": A.TRAIN},
    "api:eval-run-detail": {"get": A.READ},
    "api:eval-run-cancel": {"post": A.TRAIN},
    "api:eval-run-results": {"get": A.READ},
    "api:eval-run-compare": {"get": A.READ},  # without ?against= a 400, never a 403
    # Blind pairwise review (issue 17): starting one is curation, judging is annotation; the
    # save's dataset comes in the body (none here: a 400 for everyone; the dataset's CURATE
    # role is checked in tests/evaluation/test_pairwise_api.py).
    "api:eval-run-pairwise": {"get": A.READ, "post": A.CURATE},
    "api:pairwise-review": {"get": A.READ},
    "api:pairwise-next": {"get": A.ANNOTATE},
    "api:pairwise-judgments": {"get": A.READ, "post": A.ANNOTATE},
    "api:pairwise-results": {"get": A.READ},
    "api:pairwise-save-preferences": {"post": A.READ},
    # The LLM judge on two runs (issue 17): asking for one spends the worker's and the judge's
    # compute, as starting an eval run does.
    "api:eval-run-judge": {"get": A.READ, "post": A.TRAIN},
    "api:judged-comparison": {"get": A.READ},
    "api:eval-result-nearest": {"get": A.READ},
    "api:team-ingest-keys": {
        "get": A.MANAGE_MEMBERS,
        "post": A.MANAGE_MEMBERS,
        "delete": A.MANAGE_MEMBERS,
    },
    "api:log-list": {"get": ANY, "post": A.ANNOTATE},  # POST: the body names the team; 400
    "api:log-detail": {"get": A.READ},
    "api:log-feedback": {"post": A.ANNOTATE},
    "api:dataset-from-logs": {"post": A.CURATE},
    "api:team-capture-rules": {"get": A.READ, "post": A.CURATE, "delete": A.CURATE},
    "api:team-capture-settings": {"get": A.READ, "patch": A.MANAGE_MEMBERS},
    # Annotation (issue 21). Agreement and statistics show every annotator's labels, so they
    # are for the roles that adjudicate (CURATE), which keeps annotation blind.
    "api:dataset-assignments": {"get": A.READ, "post": A.CURATE},
    "api:dataset-annotations-export": {"get": A.EXPORT},
    "api:assignment-detail": {"get": A.READ, "patch": A.CURATE},
    "api:assignment-annotator": {"delete": A.CURATE},  # the world's user holds no item: 400
    "api:assignment-agreement": {"get": A.CURATE},
    "api:assignment-adjudicate": {"post": A.CURATE},
    "api:assignment-statistics": {"get": A.CURATE},
    # The caller's own queue: anyone else's item is a 404 (tests/annotation), never a 403.
    "api:queue-next": {"get": ANY},
    "api:queue-item": {"get": ANY},
    "api:queue-item-submit": {"post": ANY},
    # Webhooks (issue 23): endpoints, their deliveries and payloads are the team's
    # configuration, for owners and admins (the body the matrix sends has no url: a 400)
    "api:team-webhooks": {
        "get": A.MANAGE_MEMBERS,
        "post": A.MANAGE_MEMBERS,
        "delete": A.MANAGE_MEMBERS,
    },
    "api:team-webhook-deliveries": {"get": A.MANAGE_MEMBERS},
    "api:webhook-detail": {"patch": A.MANAGE_MEMBERS},
    "api:webhook-ping": {"post": A.MANAGE_MEMBERS},
    "api:webhook-delivery-detail": {"get": A.MANAGE_MEMBERS},
    "api:webhook-delivery-redeliver": {"post": A.MANAGE_MEMBERS},
    # a member's token needs X-FinetuneDB-Team; without it a 400 for everyone
    "proxy:chat-completions": {"post": ANY},
    # OpenAI-compatible serving: the model in the body is scoped like any object (its team's
    # members may call it: the READ role), tests/serving and tests/test_url_scoping.py.
    "serving:models": {"get": ANY},
    "serving:chat-completions": {"post": ANY},
    # --- pages (a POST to a page that only shows something renders it again: READ) ---------
    "teams:home": {"get": ANY, "post": ANY},
    "semantic:search": {"get": A.READ},
    "semantic:embed": {"post": A.CURATE},
    "semantic:topics": {"get": A.READ},
    "semantic:coverage": {"get": A.READ, "post": A.CURATE},  # POST adds a target
    "semantic:coverage-gate": {"post": A.MANAGE_DATASETS},  # a dataset setting
    "semantic:coverage-target-remove": {"post": A.CURATE},
    "semantic:coverage-queue": {"post": A.CURATE},
    "semantic:coverage-write": {"get": A.ANNOTATE, "post": A.ANNOTATE},  # authoring queue
    "teams:login": {"get": PUBLIC, "post": PUBLIC},
    "teams:logout": {"post": ANY},
    "teams:signup": {"get": PUBLIC, "post": PUBLIC},
    "teams:password-change": {"get": ANY, "post": ANY},
    "teams:password-done": {"get": ANY},
    "teams:switch": {"post": ANY},
    "teams:create": {"post": ANY},
    "teams:members": {"get": A.READ, "post": A.MANAGE_MEMBERS},
    "teams:leave": {"post": A.READ},  # any member leaves (the last owner is told why not)
    "teams:invitation-accept": {"post": ANY},
    "teams:invitation-decline": {"post": ANY},
    "teams:tokens": {"get": ANY, "post": ANY},
    "datasets:list": {"get": ANY, "post": ANY},
    "datasets:create": {"post": A.MANAGE_DATASETS},
    "datasets:detail": {"get": A.READ, "post": A.READ},
    "datasets:overview": {"get": A.READ, "post": A.READ},
    "datasets:bulk": {"post": A.ANNOTATE},  # per action: status is annotate, the rest curate
    "datasets:review": {"get": A.READ, "post": A.READ},
    "datasets:review-decide": {"post": A.ANNOTATE},
    "datasets:example-edit": {"get": A.READ, "post": A.ANNOTATE},
    "datasets:example-checks-live": {"post": A.READ},  # checks a draft, writes nothing
    "datasets:example-history": {"get": A.READ, "post": A.READ},
    "datasets:example-restore": {"post": A.ANNOTATE},
    "datasets:example-new": {"get": A.ANNOTATE, "post": A.ANNOTATE},
    "datasets:example": {"get": A.READ, "post": A.READ},
    "datasets:import-new": {"get": A.IMPORT, "post": A.IMPORT},
    "datasets:import": {"get": A.READ, "post": A.READ},
    "datasets:import-retry": {"post": A.IMPORT},
    "actions:job": {"get": A.READ},
    "datasets:export": {"get": A.EXPORT, "post": A.EXPORT},
    "datasets:versions": {"get": A.READ, "post": A.FREEZE},
    "datasets:version": {"get": A.READ, "post": A.FREEZE},
    "datasets:version-diff": {"get": A.READ, "post": A.READ},
    "datasets:version-restore": {"get": A.CURATE, "post": A.CURATE},
    "datasets:restore-undo": {"post": A.CURATE},
    "datasets:checks": {"get": A.READ, "post": A.READ},
    "datasets:checks-fixes-preview": {"get": A.CURATE, "post": A.CURATE},
    "datasets:checks-fixes-apply": {"post": A.CURATE},
    "datasets:checks-recheck": {"post": A.CURATE},
    "datasets:duplicates": {"get": A.READ, "post": A.READ},
    "datasets:duplicates-run": {"post": A.CURATE},
    "datasets:duplicates-resolve": {"post": A.CURATE},
    "datasets:split": {"get": A.READ, "post": A.CURATE},
    "datasets:contamination": {"get": A.READ, "post": A.READ},
    "training:train": {"get": A.TRAIN, "post": A.TRAIN},
    "training:preview": {"get": A.READ, "post": A.READ},
    "training:run": {"get": A.READ, "post": A.READ},
    "training:run-cancel": {"post": A.TRAIN},
    "training:model": {"get": A.READ, "post": A.TRAIN},  # POST asks the playground
    "training:model-compare": {"get": A.READ, "post": A.READ},
    "training:playground-pick": {"post": A.READ},  # no dataset sent: back to the model page
    # The suite form's team is the chosen version's: the service checks TRAIN there.
    "evaluation:suites": {"get": ANY, "post": ANY},
    "capture:logs": {"get": ANY, "post": ANY},
    "capture:log": {"get": A.READ, "post": A.ANNOTATE},  # POST saves feedback
    "capture:ingest-keys": {"get": A.MANAGE_MEMBERS, "post": A.MANAGE_MEMBERS},
    "served:traffic": {"get": A.READ},
    # the dataset in the body decides the team (and the role); the matrix sends none: 404
    "capture:add-to-dataset": {"post": ANY},
    "evaluation:suite": {"get": A.READ, "post": A.TRAIN},  # POST starts a run
    "evaluation:run": {"get": A.READ, "post": A.READ},
    "evaluation:run-cancel": {"post": A.TRAIN},
    "evaluation:compare": {"get": A.READ, "post": A.READ},
    "evaluation:result-nearest": {"get": A.READ, "post": A.READ},
    "evaluation:version-evals": {"get": A.READ, "post": A.READ},
    "evaluation:model-evals": {"get": A.READ, "post": A.READ},
    "evaluation:pairwise-create": {"post": A.CURATE},
    "evaluation:pairwise-queue": {"get": A.ANNOTATE},
    "evaluation:pairwise-judge": {"post": A.ANNOTATE},
    "evaluation:pairwise-results": {"get": A.READ},
    "evaluation:pairwise-save": {"post": A.READ},  # the dataset in the body decides (none: 302)
    "evaluation:judge-create": {"post": A.TRAIN},
    "annotation:assignments": {"get": A.READ},
    "annotation:assignment-new": {"get": A.CURATE, "post": A.CURATE},
    "annotation:assignment": {"get": A.READ},  # agreement and labels only for CURATE roles
    "annotation:adjudicate": {"post": A.CURATE},
    "annotation:edit": {"post": A.CURATE},  # new guidelines are the next version
    "annotation:remove-annotator": {"post": A.CURATE},
    "annotation:statistics": {"get": A.CURATE},
    "annotation:queue": {"get": ANY},
    "annotation:queue-item": {"get": ANY},  # the caller's own item; anyone else's is a 404
    "annotation:queue-submit": {"post": ANY},
    "webhooks:team": {"get": A.MANAGE_MEMBERS, "post": A.MANAGE_MEMBERS},
}

BODY = {
    "name": "x",
    "messages": [{"role": "user", "content": "x"}],
    "user": "viewer-user",
    "role": "viewer",
    "action": "archive",
    "reason": "r",
}
ROUTES = all_routes()


def test_it_has_an_expectation_for_every_route():
    names = {name for _, name in ROUTES}
    assert names - EXPECTED.keys() == set(), "add these routes to EXPECTED"
    assert EXPECTED.keys() - names == set(), "these routes no longer exist"


def call(caller, method, path, is_api, objects):
    if method == "get":
        return caller.get(path)
    # "user" names a member none of the callers is: removing yourself is leaving, for everyone.
    if is_api:
        body = {
            **BODY,
            "ids": [objects["example_id"]],
            "team": objects["team_id"],
            "user": str(objects["user_id"]),
        }
        return getattr(caller, method)(path, body, format="json", HTTP_IF_MATCH='"1"')
    return getattr(caller, method)(
        path, {**BODY, "team": objects["team_id"], "user": str(objects["user_id"])}
    )


def verdict(expected, role, status):
    """None when ``status`` is what ``role`` should get for ``expected``, else the complaint."""
    if status >= 500:
        return f"server error {status}"
    if expected in (ANY, PUBLIC):
        return "403 for a route open to every user" if status == 403 else None
    if role_allows(role, expected):
        return f"403 although {role} may {expected}" if status == 403 else None
    return None if status == 403 else f"{status} although {role} may not {expected}"


@pytest.fixture
def no_model_loading(monkeypatch):
    """The pre-flight converts and reads the bundled base model (tens of seconds on first use);
    its role gate runs before that, and the gate is what this module tests."""
    from training import services

    monkeypatch.setattr(services, "training_preflight", lambda **kwargs: {})


@pytest.mark.parametrize("route,name", ROUTES, ids=[name for _, name in ROUTES])
@pytest.mark.usefixtures("no_model_loading")
def test_it_enforces_the_documented_matrix(route, name, members, objects, api_for, client):
    path = fill(route, objects)
    is_api = path.startswith("/api/")
    expected_by_method = EXPECTED.get(name)
    assert expected_by_method is not None, f"{name}: no expectation"
    api_clients = {role: api_for(user) for role, user in members.items()} if is_api else {}
    problems = []
    for method in METHODS:
        expected = expected_by_method.get(method)
        for role in ROLES if expected is not None else ("owner",):
            if is_api:
                caller = api_clients[role]
            else:
                client.force_login(members[role])
                caller = client
            savepoint = transaction.savepoint()
            try:
                status = call(caller, method, path, is_api, objects).status_code
            finally:
                transaction.savepoint_rollback(savepoint)
            if expected is None:
                problem = None if status == 405 else f"{status}, not 405, for an unlisted method"
            else:
                problem = verdict(expected, role, status)
            if problem:
                problems.append(f"{method.upper()} as {role}: {problem}")
    assert problems == [], f"{path}: " + "; ".join(problems)


def test_it_documents_the_same_matrix_it_enforces():
    """docs/permissions.md and permissions.MATRIX agree, role by role (C19)."""
    from pathlib import Path

    from finetunedb.teams.permissions import MATRIX

    doc = (Path(__file__).resolve().parents[2] / "docs" / "permissions.md").read_text()
    rows = {}
    for line in doc.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[1] in ("✓", "–"):
            rows[cells[0]] = {role for role, c in zip(ROLES, cells[1:], strict=True) if c == "✓"}
    by_label = {
        Action.READ: "read datasets, examples, versions, runs, models",
        Action.ANNOTATE: "annotate: create and edit examples, status, tags, rating, notes",
        Action.CURATE: "curate: delete examples, bulk actions, dedup, split, safe fixes",
        Action.IMPORT: "import files",
        Action.EXPORT: "export",
        Action.MANAGE_DATASETS: "create and edit datasets",
        Action.DELETE_DATASETS: "delete datasets",
        Action.FREEZE: "freeze versions",
        Action.TRAIN: "train models",
        Action.MANAGE_MEMBERS: "manage members",
        Action.MANAGE_TEAM: "rename or delete the team, grant or remove the owner role",
    }
    assert set(by_label) == set(MATRIX)
    for action, label in by_label.items():
        assert rows[label] == set(MATRIX[action]), action


# --- Field values -----------------------------------------------------------------------------
# A route's action can depend on the value written: setting an example to ``archived`` (or back)
# is curation although a status write is annotation. Every status value and every bulk action
# needs an expectation here, and every route that writes a status is called with each of them.
STATUS_FROM_DRAFT = {
    "draft": A.ANNOTATE,
    "needs_review": A.ANNOTATE,
    "approved": A.ANNOTATE,
    "rejected": A.ANNOTATE,
    "archived": A.CURATE,
}
UNARCHIVE = A.CURATE  # from archived to any other status
BULK = {
    "set_status": STATUS_FROM_DRAFT,
    "archive": A.CURATE,
    "add_tags": A.CURATE,
    "remove_tags": A.CURATE,
    "set_split": A.CURATE,
}
BULK_VALUE = {"add_tags": "t", "remove_tags": "t", "set_split": "train"}
REVIEW_DECISIONS = {"approve": A.ANNOTATE, "reject": A.ANNOTATE}


def _status_writes(name, revision, new, before):
    """(method, body, is_api) that sets ``new`` on the example (status ``before``)."""
    chosen = {"status": before} if before == "archived" else {}
    turns = {"turn_count": "1", "t-0-role": "user", "t-0-content": "What is 2+2?"}
    return {
        "api:example-detail": (
            "patch",
            {"status": new},
            True,
        ),
        "api:dataset-examples": (
            "post",
            {"messages": [{"role": "user", "content": "x"}], "status": new},
            True,
        ),
        "api:dataset-examples-bulk": (
            "post",
            {"action": "set_status", "value": new, "filter": chosen},  # {}: the whole dataset
            True,
        ),
        "datasets:bulk": (
            "post",
            # confirmed with the number shown: the fixture's one example
            {
                "action": f"set_status:{new}",
                "scope": "filter",
                "confirmed": "1",
                "expected_count": "1",
                **chosen,
            },
            False,
        ),
        "datasets:example-edit": (
            "post",
            {**turns, "status": new, "expected_revision": str(revision)},
            False,
        ),
        "datasets:example-new": (
            "post",
            {"user": "u", "assistant": "a", "status": new},
            False,
        ),
    }[name]


STATUS_ROUTES = [
    "api:example-detail",
    "api:dataset-examples",
    "api:dataset-examples-bulk",
    "datasets:bulk",
    "datasets:example-edit",
    "datasets:example-new",
]
STATUS_CASES = [
    (name, before, new)
    for name in STATUS_ROUTES
    for before in ("draft", "archived")
    for new in STATUS_FROM_DRAFT
    if before != new and not (before == "archived" and name.endswith(("-new", "examples")))
]


def test_it_has_an_expectation_for_every_field_value():
    from datasets_app.models import ExampleStatus
    from datasets_app.pages.review import DECISIONS
    from datasets_app.services.bulk import ACTIONS

    assert set(STATUS_FROM_DRAFT) == set(ExampleStatus.values), "add the new status here"
    assert set(BULK) == set(ACTIONS), "add the new bulk action here"
    assert set(REVIEW_DECISIONS) == set(DECISIONS), "add the new review decision here"
    for name in STATUS_ROUTES:
        assert name in {n for _, n in ROUTES}, name


def _path_of(name, objects):
    return fill(dict((n, r) for r, n in ROUTES)[name], objects)


@pytest.mark.parametrize(
    "name,before,new", STATUS_CASES, ids=[f"{n}-{b}-to-{v}" for n, b, v in STATUS_CASES]
)
def test_it_decides_status_writes_by_the_value(
    name, before, new, members, dataset, example, api_for, client
):
    """An annotator may set any status but archived, and may not un-archive; every path agrees."""
    from datasets_app.models import Example

    if before == "archived":
        Example.objects.filter(pk=example.pk).update(status="archived")
    expected = UNARCHIVE if before == "archived" else STATUS_FROM_DRAFT[new]
    problems = []
    for role in ROLES:
        example.refresh_from_db()
        method, body, is_api = _status_writes(name, example.revision, new, before)
        path = _path_of(name, {"example_id": example.pk, "dataset_id": dataset.pk})
        newest = Example.objects.order_by("-pk").values_list("pk", flat=True).first()
        savepoint = transaction.savepoint()
        try:
            if is_api:
                response = getattr(api_for(members[role]), method)(
                    path, body, format="json", HTTP_IF_MATCH=f'"{example.revision}"'
                )
            else:
                client.force_login(members[role])
                response = getattr(client, method)(path, body)
            created = Example.objects.filter(pk__gt=newest).values_list("status", flat=True)
            stored = list(created) or [Example.objects.get(pk=example.pk).status]
        finally:
            transaction.savepoint_rollback(savepoint)
        problem = verdict(expected, role, response.status_code)
        if problem is None and role_allows(role, expected) and stored != [new]:
            problem = f"{response.status_code} but the status is {stored}, not {new}"
        if problem is None and not role_allows(role, expected) and new in stored:
            problem = f"status {new} was stored"
        if problem:
            problems.append(f"{role}: {problem}")
    assert problems == [], f"{name} {before}→{new}: " + "; ".join(problems)


@pytest.mark.parametrize("action", sorted(a for a in BULK if a != "set_status"))
@pytest.mark.parametrize("name", ["api:dataset-examples-bulk", "datasets:bulk"])
def test_it_decides_bulk_actions_by_the_action(
    name, action, members, objects, example, api_for, client
):
    path = _path_of(name, objects)
    problems = []
    for role in ROLES:
        value = BULK_VALUE.get(action)
        savepoint = transaction.savepoint()
        try:
            if name.startswith("api:"):
                body = {"action": action, "value": value, "ids": [example.pk]}
                response = api_for(members[role]).post(path, body, format="json")
            else:
                client.force_login(members[role])
                colon = f":{value}" if action == "set_split" else ""
                body = {"action": f"{action}{colon}", "ids": [example.pk], "bulk_tag": "t"}
                response = client.post(path, body)
        finally:
            transaction.savepoint_rollback(savepoint)
        problem = verdict(BULK[action], role, response.status_code)
        if problem:
            problems.append(f"{role}: {problem}")
    assert problems == [], f"{name} {action}: " + "; ".join(problems)
