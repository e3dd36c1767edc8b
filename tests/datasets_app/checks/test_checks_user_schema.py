"""The dataset's answer schema (a user's JSON Schema): refused when it could reach outside
itself or work without bound, applied with RE2 and a time budget (SECURITY: SSRF, ReDoS)."""

import http.server
import json
import threading
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema._utils import uniq

from datasets_app.checks import CheckSettings, check_example
from datasets_app.checks.answer_schema import (
    OVER_SCAN_BUDGET,
    SchemaBudget,
    SchemaCheckSkipped,
    user_schema,
)
from datasets_app.checks.schema_keywords import _equality_key
from datasets_app.checks.user_regex import pattern_cost, re2_error
from datasets_app.checks.user_schema import (
    MAX_SCHEMA_BYTES,
    MAX_SCHEMA_DEPTH,
    MAX_SCHEMA_OBJECTS,
    schema_problems,
)


def _findings(schema, answer):
    content = {
        "messages": [
            {"role": "user", "content": "Classify."},
            {"role": "assistant", "content": answer},
        ]
    }
    found = check_example(content, CheckSettings(assistant_json_schema=schema))
    return [f for f in found if f.rule_id in ("invalid_json_answer", "json_schema_check_skipped")]


@pytest.fixture
def peer():
    """A local HTTP server that records every request and answers with a marked schema."""
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            body = b'{"const": "FETCHED-FROM-PEER"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()


def test_it_never_fetches_a_stored_remote_reference(peer):
    base, hits = peer
    found = _findings({"$ref": f"{base}/x.json"}, '"anything"')
    assert hits == []
    assert [f.rule_id for f in found] == ["json_schema_check_skipped"]
    assert "FETCHED-FROM-PEER" not in found[0].message


def test_it_never_opens_a_stored_file_reference(tmp_path):
    secret = tmp_path / "secret.json"
    secret.write_text('{"const": "READ-FROM-DISK"}')
    found = _findings({"properties": {"a": {"$ref": secret.as_uri()}}}, '{"a": 1}')
    assert [f.rule_id for f in found] == ["json_schema_check_skipped"]
    assert "READ-FROM-DISK" not in found[0].message


@pytest.mark.parametrize(
    ("schema", "path"),
    [
        ({"$ref": "http://127.0.0.1:9/x.json"}, "$ref"),
        ({"$ref": "file:///etc/passwd"}, "$ref"),
        ({"$dynamicRef": "https://example.com/meta"}, "$dynamicRef"),
        ({"properties": {"a": {"items": {"$ref": "//127.0.0.1/y"}}}}, "properties.a.items.$ref"),
        ({"properties": {"enum": {"$ref": "other.json"}}}, "properties.enum.$ref"),
        ({"$id": "http://127.0.0.1:9/", "$ref": "x.json"}, "$ref"),
        ({"$defs": {"a": {"$id": "http://127.0.0.1:9/a"}}}, "$defs.a.$id"),
        ({"anyOf": [{"$schema": "http://json-schema.org/draft-07/schema#"}]}, "anyOf[0].$schema"),
        ({"$schema": "http://127.0.0.1:9/meta"}, "$schema"),
        ({"$ref": "#/$defs/missing"}, "$ref"),
        ({"enum": [{"type": "string"}], "$ref": "#/enum/0"}, "$ref"),
        ({"$ref": "#"}, "$ref"),
        ({"$defs": {"a": {"allOf": [{"$ref": "#/$defs/b"}]}, "b": {"$ref": "#/$defs/a"}}}, None),
        ({"type": "string", "pattern": "(?<=a)b"}, "pattern"),
        ({"patternProperties": {"(\\w)\\1": {}}}, "patternProperties.(\\w)\\1"),
        ({"type": "string", "pattern": "(.{100}){10}"}, "pattern"),
        ({"maximum": 2**70}, "maximum"),
        ({"type": "strin"}, "type"),
    ],
)
def test_it_refuses_schemas_that_reach_outside_or_cannot_be_bounded(schema, path):
    problems = schema_problems(schema)
    assert problems, schema
    if path is not None:
        assert problems[0]["path"] == path


def test_it_refuses_schemas_over_the_size_depth_and_object_caps():
    deep = inner = {}
    for _ in range(MAX_SCHEMA_DEPTH + 1):
        inner["not"] = {}
        inner = inner["not"]
    wide = {"anyOf": [{} for _ in range(MAX_SCHEMA_OBJECTS)]}
    long = {"description": "x" * MAX_SCHEMA_BYTES}
    assert "deeper" in schema_problems(deep)[0]["message"]
    assert "objects" in schema_problems(wide)[0]["message"]
    assert "KiB" in schema_problems(long)[0]["message"]


def test_it_refuses_references_that_multiply_the_work_on_one_value():
    schema = {"$defs": {"l20": {"type": "string"}}, "$ref": "#/$defs/l0"}
    for i in range(20):
        ref = f"#/$defs/l{i + 1}"
        schema["$defs"][f"l{i}"] = {"allOf": [{"$ref": ref}, {"$ref": ref}]}
    assert "more than" in schema_problems(schema)[0]["message"]


def test_it_answers_a_recursive_reference_with_a_finding_instead_of_a_crash():
    found = _findings({"$ref": "#"}, "{}")
    assert [f.rule_id for f in found] == ["json_schema_check_skipped"]


