"""The dataset-scope rules of the catalog (see :mod:`datasets_app.checks.catalog`)."""

from __future__ import annotations

from datasets_app.checks.registry import Rule, Scope, Severity

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO  # noqa: E741
D = Scope.DATASET

DATASET_RULES = [
    # --- dataset
    Rule(
        "too_few_examples",
        E,
        "Fewer than 10 examples",
        "OpenAI requires at least 10 examples; fewer cannot teach a pattern.",
        "Add examples.",
        D,
    ),
    Rule(
        "few_examples",
        W,
        "Fewer than 100 examples",
        "Providers recommend starting with 50 to 100 or more examples.",
        "Add examples.",
        D,
    ),
    Rule(
        "exact_duplicates",
        W,
        "Exact duplicates",
        "Duplicates over-weight some examples and leak between splits.",
        "Run deduplication and keep one of each group.",
        D,
    ),
    Rule(
        "conflicting_answers",
        W,
        "Identical prompts with different answers",
        "Conflicting labels teach the model both answers, i.e. noise.",
        "Keep one answer per prompt or make the prompts differ.",
        D,
    ),
    Rule(
        "all_prompts_identical",
        E,
        "All prompts identical",
        "The model cannot learn a mapping when every prompt is the same.",
        "Check the import mapping: prompts may have been taken from the wrong field.",
        D,
    ),
    Rule(
        "all_answers_identical",
        E,
        "All answers identical",
        "The model learns to ignore the prompt.",
        "Check the import mapping: answers may have been taken from the wrong field.",
        D,
    ),
    Rule(
        "system_prompt_variants",
        I,
        "Several system prompts",
        "Mixing system prompts splits the data between behaviours; it should be deliberate.",
        "Use one system prompt unless variants are intended.",
        D,
    ),
    Rule(
        "near_identical_system_prompts",
        W,
        "Near-identical system prompt variants",
        "Almost-equal system prompts are usually typos or drift; the model sees them as different instructions.",
        "Unify the variants on the most common one.",
        D,
    ),
    Rule(
        "repeated_prompt_prefix",
        W,
        "Long prompt prefix repeated in (almost) every example",
        "An instruction repeated in every example costs tokens and is learned as required input; a system prompt says it once.",
        "Move the shared instruction into the system prompt.",
        D,
    ),
    Rule(
        "answer_ending_drift",
        W,
        "Answers end inconsistently",
        "Some answers end with a full stop and some not; the model learns a random style.",
        "Make the minority end like the majority.",
        D,
    ),
    Rule(
        "answer_markdown_drift",
        W,
        "Markdown in some answers only",
        "Mixing markdown and plain text answers makes the output format unpredictable.",
        "Make the minority match the majority's format.",
        D,
    ),
    Rule(
        "answer_json_drift",
        W,
        "JSON in some answers only",
        "Mixing JSON and prose answers makes the output format unpredictable.",
        "Make the minority match the majority's format.",
        D,
    ),
    Rule(
        "answer_trailing_newline_drift",
        W,
        "Trailing newline in some answers only",
        "The model learns to end answers inconsistently.",
        "Trim the answers (safe fix: trim_whitespace).",
        D,
    ),
    Rule(
        "mixed_source_formats",
        I,
        "Mixed source formats",
        "Examples imported from different formats often differ in structure and style.",
        "Check the minority format's examples were mapped as intended.",
        D,
    ),
    Rule(
        "missing_system_message",
        W,
        "Some examples lack the system message",
        "When most examples have a system prompt, those without it train a different behaviour.",
        "Add the system prompt to these examples.",
        D,
    ),
    Rule(
        "missing_user_message",
        W,
        "Examples without a user message",
        "Without a prompt the model learns to speak unprompted.",
        "Add the user turn.",
        D,
    ),
]
