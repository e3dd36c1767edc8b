import pytest

from datasets_app.checks import CheckSettings, check_example
from datasets_app.tokens import ExampleTokens


def check(answer, prompt="Tell me.", settings=None, **kwargs):
    content = {
        "messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}]
    }
    return check_example(content, settings or CheckSettings(), **kwargs)


def ids(answer, **kwargs):
    return {f.rule_id for f in check(answer, **kwargs)}


def test_it_finds_nothing_in_plain_good_text():
    assert ids("Paris is the capital of France.") == set()


@pytest.mark.parametrize(
    ("answer", "rule"),
    [
        ("   ", "empty_content"),
        (" Padded answer. ", "surrounding_whitespace"),
        ("Bell\x07 rings.", "control_characters"),
        ("Broken \ufffd text.", "invalid_unicode"),
        ("Hidden\u200bspace here.", "invalid_unicode"),
        ("Cafe\u0301 is open.", "unicode_not_normalized"),
        ("I am {{name}}, made by {{ author }}.", "unfilled_placeholder"),
        ("Dear {recipient_name}, thanks for writing.", "unfilled_placeholder"),
        ("Regards, [Your Name]", "unfilled_placeholder"),
        ("Input: <noinput>", "unfilled_placeholder"),
        ("Answer <NO INPUT> here.", "unfilled_placeholder"),
        ("N/A", "placeholder_answer"),
        ("<nooutput>", "placeholder_answer"),
        ("THIS IS A VERY LOUD ANSWER INDEED.", "mostly_uppercase"),
        ("See https://example.org/page for details.", "contains_url"),
        ("Write to jane.doe@example.com today.", "contains_email"),
        ("Call me on (415) 555-0134 tonight.", "contains_phone"),
        ("Call +44 20 7946 0958 now.", "contains_phone"),
        ('The number is "+44 20 7946 0958".', "contains_phone"),  # after a quote
        ("Phone:+1 415 555 0132", "contains_phone"),
        ("Fax 415-555.0132 please.", "contains_phone"),  # mixed separators
        ("42", "short_answer"),
    ],
)
def test_it_flags_content_problems(answer, rule):
    assert rule in ids(answer)


@pytest.mark.parametrize(
    "answer",
    [
        "def greet(name):\n    return f'Hello {name}'",  # code, not a template
        "The set {x} has one element = x.",
        "SELECT id FROM users WHERE name = 'A';",  # upper-case SQL is code
        'api_key = "YOUR_API_KEY_HERE"',  # a placeholder, not a secret
        "The year 2023 had 365 days and 12 months.",
        "Fetch https://api.example.com/v1/users/{id} with GET.",
    ],
)
def test_it_does_not_flag_look_alikes(answer):
    assert not ids(answer) & {
        "unfilled_placeholder",
        "mostly_uppercase",
        "contains_secret",
        "contains_phone",
    }


def test_it_never_echoes_a_secret():
    secret = "sk-" + "Zt8QpL2mX9vR4kW7bN1cA5sD0fG3hJ6kLq9wE2rT7yU4iO1p"  # 48 characters
    [found] = [f for f in check(f"key: {secret}") if f.rule_id == "contains_secret"]
    assert secret not in found.message and secret not in str(found.details)


def test_it_points_at_the_message_with_the_problem():
    [found] = [
        f
        for f in check("Fine answer.", prompt="Mail bob@example.com")
        if f.rule_id == "contains_email"
    ]
    assert found.path == "messages[0].content"


def test_it_validates_json_answers_against_the_dataset_schema():
    schema = {
        "type": "object",
        "required": ["label"],
        "properties": {"label": {"enum": ["pos", "neg"]}},
    }
    settings = CheckSettings(assistant_json_schema=schema)
    assert "invalid_json_answer" not in ids('{"label": "pos"}', settings=settings)
    assert "invalid_json_answer" in ids('{"label": "meh"}', settings=settings)
    assert "invalid_json_answer" in ids("positive", settings=settings)


def test_it_flags_examples_over_the_target_context():
    over = ExampleTokens(2, 5000, 10, False, True)
    under = ExampleTokens(2, 100, 10, False, True)
    assert "over_context_length" in ids("An answer.", tokens=over)
    assert "over_context_length" not in ids("An answer.", tokens=under)
    assert "over_context_length" in ids(
        "An answer.", tokens=under, settings=CheckSettings(target_context_tokens=50)
    )


def test_it_counts_tokens_itself_when_given_an_encoding(cl100k):
    settings = CheckSettings(target_context_tokens=10)
    assert "over_context_length" in ids("word " * 50, settings=settings, encoding=cl100k)


def test_it_skips_disabled_rules():
    assert ids("42", settings=CheckSettings(disabled_rules=frozenset({"short_answer"}))) == set()
