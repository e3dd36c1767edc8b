import pytest

from evaluation.evaluators import Item, evaluator_build


def score(spec, output):
    return evaluator_build(spec).score(Item("q", None, output))


@pytest.mark.parametrize(
    ("output", "passed", "error"),
    [
        ('{"a": 1}', True, None),
        ("  [1, 2]\n", True, None),
        ('Here you go:\n```json\n{"a": 1}\n```\nDone.', True, None),
        ('{"a": NaN}', False, "NaN is not JSON"),
        ('{"a": Infinity}', False, "Infinity is not JSON"),
        ('{"a": 1, "a": 2}', False, "duplicate key 'a'"),
        ("{'a': 1}", False, "not JSON"),
        ('{"a": 1} trailing', False, "not JSON"),
        ("[" * 5000 + "]" * 5000, False, None),
    ],
)
def test_it_accepts_only_strict_json(output, passed, error):
    result = score({"type": "json_valid"}, output)
    assert result.passed is passed
    if error:
        assert error in result.detail["error"]


def test_it_reads_fences_as_asked():
    fenced = '```json\n{"a": 1}\n```'
    assert not score({"type": "json_valid", "params": {"fence": "never"}}, fenced).passed
    assert not score({"type": "json_valid", "params": {"fence": "always"}}, '{"a": 1}').passed
    assert score({"type": "json_valid", "params": {"fence": "always"}}, fenced).passed


def test_it_can_require_an_object():
    assert not score({"type": "json_valid", "params": {"require_object": True}}, "[1]").passed


SCHEMA = {
    "type": "object",
    "properties": {"label": {"enum": ["pos", "neg"]}, "score": {"type": "number"}},
    "required": ["label"],
    "additionalProperties": False,
}


@pytest.mark.parametrize(
    ("output", "passed", "path"),
    [
        ('{"label": "pos", "score": 0.9}', True, None),
        ('{"label": "meh"}', False, ".label"),
        ('{"score": 1}', False, "(root)"),
        ('{"label": "pos", "extra": 1}', False, "(root)"),
        ("not json", False, None),
    ],
)
def test_it_validates_against_the_schema(output, passed, path):
    result = score({"type": "json_schema", "params": {"schema": SCHEMA}}, output)
    assert result.passed is passed
    if path:
        assert result.detail["path"] == path


def test_it_matches_schema_patterns_with_re2():
    schema = {"type": "string", "pattern": "^(a+)+$"}
    result = score({"type": "json_schema", "params": {"schema": schema}}, '"' + "a" * 3000 + '!"')
    assert result.passed is False
