"""One domain error type for services, and the API's mapping of every error to a JSON body.

Error bodies always look like ``{"detail": str, "code": str, "errors": [{"path", "message"}]}``
so scripts can rely on one shape. No traceback or internal path ever reaches a response.
"""

from __future__ import annotations

import errno
import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, OperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)

# A locked (SQLite, after its busy timeout) or unreachable/timed-out (PostgreSQL lock_timeout,
# statement_timeout) database: the request is refused whole, and the client told when to retry.
DATABASE_BUSY = "The database is busy or unavailable; nothing was changed. Retry in a few seconds."
RETRY_AFTER_S = 5
DISK_FULL = "The server ran out of disk space; nothing was changed. Try again later or ask an admin to free space."
# Django's own body limits (DATA_UPLOAD_MAX_*): too many fields or files, a body too big to hold.
REQUEST_REFUSED = "The request body was refused: {reason}"
OUT_OF_RANGE = "A value in the request is out of range for the database; nothing was changed."


class ApplicationError(Exception):
    """A domain rule said no. Services raise it; the API maps ``status_code`` (400 by default)."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"

    def __init__(
        self, message: str, *, code: str | None = None, errors=None, extra=None, status_code=None
    ):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.errors = list(errors or [])
        self.extra = dict(extra or {})
        if status_code is not None:
            self.status_code = status_code


class ConflictError(ApplicationError):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class PreconditionFailed(ApplicationError):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "stale"


class PreconditionRequired(ApplicationError):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_code = "if_match_required"


class PayloadTooLarge(ApplicationError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


class TooManyActiveJobs(ConflictError):
    """A per-team cap on jobs queued or running at once (imports) is full. Retry once one ends."""

    default_code = "too_many_active_imports"


class TeamStorageQuotaExceeded(ApplicationError):
    """The team's stored bytes would pass FINETUNEDB_TEAM_STORAGE_QUOTA_BYTES.

    413 for an upload (its content is what does not fit); a launch that only adds files later
    (training) passes ``status_code=409``. The body carries ``used_bytes``, ``quota_bytes`` and
    ``incoming_bytes`` next to the message."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "team_storage_quota"


class ServiceUnavailable(ApplicationError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "unavailable"


def _flatten(detail, path=""):
    """DRF's nested error dict/list → a flat list of {path, message}."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            sub = (
                key if not path else (f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}")
            )
            if key == "non_field_errors":
                sub = path
            yield from _flatten(value, sub)
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            for item in detail:
                yield {"path": path or "$", "message": str(item)}
        else:
            for index, item in enumerate(detail):
                yield from _flatten(item, f"{path}[{index}]")
    else:
        yield {"path": path or "$", "message": str(detail)}


def api_exception_handler(exc, context):
    if isinstance(exc, OperationalError):
        logger.warning("database unavailable: %s", exc)
        exc = ServiceUnavailable(DATABASE_BUSY, code="database_busy")
    elif isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        logger.error("disk full: %s", exc)
        exc = ApplicationError(DISK_FULL, code="insufficient_storage", status_code=507)
    elif isinstance(exc, (OverflowError, DataError)):
        # A value the database cannot hold (an integer past 64 bits, …): the request's fault.
        exc = ApplicationError(OUT_OF_RANGE, code="out_of_range")
    elif isinstance(exc, RequestDataTooBig):
        exc = ApplicationError(
            REQUEST_REFUSED.format(reason=exc), code="too_large", status_code=413
        )
    elif isinstance(exc, SuspiciousOperation):
        exc = ApplicationError(REQUEST_REFUSED.format(reason=exc), code="bad_request")
    if isinstance(exc, ApplicationError):
        body = {"detail": exc.message, "code": exc.code, "errors": exc.errors, **exc.extra}
        response = Response(body, status=exc.status_code)
        if exc.status_code == status.HTTP_503_SERVICE_UNAVAILABLE:
            response["Retry-After"] = str(RETRY_AFTER_S)
        return response
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None:
        logger.exception("Unhandled API error", exc_info=exc)
        return Response(
            {
                "detail": "Internal server error. The failure was logged.",
                "code": "server_error",
                "errors": [],
            },
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    if isinstance(exc, exceptions.ValidationError):
        response.data = {
            "detail": "The request is invalid; see errors.",
            "code": "invalid",
            "errors": list(_flatten(exc.detail)),
        }
    else:
        detail = (
            response.data.get("detail", "") if isinstance(response.data, dict) else response.data
        )
        response.data = {
            "detail": str(detail),
            "code": getattr(detail, "code", None) or getattr(exc, "default_code", "error"),
            "errors": [],
        }
    return response
