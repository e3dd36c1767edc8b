"""The client covers the API and stays a client: a method for every /api/v1/ route the server
has (a new route needs its method in client/), and no import of the server's code."""

from __future__ import annotations

import ast
import re
import warnings

from tests.client.conftest import CLIENT_DIR

# Routes the client does not wrap, each with why.
NOT_WRAPPED = {
    "schema/": "the OpenAPI document itself",
    "docs/": "the browsable docs page",
}
SERVER_PACKAGES = {
    "django",
    "rest_framework",
    "drf_spectacular",
    "celery",
    "finetunedb",
    "datasets_app",
    "training",
    "evaluation",
    "capture",
    "serving",
    "annotation",
}


def api_routes() -> set[str]:
    from django.urls import URLPattern, URLResolver, get_resolver

    found = set()

    def walk(patterns, prefix):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                found.add(prefix + str(entry.pattern))

    walk(get_resolver().url_patterns, "")
    return {
        re.sub(r"<[^>]+>", "{}", route.removeprefix("api/v1/"))
        for route in found
        if route.startswith("api/v1/")
    }


def client_paths() -> set[str]:
    """Every API path template the client's code sends (f-strings with fields as ``{}``)."""
    paths = set()
    for path in (CLIENT_DIR / "finetunedb_client").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # the literal pieces of an f-string are not paths of their own
        pieces = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
        for node in ast.walk(tree):
            if id(node) in pieces:
                continue
            if isinstance(node, ast.JoinedStr):
                text = "".join(
                    part.value if isinstance(part, ast.Constant) else "{}" for part in node.values
                )
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
            else:
                continue
            if ROUTE.fullmatch(text):
                paths.add(text)
    return paths


# A relative API path as the client writes it: "datasets/{}/examples/".
ROUTE = re.compile(r"[a-z][a-z-]*(/([a-z][a-z-]*|\{\}))*/")

# DESIGN §6 and §8's routes built when the client was written: each must keep its method.
CONTRACT = {
    "auth/token/", "me/", "teams/", "teams/{}/members/", "teams/{}/members/{}/",
    "teams/{}/invitations/", "teams/{}/invitations/{}/", "invitations/",
    "invitations/{}/accept/", "invitations/{}/decline/",
    "datasets/", "datasets/{}/", "datasets/{}/examples/", "datasets/{}/examples/bulk/",
    "examples/{}/", "datasets/{}/imports/", "imports/{}/", "imports/{}/errors/",
    "datasets/{}/export/", "datasets/{}/versions/", "versions/{}/", "versions/{}/diff/",
    "versions/{}/export/", "versions/{}/restore/", "restores/{}/", "restores/{}/undo/",
    "datasets/{}/report/", "datasets/{}/fixes/preview/", "datasets/{}/fixes/apply/",
    "datasets/{}/dedup/", "dedup-jobs/{}/", "datasets/{}/duplicate-clusters/",
    "datasets/{}/duplicate-clusters/resolve/", "datasets/{}/contamination/",
    "datasets/{}/split/", "datasets/{}/leakage/", "action-jobs/{}/",
    "versions/{}/training-runs/", "versions/{}/models/", "versions/{}/training-preflight/",
    "versions/{}/training-preview/", "training-runs/{}/", "training-runs/{}/cancel/",
    "examples/{}/models/", "models/{}/", "models/{}/download/", "models/{}/playground/",
    "models/{}/compare/", "playground/{}/",
    "eval-suites/", "eval-suites/{}/", "eval-suites/{}/runs/", "eval-runs/{}/",
    "eval-runs/{}/cancel/", "eval-runs/{}/results/", "eval-runs/{}/compare/",
    "eval-results/{}/nearest-training-examples/", "eval-runs/{}/pairwise/",
    "eval-runs/{}/pairwise/{}/", "eval-runs/{}/pairwise/{}/next/",
    "eval-runs/{}/pairwise/{}/judgments/", "eval-runs/{}/pairwise/{}/results/",
    "eval-runs/{}/pairwise/{}/save-preferences/",
    "teams/{}/ingest-keys/", "teams/{}/capture-rules/", "logs/", "logs/{}/",
    "logs/{}/feedback/", "datasets/{}/from-logs/",
    "datasets/{}/assignments/", "datasets/{}/annotations/export/", "assignments/{}/",
    "assignments/{}/annotators/{}/", "assignments/{}/agreement/", "assignments/{}/adjudicate/",
    "assignments/{}/statistics/", "me/queue/", "me/queue/{}/", "me/queue/{}/submit/",
    "datasets/{}/embeddings/", "embedding-jobs/{}/", "datasets/{}/topics/",
    "datasets/{}/coverage/", "datasets/{}/coverage-targets/", "coverage-targets/{}/",
    "coverage-targets/{}/queue/",
}  # fmt: skip


def test_it_calls_only_routes_the_server_has():
    unknown = sorted(client_paths() - api_routes())
    assert not unknown, f"the client calls routes the server does not have: {unknown}"


def test_it_has_a_method_for_every_contract_route():
    assert CONTRACT <= api_routes(), sorted(CONTRACT - api_routes())
    assert not sorted(CONTRACT - client_paths())


def test_it_says_which_newer_routes_it_does_not_wrap_yet():
    """Routes added after the contract above: a warning in the run's summary, not a failure
    (other work adds routes every day); add a method in client/ and the route to CONTRACT."""
    newer = sorted(api_routes() - client_paths() - set(NOT_WRAPPED))
    if newer:
        warnings.warn(f"routes without a client method yet: {newer}", stacklevel=1)


def test_it_imports_nothing_of_the_server():
    offenders = []
    for path in (CLIENT_DIR / "finetunedb_client").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offenders += [
                f"{path.name}:{node.lineno} {name}"
                for name in names
                if name.split(".")[0] in SERVER_PACKAGES
            ]
    assert not offenders