def test_it_matches_a_backtracking_pattern_in_linear_time():
    schema = {"type": "string", "pattern": "^(a+)+$"}
    start = time.monotonic()
    found = _findings(schema, json.dumps("a" * 27 + "!"))
    assert time.monotonic() - start < 2
    assert [f.rule_id for f in found] == ["invalid_json_answer"]


def test_it_matches_property_patterns_in_linear_time_everywhere_they_apply():
    hostile = {"a" * 27 + "!": 1}
    for schema, expected in (
        ({"patternProperties": {"^(a+)+$": {"type": "string"}}}, []),
        (
            {"patternProperties": {"^(a+)+$": {}}, "additionalProperties": False},
            ["invalid_json_answer"],
        ),
        (
            {"patternProperties": {"^(a+)+$": {}}, "unevaluatedProperties": False},
            ["invalid_json_answer"],
        ),
        ({"propertyNames": {"pattern": "^(a+)+$"}}, ["invalid_json_answer"]),
    ):
        start = time.monotonic()
        found = _findings(schema, json.dumps(hostile))
        assert time.monotonic() - start < 2, schema
        assert [f.rule_id for f in found] == expected, schema


def test_it_stops_a_schema_that_multiplies_through_the_answer_at_the_time_budget():
    branch = {"properties": {"a": {"$ref": "#/$defs/n"}}}
    schema = {
        "$defs": {"n": {"anyOf": [{**branch, "required": ["x"]}, {**branch, "required": ["y"]}]}},
        "$ref": "#/$defs/n",
    }
    assert schema_problems(schema) == []
    value = inner = {}
    for _ in range(40):
        inner["a"] = {}
        inner = inner["a"]
    start = time.monotonic()
    found = _findings(schema, json.dumps(value))
    assert time.monotonic() - start < 2
    assert [f.message for f in found] == ["schema check skipped: over the time budget (50 ms)"]


def test_it_shares_one_budget_across_a_scan():
    spent = SchemaBudget(seconds=-1.0)
    with pytest.raises(SchemaCheckSkipped, match=OVER_SCAN_BUDGET):
        user_schema({"type": "object"}).first_error({}, spent)


def test_it_skips_answers_over_the_size_cap():
    found = _findings({"type": "array"}, json.dumps(["x" * 1000] * 100))
    assert [f.rule_id for f in found] == ["json_schema_check_skipped"]


@pytest.mark.parametrize(
    ("schema", "good", "bad"),
    [
        (
            {
                "$id": "https://example.com/label.schema.json",
                "$schema": "http://json-schema.org/draft-07/schema#",
                "type": "object",
                "required": ["label"],
                "properties": {"label": {"$ref": "#/$defs/label"}},
                "$defs": {"label": {"enum": ["pos", "neg"]}},
            },
            {"label": "pos"},
            {"label": "meh"},
        ),
        (
            {
                "$defs": {
                    "tree": {
                        "type": "object",
                        "properties": {"kids": {"items": {"$ref": "#/$defs/tree"}}},
                    }
                },
                "$ref": "#/$defs/tree",
            },
            {"kids": [{"kids": []}]},
            {"kids": [1]},
        ),
        (
            {"type": "string", "pattern": "^\\d{4}-\\d{2}-\\d{2}$"},
            "2026-12-03",
            "2026-12-03\n",  # Python's $ would match before the newline; ECMA's and RE2's do not
        ),
        (
            {"patternProperties": {"^x_": {"type": "integer"}}, "additionalProperties": False},
            {"x_a": 1},
            {"y": 1},
        ),
        ({"type": "array", "uniqueItems": True}, [1, True, {"a": 1}], [{"a": 1}, {"a": 1.0}]),
        ({"$anchor": "top", "anyOf": [{"type": "null"}, {"$ref": "#top/none"}]}, None, None),
    ],
)
def test_it_keeps_checking_ordinary_schemas(schema, good, bad):
    if good is None:  # an anchor-with-pointer reference does not resolve: refused, not a crash
        assert schema_problems(schema)
        return
    assert schema_problems(schema) == []
    assert _findings(schema, json.dumps(good)) == []
    assert [f.rule_id for f in _findings(schema, json.dumps(bad))] == ["invalid_json_answer"]


def test_it_estimates_counted_repetitions_and_accepts_everyday_patterns():
    assert pattern_cost("(.{100}){10}") > 256
    assert pattern_cost("(\\p{L}){40}") > 256
    for everyday in (
        "^[A-Za-z0-9_]{1,64}$",
        "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
        "^(?P<year>\\d{4})-(?i:q[1-4])$",
        "^[^@\\s]+@[^@\\s]+\\.[a-z]{2,24}$",
    ):
        assert re2_error(everyday) is None, everyday


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.sampled_from([0.0, 1.0, 2.5])
    | st.text(max_size=2),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner, max_size=3)
    ),
    max_leaves=8,
)


@given(st.lists(json_values, max_size=6))
def test_it_judges_unique_items_as_jsonschema_does(items):
    """The linear uniqueItems (one hash per item) agrees with jsonschema's pairwise one."""
    assert (len({_equality_key(i) for i in items}) == len(items)) == uniq(items)
