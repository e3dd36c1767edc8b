"""Dataset models, one module per area; import them from here."""

from .examples import (
    DEFAULT_DATASET_SETTINGS,
    Dataset,
    Example,
    ExampleRevision,
    ExampleStatus,
    Split,
    Tag,
)

__all__ = [
    "DEFAULT_DATASET_SETTINGS",
    "Dataset",
    "Example",
    "ExampleRevision",
    "ExampleStatus",
    "Split",
    "Tag",
]
