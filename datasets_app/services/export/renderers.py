"""Who renders the ``rendered`` export format: a base model's chat template and its trained spans
belong to the training recipe, and datasets_app never imports training (tests/test_layers.py).
The training app registers its renderer factory here when Django starts (``TrainingConfig.ready``)."""

from __future__ import annotations

from collections.abc import Callable

from finetunedb.exceptions import ApplicationError

NO_RENDERER = "The rendered format is not available: the training app is not installed."

_factory: Callable | None = None


def renderer_register(factory: Callable) -> None:
    """``factory(base_model=...)`` returns ``content -> {"text", "trained_spans"}``."""
    global _factory
    _factory = factory


def renderer_for(*, base_model: str | None):
    if _factory is None:
        raise ApplicationError(NO_RENDERER, code="format_unavailable")
    return _factory(base_model=base_model)
