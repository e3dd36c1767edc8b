"""Preference-pair rules: worked examples, the report path and properties over generated pairs."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from datasets_app.checks.catalog import RULES
from datasets_app.checks.example import check_example
from datasets_app.checks.preference import check_preference, check_preference_dataset, split_pair
from datasets_app.checks.report import build_report


def pair(chosen="Paris is the capital of France.", rejected="I don't know.", prompt=None):
    prompt = prompt or [{"role": "user", "content": "What is the capital of France?"}]
    rejected_turns = (
        rejected if isinstance(rejected, list) else [{"role": "assistant", "content": rejected}]
    )
    return {
        "messages": [*prompt, {"role": "assistant", "content": chosen}],
        "metadata": {"rejected": rejected_turns},
    }


def rules(content, limit=4096, encoding=None):
    return [f.rule_id for f in check_preference(content, limit, encoding)]


def test_it_registers_every_preference_rule_in_the_catalog():
    ids = {
        "preference_identical",
        "preference_identical_after_truncation",
        "preference_empty_side",
        "preference_prompts_differ",
        "preference_roles_not_alternating",
        "preference_shared_prefix",
        "preference_length_bias",
        "preference_duplicate_pairs",
    }
    assert ids <= set(RULES)


def test_it_passes_a_good_pair():
    assert rules(pair()) == []


def test_it_ignores_examples_without_a_rejected_side():
    assert rules({"messages": [{"role": "user", "content": "Hi"}]}) == []


def test_it_flags_identical_sides_whitespace_aside():
    assert rules(pair("Paris.", " Paris.\n")) == ["preference_identical"]


def test_it_flags_an_empty_side():
    assert rules(pair("Paris.", "  ")) == ["preference_empty_side"]
    found = check_preference(pair("", "Lyon."), 4096)
    assert [(f.rule_id, f.message) for f in found] == [
        ("preference_empty_side", "The chosen answer is empty.")
    ]


def test_it_flags_a_rejected_side_that_answers_another_prompt():
    rejected = [
        {"role": "user", "content": "What is the capital of Spain?"},
        {"role": "assistant", "content": "Madrid."},
    ]
    found = check_preference(pair("Paris.", rejected), 4096)
    assert [f.rule_id for f in found] == ["preference_prompts_differ"]
    assert found[0].path == "metadata.rejected[0]"


def test_it_accepts_a_rejected_side_repeating_the_same_prompt():
    rejected = [
        {"role": "user", "content": "What is the capital of France?"},
        {"role": "assistant", "content": "Lyon."},
    ]
    assert rules(pair("Paris.", rejected)) == []
    assert split_pair(pair("Paris.", rejected)).rejected == [
        {"role": "assistant", "content": "Lyon."}
    ]


def test_it_flags_roles_that_do_not_alternate():
    prompt = [{"role": "user", "content": "Hi"}, {"role": "user", "content": "Capital of France?"}]
    found = check_preference(pair(prompt=prompt), 4096)
    assert [f.rule_id for f in found] == ["preference_roles_not_alternating"]
    assert "two user turns in a row" in found[0].message
    late_system = [
        {"role": "user", "content": "Hi"},
        {"role": "system", "content": "Be brief."},
    ]
    assert rules(pair(prompt=late_system)) == ["preference_roles_not_alternating"]


def test_it_flags_multi_turn_sides_that_share_their_first_turns():
    chosen = [
        {"role": "assistant", "content": "Which country?"},
        {"role": "user", "content": "France"},
        {"role": "assistant", "content": "Paris."},
    ]
    rejected = [*chosen[:2], {"role": "assistant", "content": "Lyon."}]
    # the chosen side is the final run of assistant turns: here one turn, as stored
    content = {
        "messages": [{"role": "user", "content": "Capital?"}, chosen[0]],
        "metadata": {"rejected": rejected},
    }
    assert rules(content) == ["preference_shared_prefix"]
    found = check_preference(content, 4096)
    assert found[0].details == {"shared_turns": 1}


def test_it_flags_pairs_identical_once_cut_at_the_training_length(cl100k):
    long_prompt = [{"role": "user", "content": "word " * 300}]
    content = pair("The answer is yes, because of reasons.", "The answer is no.", long_prompt)
    assert rules(content, limit=4096, encoding=cl100k) == []
    found = check_preference(content, 200, cl100k)
    assert [f.rule_id for f in found] == ["preference_identical_after_truncation"]
    assert found[0].details["limit"] == 200
    assert found[0].details["prompt_tokens"] >= 300
    # "The answer is" is shared: a limit just past the prompt still cuts inside the shared start
    prompt_tokens = found[0].details["prompt_tokens"]
    assert rules(content, limit=prompt_tokens + 2, encoding=cl100k) == [
        "preference_identical_after_truncation"
    ]
    assert rules(content, limit=prompt_tokens + 10, encoding=cl100k) == []


def test_it_reports_length_bias_with_its_share():
    pairs = [(i, pair(f"A long and careful answer number {i}.", "Short.")) for i in range(9)]
    pairs.append((9, pair("Short.", "A long and careful answer that lost.")))
    found = check_preference_dataset(pairs)
    assert [f.rule_id for f in found] == ["preference_length_bias"]
    assert found[0].details == {"share_chosen_longer": 0.9, "pairs": 10}
    assert "90% of 10 pairs" in found[0].message
    balanced = pairs[:5] + [
        (i, pair("Short.", f"A much longer losing answer {i}.")) for i in range(5, 10)
    ]
    assert check_preference_dataset(balanced) == []


def test_it_groups_duplicate_pairs():
    found = check_preference_dataset([(1, pair()), (2, pair()), (3, pair("Paris!"))])
    assert [f.rule_id for f in found] == ["preference_duplicate_pairs"]
    assert found[0].details["members"] == [[1, 2]]


def test_it_reports_pair_findings_through_the_example_checks_and_the_report(cl100k):
    assert "preference_identical" in [f.rule_id for f in check_example(pair("Paris.", "Paris."))]
    examples = [(1, pair()), (2, pair("Paris.", "Paris."))]
    report = build_report(examples, encoding=cl100k)
    assert 1 not in report.example_findings or not any(
        f.rule_id.startswith("preference_") for f in report.example_findings[1]
    )
    assert "preference_identical" in [f.rule_id for f in report.example_findings[2]]


text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)


@settings(max_examples=150, deadline=None)
@given(chosen=text, rejected=text, prompt=text)
def test_it_flags_identical_exactly_when_the_stripped_answers_match(chosen, rejected, prompt):
    content = pair(chosen, rejected, [{"role": "user", "content": prompt or "q"}])
    found = rules(content)
    if not chosen.strip() or not rejected.strip():
        assert "preference_empty_side" in found
    elif chosen.strip() == rejected.strip():
        assert found == ["preference_identical"]
    else:
        assert found == []


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(text, text), min_size=0, max_size=30))
def test_it_reports_the_share_of_longer_chosen_answers(sides):
    items = [(i, pair(c or "x", r or "y")) for i, (c, r) in enumerate(sides)]
    found = {f.rule_id: f for f in check_preference_dataset(items)}
    longer = sum(len((c or "x").strip()) > len((r or "y").strip()) for c, r in sides)
    if len(sides) >= 10 and longer >= 0.8 * len(sides):
        assert found["preference_length_bias"].details["share_chosen_longer"] == longer / len(sides)
    else:
        assert "preference_length_bias" not in found


def test_it_reports_prompts_shared_across_splits():
    def asked(question, chosen="A fine answer."):
        return pair(chosen, "No.", [{"role": "user", "content": question}])

    long_question = "Please explain in a few sentences how the water cycle moves rain to the sea"
    items = [
        (1, asked(long_question)),
        (2, asked(long_question + " today", "Another fine answer.")),  # near copy
        (3, asked("What is the capital of France?")),
        (4, asked("What is the capital of France?", "Paris.")),  # exact copy, same split
        (5, asked("Name three primary colours.")),
    ]
    splits = {1: "train", 2: "test", 3: "train", 4: "train", 5: "validation"}
    found = {f.rule_id: f for f in check_preference_dataset(items, splits)}
    leak = found["preference_prompt_leakage"]
    assert leak.example_keys == (1, 2)
    assert leak.details["members"] == [[1, 2]]
    assert "1 pairs of preference examples in different splits" in leak.message
    # without splits, or with both in one split, nothing leaks
    assert "preference_prompt_leakage" not in {f.rule_id for f in check_preference_dataset(items)}
    same = {**splits, 2: "train"}
    assert "preference_prompt_leakage" not in {
        f.rule_id for f in check_preference_dataset(items, same)
    }
    # unassigned examples do not leak
    assert "preference_prompt_leakage" not in {
        f.rule_id for f in check_preference_dataset(items, {**splits, 2: "unassigned"})
    }


def test_it_puts_the_pair_rules_into_the_report_with_splits(cl100k):
    items = [(i, pair(f"A long and careful answer number {i}.", "Short.")) for i in range(10)]
    items.append((10, pair("A long and careful answer number 0.", "Short.")))
    report = build_report(items, encoding=cl100k, splits={0: "train", 10: "validation"})
    found = {f.rule_id: f for f in report.dataset_findings}
    assert found["preference_length_bias"].details == {"share_chosen_longer": 1.0, "pairs": 11}
    assert found["preference_duplicate_pairs"].details["members"] == [[0, 10]]
    assert found["preference_prompt_leakage"].example_keys == (0, 10)
    assert "preference_prompt_leakage" not in {
        f.rule_id for f in build_report(items, encoding=cl100k).dataset_findings
    }
