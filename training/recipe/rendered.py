"""One example as the model sees it in training: the rendered text and its trained spans.

The export format ``rendered`` (datasets_app.formats) writes one of these per example, computed
by :func:`training.recipe.data.trained_spans`, the function the label mask is built from, so the
spans are exactly the characters whose tokens carry labels.

Worked example (SmolLM2's template)::

    {"text": "<|im_start|>system\\nS<|im_end|>\\n<|im_start|>user\\nHi<|im_end|>\\n"
             "<|im_start|>assistant\\nHello<|im_end|>\\n",
     "trained_spans": [[83, 98]]}   # "Hello<|im_end|>": the answer and its end-of-turn token
"""

from __future__ import annotations

from typing import Any

from .data import trained_spans


def rendered_record(record: dict[str, Any], tokenizer) -> dict[str, Any]:
    """``{"text", "trained_spans"}`` for one canonical record; raises
    :class:`~training.recipe.data.TemplateError` when the template cannot render it."""
    text, spans = trained_spans(record, tokenizer)
    return {"text": text, "trained_spans": [[start, end] for start, end in spans]}
