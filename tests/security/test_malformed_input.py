"""Malformed input answers 4xx, never 500: ids past 64 bits and deeply nested JSON, sent in
every parameter and field that any view reads, to every route.

The parameter names are not a hand-kept list: they are read from the views' own source (every
``request.GET/POST/query_params/data`` read, every serializer and form field), so a new route
or a new parameter joins the walk by existing.
"""

import inspect
import re
import sys

import pytest
from django.db import transaction
from django.urls import get_resolver

from tests.security.routes import SKIP_PREFIXES, fill, walk

pytestmark = pytest.mark.django_db

BIG_ID = "9" * 25
DEEP = "[" * 5000
DEEP_OBJECT = '{"a":' * 5000
READS = re.compile(
    r"""(?:GET|POST|query_params|data|FILES|query|source|params)"""
    r"""(?:\.get|\.getlist)?\s*[\(\[]\s*["'](\w+)["']"""
)
FIELDS = re.compile(r"^\s+(\w+) = (?:serializers|forms)\.\w+\(", re.M)
# Read through helpers (a filter dict, a cursor) rather than by name in the view module.
ALWAYS = {"after", "before", "page", "page_size", "team", "cluster", "author", "rating", "ids"}
ALWAYS |= {"search", "sort", "status", "split", "tag", "rule", "severity", "ordering", "example"}


def _route_views():
    out = []
    for route, name, pattern in walk(get_resolver().url_patterns):
        if route.startswith(SKIP_PREFIXES):
            continue
        view = getattr(pattern.callback, "view_class", None) or pattern.callback
        module = sys.modules[view.__module__]
        out.append((route, name, module))
    return out


def _names_read_by(module) -> list[str]:
    source = inspect.getsource(module)
    return sorted(set(READS.findall(source)) | set(FIELDS.findall(source)) | ALWAYS)


ROUTES = _route_views()


def test_it_finds_the_parameters_views_read():
    from datasets_app.api import transfer
    from datasets_app.pages import examples as examples_page

    assert "column_mapping" in _names_read_by(transfer)
    assert {"ids", "action", "after"} <= set(_names_read_by(examples_page))


def _requests(names, is_api):
    """(method, format, data): every name at once with each hostile value, then each name alone
    (a 25-digit id in the query string, deep nesting in a form or multipart body), so a field
    refused early cannot hide a later one."""
    forms = ("multipart", "json") if is_api else ("form",)
    for value in (BIG_ID, DEEP, DEEP_OBJECT):
        everything = dict.fromkeys(names, value)
        yield "get", None, everything
        for fmt in forms:
            yield "post", fmt, everything
            if is_api:
                yield "patch", fmt, everything
    for name in names:
        yield "get", None, {name: BIG_ID}
        yield "post", forms[0], {name: DEEP}
        if is_api:
            yield "patch", forms[0], {name: DEEP}


def _send(caller, method, path, fmt, data):
    if method == "get":
        return caller.get(path, data)
    if fmt in ("json", "multipart"):
        return getattr(caller, method)(path, data, format=fmt, HTTP_IF_MATCH='"1"')
    return getattr(caller, method)(path, data)


@pytest.mark.parametrize("route,name,module", ROUTES, ids=[n for _, n, _ in ROUTES])
@pytest.mark.usefixtures("no_model_loading")
def test_it_answers_malformed_ids_and_nesting_without_a_server_error(
    route, name, module, owner, objects, api_for, client
):
    path = fill(route, objects)
    is_api = path.startswith("/api/")
    caller = api_for(owner) if is_api else client
    if not is_api:
        client.force_login(owner)
    problems = []
    for method, fmt, data in _requests(_names_read_by(module), is_api):
        savepoint = transaction.savepoint()
        try:
            status = _send(caller, method, path, fmt, data).status_code
        finally:
            transaction.savepoint_rollback(savepoint)
        if status >= 500:
            sample = ", ".join(f"{k}={v[:8]}…" for k, v in list(data.items())[:3])
            problems.append(f"{method.upper()} ({fmt}) {sample}: {status}")
    assert problems == [], f"{path}: " + "; ".join(problems)


@pytest.fixture
def no_model_loading(monkeypatch):
    """The pre-flight tokenizes with the bundled base model (seconds per call); the parsing
    this module tests happens before it. (A launch does not tokenize: the worker does.)"""
    from training import services

    monkeypatch.setattr(services, "training_preflight", lambda **kwargs: {})


# --- the reported payloads, one by one ---------------------------------------------------------


@pytest.mark.parametrize("value", ["abc", BIG_ID, "-1", "0", "1e3", ""])
def test_it_answers_a_bad_token_id_to_revoke_with_a_message(value, client, owner):
    client.force_login(owner)
    response = client.post("/tokens/", {"revoke": value}, follow=True)
    assert response.status_code == 200
    if value:
        assert "No such active token." in response.content.decode()


@pytest.mark.parametrize("param", ["after", "before"])
def test_it_pages_a_search_from_a_25_digit_cursor(param, client, owner, dataset, example):
    client.force_login(owner)
    for search in ("", "2+2"):
        response = client.get(f"/datasets/{dataset.pk}/", {param: BIG_ID, "search": search})
        assert response.status_code == 200


def test_it_answers_404_to_a_preview_of_a_25_digit_example(client, owner, objects):
    client.force_login(owner)
    response = client.get(f"/versions/{objects['version_id']}/preview/", {"example": BIG_ID})
    assert response.status_code == 404


@pytest.mark.parametrize("mapping", [DEEP, DEEP_OBJECT])
def test_it_refuses_a_deeply_nested_column_mapping_naming_the_field(
    mapping, owner, api_for, dataset
):
    import io

    upload = io.BytesIO(b"question,answer\nq,a\n")
    upload.name = "x.csv"
    response = api_for(owner).post(
        f"/api/v1/datasets/{dataset.pk}/imports/",
        {"file": upload, "column_mapping": mapping},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "column_mapping"
