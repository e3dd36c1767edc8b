"""A suite's items: its version's entries of its split, as (entry, prompt, reference).

Read through the export pipeline's version row source (the entries' frozen revisions), the
same reader training uses, so a suite evaluates exactly the content its version hash names.
"""

from __future__ import annotations

from dataclasses import dataclass

from datasets_app.models import DatasetVersion, VersionEntry
from datasets_app.services.export import version_rows

from ..evaluators import Item
from ..models import EvalSplit


@dataclass(frozen=True)
class SuiteItem:
    entry_id: int
    example_id: int
    messages: list  # the conversation before the answer: what the model is asked
    reference: str | None
    tools: list | None

    def evaluator_item(self, output: str) -> Item:
        return Item(prompt_text(self.messages), self.reference, output)


def split_prompt(messages: list[dict]) -> tuple[list[dict], str | None]:
    """The conversation up to its last assistant turn, and that turn's text (the reference);
    a conversation without one is all prompt, with no reference."""
    last = max((i for i, m in enumerate(messages) if m.get("role") == "assistant"), default=None)
    if last is None:
        return list(messages), None
    content = messages[last].get("content")
    return list(messages[:last]), content if isinstance(content, str) else None


def prompt_text(messages: list[dict]) -> str:
    """The prompt as evaluators and judges read it: a single user turn as is, else each turn
    on its own line prefixed by its role."""
    if len(messages) == 1 and messages[0].get("role") == "user":
        return str(messages[0].get("content") or "")
    return "\n".join(f"{m.get('role')}: {m.get('content') or ''}" for m in messages)


def version_split_count(version: DatasetVersion, split: str) -> int:
    entries = VersionEntry.objects.filter(version=version)
    if split != EvalSplit.ALL:
        entries = entries.filter(split=split)
    return entries.count()


def suite_items(suite, *, limit: int | None = None) -> list[SuiteItem]:
    """The suite's items in their fixed order (by example id); only those with a prompt."""
    split = None if suite.split == EvalSplit.ALL else suite.split
    entry_ids = dict(
        VersionEntry.objects.filter(version_id=suite.version_id).values_list("example_id", "id")
    )
    items = []
    for row in version_rows(suite.version, split=split, limit=limit):
        prompt, reference = split_prompt(row.content["messages"])
        if not prompt:
            continue
        items.append(
            SuiteItem(
                entry_id=entry_ids[row.id],
                example_id=row.id,
                messages=prompt,
                reference=reference,
                tools=row.content.get("tools") or None,
            )
        )
    return items
