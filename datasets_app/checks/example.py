"""Per-example checking: every example-scope rule over one raw or canonical example."""

from __future__ import annotations

import orjson

from datasets_app.checks.answer_schema import (
    ANSWER_TOO_LARGE,
    MAX_ANSWER_CHARS,
    SchemaBudget,
    SchemaCheckSkipped,
    user_schema,
)
from datasets_app.checks.catalog import finding
from datasets_app.checks.content import check_answer, check_final_answer, check_texts
from datasets_app.checks.conversation import check_conversation
from datasets_app.checks.preference import check_preference
from datasets_app.checks.registry import Finding
from datasets_app.checks.settings import DEFAULT_SETTINGS, CheckSettings
from datasets_app.checks.structure import check_structure
from datasets_app.tokens.counting import ExampleTokens, count_example_tokens


def check_example(
    content,
    settings: CheckSettings = DEFAULT_SETTINGS,
    *,
    tokens: ExampleTokens | None = None,
    encoding=None,
    schema_budget: SchemaBudget | None = None,
) -> list[Finding]:
    """All example-scope findings for ``content`` (arbitrary JSON), in message order.

    A preference pair (``metadata.rejected``) also gets the pair rules; the one comparing the
    sides cut at the target length runs only with an ``encoding``.
    The length rule needs token counts: pass ``tokens`` already computed (the report does, so
    each example is tokenized once), or an ``encoding`` to count here; with neither it is skipped.
    A scan passes one ``schema_budget`` for all its examples (the schema check's time in all).
    """
    out: list = []
    messages = check_structure(content, out)
    if messages is not None:
        check_conversation(messages, content.get("tools"), out)
        final = None
        texts = []
        for i, message in messages:
            text = message.get("content")
            if not isinstance(text, str):
                continue
            role = message.get("role")
            if role == "assistant" and message.get("tool_calls") and not text.strip():
                continue  # a tool-calling turn may leave content empty
            path = f"messages[{i}].content"
            texts.append((path, role, text))
            if role == "assistant":
                check_answer(text, path, settings, out)
                final = (path, text)
        check_texts(texts, settings, out)
        if final is not None:
            check_final_answer(final[1], final[0], out)
        if settings.assistant_json_schema is not None and final is not None:
            _check_json_answer(*final, settings.assistant_json_schema, out, schema_budget)
        if tokens is None and encoding is not None:
            tokens = count_example_tokens((m for _, m in messages), encoding)
        if tokens is not None and tokens.total_tokens > settings.target_context_tokens:
            out.append(
                finding(
                    "over_context_length",
                    f"{tokens.total_tokens} tokens, over the target of {settings.target_context_tokens}.",
                    details={
                        "tokens": tokens.total_tokens,
                        "limit": settings.target_context_tokens,
                    },
                )
            )
        out += check_preference(content, settings.target_context_tokens, encoding)
    if settings.disabled_rules:
        out = [f for f in out if f.rule_id not in settings.disabled_rules]
    return out


def _check_json_answer(path: str, text: str, schema, out: list, budget) -> None:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        out.append(finding("invalid_json_answer", f"The final answer is not JSON: {exc}.", path))
        return
    try:
        if len(text) > MAX_ANSWER_CHARS:
            raise SchemaCheckSkipped(ANSWER_TOO_LARGE)
        error = user_schema(schema).first_error(value, budget)
    except SchemaCheckSkipped as exc:
        out.append(finding("json_schema_check_skipped", str(exc), path))
        return
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "(root)"
        out.append(
            finding(
                "invalid_json_answer",
                f"The final answer does not match the schema at {where}: {error.message[:200]}",
                path,
            )
        )
