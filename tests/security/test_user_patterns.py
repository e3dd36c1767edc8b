"""Issue 14 (SSRF and ReDoS): every place that accepts a JSON Schema, a regular expression or a
URL from a user, found by reading the code base, and each proven safe with hostile payloads."""

import ast
import json
import socket
import time
import urllib.request
from pathlib import Path

import pytest

from datasets_app.canonical import validate_content
from datasets_app.models import CheckResult, Dataset
from datasets_app.services.checks.store import dataset_report_compute, example_checks_refresh

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("datasets_app", "finetunedb", "training", "evaluation", "capture")
pytestmark = pytest.mark.django_db

# Every call of a regex engine with a pattern that is not a literal, every JSON Schema or network
# library, and why it cannot apply a user's pattern unsafely or reach the network. A new entry
# found by the walk fails the test until someone reviews it here.
REVIEWED = {
    # the logging proxy: the administrator's upstream URLs only (FINETUNEDB_UPSTREAMS, http(s)
    # checked in upstream_get); a caller names an upstream, never a URL (tests/capture/test_proxy.py)
    ("import", "capture/upstream.py", "urllib.request"): "admin-configured upstreams only",
    ("text", "capture/upstream.py", "urlopen("): "idem",
    ("import", "datasets_app/canonical.py", "jsonschema"): "built-in schema, offline registry",
    ("import", "datasets_app/canonical.py", "referencing"): "the registry refusing retrieval",
    ("import", "datasets_app/canonical.py", "referencing.exceptions"): "idem",
    ("regex", "datasets_app/canonical.py", "METADATA_KEY_PATTERN"): "built-in, bounded",
    ("import", "datasets_app/checks/schema_keywords.py", "jsonschema"): "RE2 keywords",
    ("import", "datasets_app/checks/schema_keywords.py", "jsonschema._utils"): "idem",
    ("import", "datasets_app/checks/schema_keywords.py", "jsonschema.exceptions"): "idem",
    ("import", "datasets_app/checks/answer_schema.py", "jsonschema"): "offline, RE2, budget",
    ("import", "datasets_app/checks/user_schema.py", "jsonschema"): "the user schema module",
    ("import", "datasets_app/checks/user_schema.py", "referencing"): "idem",
    ("import", "datasets_app/checks/user_schema.py", "referencing.exceptions"): "idem",
    ("import", "datasets_app/checks/user_schema.py", "referencing.jsonschema"): "idem",
    ("regex", "datasets_app/checks/patterns.py", "'(?m)^' + _MARKDOWN_LINE"): "built-in",
    ("regex", "datasets_app/checks/patterns.py", "_MARKDOWN_LINE"): "built-in",
    ("regex", "datasets_app/checks/patterns.py", "'\\n' + _MARKDOWN_LINE"): "built-in",
    ("regex", "datasets_app/formats/validate.py", "METADATA_KEY_PATTERN.strip('^$')"): "built-in",
    # the secrets check (issue 16.4): fixed key-format patterns, each starting from literal text
    # with bounded repetition; no user text becomes a pattern
    ("regex", "datasets_app/checks/secret_formats.py", "pattern"): "_fmt(...) literals, bounded",
    (
        "regex",
        "datasets_app/checks/secret_formats.py",
        "'|'.join(map(re.escape, sorted(FORMAT_NEEDLES, key=len, reverse=True)))",
    ): "escaped built-in needles",
    (
        "regex",
        "datasets_app/checks/secrets.py",
        "f'{ASSIGNMENT_SCREEN}|{BEARER_SCREEN}'.encode()",
    ): ("built-in screens"),
    ("regex", "datasets_app/checks/secrets.py", "DB_URL_SCREEN.encode()"): "built-in screen",
    ("re2", "datasets_app/checks/batch_screen.py", "_RE2_ANY"): "built-in screens",
    ("re2", "datasets_app/checks/batch_screen.py", "pattern"): "RE2_SCREENS, built-in",
    ("re2", "datasets_app/checks/batch_screen.py", "MARKDOWN_RE2"): "built-in",
    ("re2", "datasets_app/checks/user_regex.py", "pattern"): "user patterns: RE2, capped cost",
    ("import", "training/services/execute.py", "socket"): "gethostname() for the lease owner",
}
_RE_CALLS = {
    "compile",
    "search",
    "match",
    "fullmatch",
    "sub",
    "subn",
    "split",
    "findall",
    "finditer",
}
_LIBRARIES = (
    "jsonschema",
    "referencing",
    "requests",
    "httpx",
    "urllib3",
    "aiohttp",
    "regex",
    "re2",
)
_MODULES = ("socket", "urllib.request", "http.client", "ftplib", "smtplib")


