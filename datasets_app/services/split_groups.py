"""Groups other apps add to a split (a registry, so datasets_app imports none of them): the
semantic layer's topic clusters are one (``topics``), so that a split can hold whole topics
out. A source is ``source(dataset) -> [[example id, ...], ...]``; it raises ApplicationError
when it has nothing to offer (topics before any embedding: a 409 naming what to do)."""

from __future__ import annotations

from collections.abc import Callable

from finetunedb.exceptions import ApplicationError

from ..models import Dataset

Source = Callable[[Dataset], list[list[int]]]
_SOURCES: dict[str, Source] = {}
UNKNOWN = "No split grouping named {name!r} is installed."


def split_group_source_register(name: str, source: Source) -> None:
    """Called from an app's ``AppConfig.ready``."""
    _SOURCES[name] = source


def split_group_members(name: str, dataset: Dataset) -> list[list[int]]:
    source = _SOURCES.get(name)
    if source is None:
        raise ApplicationError(UNKNOWN.format(name=name), status_code=409)
    return source(dataset)
