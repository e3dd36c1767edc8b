"""Python client and CLI for FinetuneDB's API (DESIGN §6 and §8). Needs only ``requests``;
pandas, pyarrow, datasets, tqdm and openai are used when installed. See docs/client.md."""

__version__ = "0.1.0"

from .client import Client  # noqa: E402
from .errors import (  # noqa: E402
    AuthenticationError,
    Conflict,
    ConnectionFailed,
    FinetuneDBError,
    JobFailed,
    JobTimeout,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    PreconditionFailed,
    PreconditionRequired,
    RateLimited,
    ServerError,
    ServiceUnavailable,
    ValidationError,
)
from .exports import Export  # noqa: E402

__all__ = [
    "AuthenticationError",
    "Client",
    "Conflict",
    "ConnectionFailed",
    "Export",
    "FinetuneDBError",
    "JobFailed",
    "JobTimeout",
    "NotFound",
    "PayloadTooLarge",
    "PermissionDenied",
    "PreconditionFailed",
    "PreconditionRequired",
    "RateLimited",
    "ServerError",
    "ServiceUnavailable",
    "ValidationError",
]
