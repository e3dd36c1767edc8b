"""Every rule the check engine knows, with why it matters for fine-tuning and how to fix it.

Ids are stable snake_case: stored check results and API clients refer to them.
"""

from __future__ import annotations

from datasets_app.checks.catalog_dataset import DATASET_RULES
from datasets_app.checks.catalog_preference import PREFERENCE_RULES
from datasets_app.checks.registry import Finding, Rule, Severity

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO  # noqa: E741

UNKNOWN_RULE = "unknown rule id {rule_id!r}"

_RULES = [
    # --- structure: the OpenAI cookbook's format errors (never fire on stored, schema-valid rows)
    Rule(
        "example_not_object",
        E,
        "Example is not a JSON object",
        "Trainers read each line as an object with a messages list; anything else is rejected or skipped.",
        'Wrap the conversation as {"messages": [...]}.',
    ),
    Rule(
        "unrecognized_example_key",
        E,
        "Unrecognized top-level key",
        "Fine-tuning APIs reject rows with keys beyond messages, tools (and our metadata).",
        "Move extra fields into metadata or remove them.",
    ),
    Rule(
        "messages_missing",
        E,
        "Messages missing or empty",
        "Without a non-empty messages list there is nothing to train on.",
        "Add a messages list with at least a user and an assistant turn.",
    ),
    Rule(
        "message_not_object",
        E,
        "Message is not an object",
        "Each message must be an object with role and content.",
        'Replace the item with {"role": ..., "content": ...}.',
    ),
    Rule(
        "message_missing_key",
        E,
        "Message lacks role or content",
        "The chat format needs both keys on every message.",
        "Add the missing role or content key.",
    ),
    Rule(
        "message_unrecognized_key",
        E,
        "Unrecognized key in a message",
        "Only role, content, name, weight, tool_calls and tool_call_id are accepted; others make the upload fail.",
        "Remove the key or move its value into the example's metadata.",
    ),
    Rule(
        "unrecognized_role",
        E,
        "Unrecognized role",
        "Roles other than system, user, assistant and tool cannot be rendered by chat templates.",
        "Map the role to system, user, assistant or tool.",
    ),
    Rule(
        "missing_content",
        E,
        "Missing content",
        "A message without text content (and without tool calls) trains on nothing or is rejected.",
        "Write the content as a string, or give the assistant turn tool_calls.",
    ),
    Rule(
        "missing_assistant_message",
        E,
        "No assistant message",
        "Only assistant turns are trained; an example without one teaches nothing.",
        "Add the answer the model should give.",
    ),
    Rule(
        "invalid_weight",
        E,
        "Invalid weight",
        "weight must be the integer 0 or 1 and exists only on assistant turns.",
        "Set weight to 0 or 1 on assistant turns and remove it elsewhere.",
    ),
    Rule(
        "invalid_tool_call",
        E,
        "Malformed tool call or tool declaration",
        'Tool calls need an id, type "function" and a function with a name and string arguments; otherwise the row is rejected.',
        "Fix the tool call or tool declaration to the OpenAI shape.",
    ),
    # --- conversation
    Rule(
        "consecutive_same_role",
        W,
        "Same role twice in a row",
        'Many chat templates raise "roles must alternate"; others silently merge or mis-mask the turns.',
        "Merge the two turns or insert the missing turn between them.",
    ),
    Rule(
        "assistant_before_user",
        W,
        "Assistant speaks before any user",
        "The model learns to answer a question nobody asked; some templates reject it.",
        "Start the conversation with a user turn (after an optional system message).",
    ),
    Rule(
        "system_not_first",
        W,
        "System message not first",
        "Templates place the system prompt first; a later one is dropped or rendered as a user turn.",
        "Move the system message to the start or fold it into the user turn.",
    ),
    Rule(
        "not_ending_with_assistant",
        W,
        "Does not end on an assistant turn",
        "Trailing user or tool turns are not trained on; trainers such as LLaMA-Factory drop such examples.",
        "Add the final assistant answer or remove the trailing turns.",
    ),
    Rule(
        "tool_arguments_not_json",
        E,
        "Tool-call arguments are not a JSON object",
        "The model learns to emit arguments that no tool can parse.",
        "Write the arguments as a JSON object string.",
    ),
    Rule(
        "orphan_tool_message",
        E,
        "Tool result without a matching call",
        "A tool message must answer an earlier tool call by its tool_call_id; otherwise it is rejected.",
        "Set tool_call_id to the id of the earlier call, or remove the message.",
    ),
    Rule(
        "tool_not_declared",
        W,
        "Tool used but not declared",
        "The model learns to call a tool that is absent from the tools list it will be given.",
        "Add the tool to the example's tools.",
    ),
    Rule(
        "tool_never_used",
        I,
        "Tool declared but never used",
        "Fine when the example teaches not to call it; check it is intended.",
        "Remove unused tools if they are not meant to be there.",
    ),
    Rule(
        "weight_partially_set",
        I,
        "weight set on some assistant turns only",
        "Trainers that only train the last turn by default read explicit weights differently; make intent explicit.",
        "Apply the fix to set weight 1 on the assistant turns that lack it.",
        autofix="fill_weight_defaults",
    ),
    # --- content
    Rule(
        "empty_content",
        E,
        "Empty content",
        "Empty or whitespace-only turns teach the model to say nothing; the OpenAI validator rejects them.",
        "Write the text or remove the turn.",
    ),
    Rule(
        "empty_system_message",
        W,
        "Empty system message",
        "An empty system prompt adds template tokens and no information.",
        "Write a system prompt or drop the message (safe fix).",
        autofix="drop_empty_system_message",
    ),
    Rule(
        "surrounding_whitespace",
        W,
        "Leading or trailing whitespace",
        "The model learns to emit the stray spaces and newlines; answers end inconsistently.",
        "Trim the text (safe fix).",
        autofix="trim_whitespace",
    ),
    Rule(
        "control_characters",
        W,
        "Control characters",
        "Invisible control characters corrupt rendering and tokenize into junk tokens.",
        "Remove them (safe fix).",
        autofix="remove_control_characters",
    ),
    Rule(
        "invalid_unicode",
        W,
        "Invalid or invisible Unicode",
        "Replacement characters (U+FFFD), unpaired surrogates, zero-width and bidi control characters are encoding damage or hidden text.",
        "Remove invisible characters (safe fix); retype text around U+FFFD.",
        autofix="remove_invalid_characters",
    ),
    Rule(
        "unicode_not_normalized",
        I,
        "Unicode not in NFC form",
        "The same text in different normal forms tokenizes differently and hides duplicates.",
        "Normalize to NFC (safe fix).",
        autofix="normalize_unicode",
    ),
    Rule(
        "unfilled_placeholder",
        W,
        "Unfilled template placeholder",
        "Placeholders like {{name}} or [INSERT ...] are learned literally and reproduced at inference.",
        "Fill in the placeholder or remove the example.",
    ),
    Rule(
        "placeholder_answer",
        W,
        "Placeholder answer",
        "An answer like N/A or <nooutput> teaches the model to give up.",
        "Write a real answer or drop the example.",
    ),
    Rule(
        "mostly_uppercase",
        W,
        "Mostly upper-case text",
        "Shouting text (more than a third of letters upper-case) shifts the model's style.",
        "Rewrite in normal case.",
    ),
    Rule(
        "contains_url",
        I,
        "Contains a URL",
        "Models learn to produce URLs, often invented ones.",
        "Check the links are real and needed.",
    ),
    Rule(
        "contains_email",
        W,
        "Contains an email address",
        "Personal data in training data can be memorized and leaked.",
        "Remove or anonymize the address.",
    ),
    Rule(
        "contains_phone",
        W,
        "Contains a phone number",
        "Personal data in training data can be memorized and leaked.",
        "Remove or anonymize the number.",
    ),
    Rule(
        "contains_secret",
        E,
        "Contains an API key or secret",
        "A value in a credential format a provider issues (AWS, GitHub, Slack, Stripe, Google, "
        "OpenAI, Anthropic, Azure, Twilio, SendGrid, Hugging Face keys, JWTs, PEM private keys, "
        "database URLs with a password): models memorize and leak it; the key must be revoked.",
        "Remove the secret and rotate the credential.",
    ),
    Rule(
        "possible_secret",
        W,
        "Possible secret: a random-looking value assigned to a secret name",
        "A literal that reads as generated (high Shannon entropy, mixed characters, no words) is "
        "assigned to a name like password or API_KEY; if it is a real credential, models "
        "memorize and leak it. Names alone, placeholders and environment lookups are not flagged.",
        "Replace the value with a placeholder such as <API_KEY> or an environment lookup; rotate "
        "it if it was real.",
    ),
    Rule(
        "invalid_json_answer",
        E,
        "Answer is not valid JSON for the schema",
        "The dataset declares a JSON Schema for answers; a bad answer teaches malformed output.",
        "Fix the answer so it parses and validates.",
    ),
    Rule(
        "json_schema_check_skipped",
        W,
        "Answer not checked against the schema",
        "The dataset's JSON Schema could not be applied to this answer within the limits (time "
        "budget, answer size), or the stored schema is refused; an unchecked answer may teach "
        "malformed output.",
        "Simplify the schema or save it again (the message says what to change), or shorten the answer.",
    ),
    # --- length
    Rule(
        "over_context_length",
        W,
        "Over the target context length",
        "Examples longer than the context are truncated or dropped in training.",
        "Shorten or split the conversation, or raise the target context length.",
    ),
    Rule(
        "looks_truncated",
        W,
        "Answer looks cut off",
        "A final answer that stops mid-word or mid-sentence, inside a code block or with a "
        "bracket or quotation left open was usually cut at a token limit; the model learns to "
        "stop mid-thought.",
        "Complete the answer (or regenerate it with a higher token limit), or drop the example.",
    ),
    Rule(
        "short_answer",
        I,
        "Extremely short answer",
        "Very short answers are often truncated or low-effort labels.",
        "Check the answer is complete.",
    ),
    *PREFERENCE_RULES,
    *DATASET_RULES,
]

RULES: dict[str, Rule] = {rule.id: rule for rule in _RULES}


def get_rule(rule_id: str) -> Rule:
    try:
        return RULES[rule_id]
    except KeyError:
        raise KeyError(UNKNOWN_RULE.format(rule_id=rule_id)) from None


def finding(rule_id: str, message: str, path: str | None = None, **kwargs) -> Finding:
    """A Finding with the rule's severity (so severities live in one place)."""
    return Finding(rule_id, RULES[rule_id].severity, message, path, **kwargs)