def _walk_code_base() -> set[tuple[str, str, str]]:
    found = set()
    for top in SOURCES:
        for path in sorted((ROOT / top).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            rel = str(path.relative_to(ROOT))
            source = path.read_text()
            for lookup in ("__regex", "__iregex", "urlopen("):
                if lookup in source:
                    found.add(("text", rel, lookup))
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
                    names += (
                        [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
                    )
                    for name in names:
                        if name.split(".")[0] in _LIBRARIES or name in _MODULES:
                            found.add(("import", rel, name))
                elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                    func, first = node.func, (node.args[0] if node.args else None)
                    if isinstance(func.value, ast.Name) and func.value.id == "re":
                        if func.attr in _RE_CALLS and not isinstance(first, ast.Constant):
                            found.add(("regex", rel, ast.unparse(first)))
                    elif func.attr == "match_substring_regex" and len(node.args) > 1:
                        found.add(("re2", rel, ast.unparse(node.args[1])))
    return found


HOSTILE_SCHEMAS = [
    {"$ref": "{peer}/remote.json"},
    {"$ref": "{file}"},
    {"properties": {"a": {"$ref": "{peer}/nested.json"}}},
    {"$dynamicRef": "{peer}/meta"},
    {"$id": "{peer}/base/", "$ref": "relative.json"},
    {"$defs": {"a": {"$id": "{peer}/embedded"}}, "$ref": "#/$defs/a"},
    {"$schema": "{peer}/dialect"},
    {"$ref": "#"},
    {"type": "string", "pattern": "(?<=a)b"},
    {"type": "string", "pattern": "(.{500})+x"},
]
REDOS = "^(a+)+$"
HOSTILE_TEXT = "a" * 27 + "!"


@pytest.fixture
def no_network(monkeypatch, tmp_path):
    """Records (and refuses) every connection and every urlopen; a file the schema may name."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network refused in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    secret = tmp_path / "secret.json"
    secret.write_text('{"const": "READ-FROM-DISK"}')
    return attempts, secret.as_uri()


def _fill(schema, peer: str, file: str):
    text = json.dumps(schema).replace("{peer}", peer).replace("{file}", file)
    return json.loads(text)


def test_it_walks_every_place_a_user_schema_regex_or_url_is_accepted(
    api_for, owner, team, dataset, make_example, no_network
):
    # 1. The code base: nothing new applies patterns, schemas or the network unreviewed.
    assert _walk_code_base() == set(REVIEWED)

    attempts, file_uri = no_network
    alice = api_for(owner)
    answer = json.dumps({"label": HOSTILE_TEXT, HOSTILE_TEXT: 1})
    example = make_example(
        dataset,
        owner,
        [{"role": "user", "content": HOSTILE_TEXT}, {"role": "assistant", "content": answer}],
    )
    for raw in HOSTILE_SCHEMAS:
        schema = _fill(raw, "http://127.0.0.1:9", file_uri)
        # 2. Settings, on create and on update: 400 naming the path inside the schema.
        created = alice.post(
            "/api/v1/datasets/",
            {"team": team.pk, "name": "hostile", "settings": {"assistant_json_schema": schema}},
            format="json",
        )
        patched = alice.patch(
            f"/api/v1/datasets/{dataset.pk}/",
            {"settings": {"assistant_json_schema": schema}},
            format="json",
        )
        for response in (created, patched):
            assert response.status_code == 400, schema
            paths = [e["path"] for e in response.json()["errors"]]
            assert paths and all(p.startswith("settings.assistant_json_schema") for p in paths)
        # 3. The same schema stored before these rules: every check path skips it, fetches nothing.
        Dataset.objects.filter(pk=dataset.pk).update(settings={"assistant_json_schema": schema})
        dataset.refresh_from_db()
        example_checks_refresh(dataset=dataset, example_ids=[example.pk])
        report, _ = dataset_report_compute(dataset)
        messages = [r.message for r in CheckResult.objects.filter(example=example)]
        messages += [f.message for f in report.example_findings.get(example.pk, [])]
        live = alice.get(f"/examples/{example.pk}/edit/")
        assert live.status_code in (200, 302)
        assert any(m.startswith("schema check skipped") for m in messages), schema
        assert not any("READ-FROM-DISK" in m for m in messages)
    assert attempts == []

    # 4. Backtracking patterns are matched by RE2: the setting is accepted, the check is quick.
    schema = {
        "type": "object",
        "properties": {"label": {"type": "string", "pattern": REDOS}},
        "patternProperties": {REDOS: {}},
        "unevaluatedProperties": False,
    }
    response = alice.patch(
        f"/api/v1/datasets/{dataset.pk}/",
        {"settings": {"assistant_json_schema": schema}},
        format="json",
    )
    assert response.status_code == 200
    dataset.refresh_from_db()
    start = time.monotonic()
    example_checks_refresh(dataset=dataset, example_ids=[example.pk])
    dataset_report_compute(dataset)
    assert time.monotonic() - start < 5
    assert CheckResult.objects.filter(example=example, rule_id="invalid_json_answer").exists()

    # 5. List filters and search take words or exact values, never a pattern.
    for name in ("search", "tag", "rule", "source_format", "status", "split"):
        start = time.monotonic()
        response = alice.get(f"/api/v1/datasets/{dataset.pk}/examples/", {name: REDOS})
        assert response.status_code in (200, 400), name
        assert time.monotonic() - start < 2, name

    # 6. The canonical shape's own validator: bounded metadata pattern, nothing to fetch.
    start = time.monotonic()
    validate_content(
        {"messages": [{"role": "user", "content": "x"}], "metadata": {HOSTILE_TEXT * 100: 1}}
    )
    assert time.monotonic() - start < 1
    assert attempts == []


def test_it_refuses_a_remote_reference_on_save_naming_its_path(api_for, owner, dataset, no_network):
    attempts, _ = no_network
    schema = {"type": "object", "properties": {"a": {"$ref": "http://127.0.0.1:9/x.json"}}}
    response = api_for(owner).patch(
        f"/api/v1/datasets/{dataset.pk}/",
        {"settings": {"assistant_json_schema": schema}},
        format="json",
    )
    assert response.status_code == 400
    assert [e["path"] for e in response.json()["errors"]] == [
        "settings.assistant_json_schema.properties.a.$ref"
    ]
    dataset.refresh_from_db()
    assert dataset.settings.get("assistant_json_schema") is None
    assert attempts == []
