"""Token counts, statistics and cost with tiktoken, offline (see :mod:`.offline`)."""

from datasets_app.tokens.counting import ExampleTokens, count_example_tokens
from datasets_app.tokens.offline import (
    DEFAULT_ENCODING,
    ENCODINGS,
    install_encoding_files,
    load_encoding,
)
from datasets_app.tokens.stats import (
    Distribution,
    TokenStats,
    default_epochs,
    distribution,
    histogram,
    token_stats,
)

__all__ = [
    "DEFAULT_ENCODING",
    "ENCODINGS",
    "Distribution",
    "ExampleTokens",
    "TokenStats",
    "count_example_tokens",
    "default_epochs",
    "distribution",
    "histogram",
    "install_encoding_files",
    "load_encoding",
    "token_stats",
]
