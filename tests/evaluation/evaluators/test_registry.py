import pytest

from evaluation.evaluators import EvaluatorSpecError, evaluator_types, evaluators_build


def refused(specs) -> EvaluatorSpecError:
    with pytest.raises(EvaluatorSpecError) as caught:
        evaluators_build(specs)
    return caught.value


def test_it_registers_every_evaluator_the_design_names():
    assert set(evaluator_types()) == {
        "exact_match",
        "contains",
        "regex",
        "json_valid",
        "json_schema",
        "final_number",
        "rouge_l",
        "token_f1",
        "length_bounds",
        "refusal",
        "llm_judge",
    }


def test_it_fills_in_defaults():
    (built,) = evaluators_build([{"type": "exact_match"}])
    assert built.p == {
        "case": True,
        "whitespace": True,
        "punctuation": True,
        "strip": True,
        "name": "",
    }
    assert built.name == "exact_match"
    assert built.spec() == {"type": "exact_match", "params": built.p}


@pytest.mark.parametrize(
    ("specs", "path", "words"),
    [
        ({"type": "exact_match"}, "evaluators", "list"),
        ([], "evaluators", "at least one"),
        ([{"type": "bleu"}], "evaluators[0].type", "unknown evaluator type 'bleu'"),
        ([{"type": None}], "evaluators[0].type", "unknown evaluator type"),
        ([{"type": "exact_match", "weight": 2}], "evaluators[0]", "only 'type' and 'params'"),
        ([{"type": "exact_match", "params": []}], "evaluators[0].params", "JSON object"),
        (
            [{"type": "exact_match", "params": {"lower": True}}],
            "evaluators[0].params.lower",
            "unknown parameter",
        ),
        (
            [{"type": "exact_match", "params": {"case": "yes"}}],
            "evaluators[0].params.case",
            "true or false",
        ),
        (
            [{"type": "final_number", "params": {"tolerance": True}}],
            "evaluators[0].params.tolerance",
            "a number",
        ),
        (
            [{"type": "final_number", "params": {"tolerance": -1}}],
            "evaluators[0].params.tolerance",
            "at least 0",
        ),
        (
            [{"type": "length_bounds", "params": {"max": 1.5}}],
            "evaluators[0].params.max",
            "an integer",
        ),
        ([{"type": "length_bounds"}], "evaluators[0].params.min", "min, max or both"),
        (
            [{"type": "length_bounds", "params": {"min": 9, "max": 3}}],
            "evaluators[0].params.min",
            "greater than max",
        ),
        (
            [{"type": "length_bounds", "params": {"unit": "bytes", "max": 3}}],
            "evaluators[0].params.unit",
            "chars, words, tokens",
        ),
        ([{"type": "regex"}], "evaluators[0].params.pattern", "required"),
        (
            [{"type": "regex", "params": {"pattern": "(?<=a)b"}}],
            "evaluators[0].params.pattern",
            "RE2",
        ),
        (
            [{"type": "regex", "params": {"pattern": "(.{500})+x"}}],
            "evaluators[0].params.pattern",
            "repeats too much",
        ),
        (
            [{"type": "json_schema", "params": {"schema": {"$ref": "https://example.com/s.json"}}}],
            "evaluators[0].params.schema.$ref",
            "inside this schema",
        ),
        (
            [
                {
                    "type": "json_schema",
                    "params": {"schema": {"properties": {"a": {"$ref": "file:///etc/passwd"}}}},
                }
            ],
            "evaluators[0].params.schema.properties.a.$ref",
            "inside this schema",
        ),
        (
            [{"type": "json_schema", "params": {"schema": "{}"}}],
            "evaluators[0].params.schema",
            "JSON object",
        ),
        (
            [{"type": "refusal", "params": {"extra_phrases": ["ok", 3]}}],
            "evaluators[0].params.extra_phrases",
            "list of texts",
        ),
        ([{"type": "llm_judge"}], "evaluators[0].params.rubric", "required"),
        (
            [
                {
                    "type": "llm_judge",
                    "params": {"rubric": "Is it right?", "scale_min": 5, "scale_max": 5},
                }
            ],
            "evaluators[0].params.scale_min",
            "below scale_max",
        ),
        (
            [{"type": "llm_judge", "params": {"rubric": "x", "pass_score": 7}}],
            "evaluators[0].params.pass_score",
            "within the scale 1-5",
        ),
        (
            [{"type": "exact_match"}, {"type": "exact_match"}],
            "evaluators[1].params.name",
            "named 'exact_match'",
        ),
        (
            [{"type": "contains", "params": {"value": "x" * 4001}}],
            "evaluators[0].params.value",
            "at most 4000",
        ),
    ],
)
def test_it_refuses_a_bad_spec_naming_the_field(specs, path, words):
    error = refused(specs)
    assert error.path == path
    assert words in error.message


def test_it_accepts_two_evaluators_of_one_type_with_names():
    built = evaluators_build(
        [
            {"type": "exact_match"},
            {"type": "exact_match", "params": {"name": "exact_cased", "case": False}},
        ]
    )
    assert [e.name for e in built] == ["exact_match", "exact_cased"]


def test_it_caps_the_number_of_evaluators():
    assert (
        "at most 20"
        in refused([{"type": "json_valid", "params": {"name": f"j{i}"}} for i in range(21)]).message
    )
