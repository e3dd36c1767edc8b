"""The renderer the ``rendered`` export format writes with: a base model's training tokenizer.

Kept in the training app because the chat template and the label spans are the recipe's
(:mod:`training.recipe.rendered`); the export pipeline asks for it only for that format.
"""

from __future__ import annotations

from datasets_app.services.export import RenderRefused
from finetunedb.exceptions import ApplicationError

from ..recipe.data import ERR_NO_TEMPLATE, TemplateError
from ..recipe.rendered import rendered_record
from .preflight import MODEL_NOT_HERE, _resolve, _tokenizer
from .runs import training_config_build


def training_renderer(*, base_model: str | None = None):
    """``content -> {"text", "trained_spans"}`` for ``base_model`` (default: the bundled one);
    a 400 naming ``base_model`` when it is unknown, not on this server, or has no chat template."""
    config = training_config_build(base_model=base_model or None, method=None, hyperparameters={})
    path = _resolve(config.base_model)
    if path is None:
        message = MODEL_NOT_HERE.format(name=config.base_model)
        raise ApplicationError(message, errors=[{"path": "base_model", "message": message}])
    tokenizer = _tokenizer(path)
    if not tokenizer.chat_template:
        raise ApplicationError(
            ERR_NO_TEMPLATE, errors=[{"path": "base_model", "message": ERR_NO_TEMPLATE}]
        )

    def render(content: dict) -> dict:
        try:
            return rendered_record(content, tokenizer)
        except TemplateError as exc:
            raise RenderRefused(str(exc)) from exc

    return render
