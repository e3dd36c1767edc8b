"""Log records as one line each: JSON objects for machines, escaped text for people.

Which one: ``FINETUNEDB_LOG_FORMAT`` (``json``, ``text``, or ``auto``/unset, which writes text
when a terminal reads the process's output and JSON otherwise: see :func:`log_format_choose`).

User text (prompts, dataset names, request paths, exception messages) reaches log messages. A
newline in it would let anyone forge a whole log line (``\\n[CRITICAL] fake``); a terminal
escape would repaint an operator's screen. Both formatters here guarantee one line per record
whatever the text holds, and the JSON one keeps the exact text: ``json.loads(line)["message"]``
is what was logged. No Django import: the gunicorn master and the tests use this module alone.

Request and task context (request id, user id, team id, method, path, task id) travel in a
context variable that the request middleware and the Celery signals bind; any field may be a
zero-argument callable, resolved when a record is formatted (the user is known only after
authentication, which runs after the middleware).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import secrets
import sys
from collections.abc import Iterator, Mapping
from contextvars import ContextVar, Token
from datetime import UTC, datetime

import orjson
from gunicorn import glogging

LOG_FORMATS = ("json", "text")
AUTO = "auto"
UNKNOWN_LOG_FORMAT = "FINETUNEDB_LOG_FORMAT must be one of {formats}, not {value!r}."
REDACTED = "[redacted]"
UNREPRESENTABLE = "<unrepresentable>"

# Request ids a client may choose: short and plain, so they are safe in a header and a log line.
REQUEST_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")

# Key names whose values are secrets wherever they appear in ``extra``.
SECRET_KEYS = frozenset(
    {
        "authorization",
        "proxy_authorization",
        "http_authorization",
        "cookie",
        "cookies",
        "http_cookie",
        "set_cookie",
        "password",
        "passwd",
        "secret",
        "token",
        "api_key",
        "apikey",
        "sessionid",
        "csrftoken",
        "csrfmiddlewaretoken",
    }
)
SECRET_SUFFIXES = ("_password", "_token", "_secret", "_secret_key", "_authorization", "_cookie")
# Raw API tokens (finetunedb.teams.services.TOKEN_PREFIX + token_urlsafe(32)), in case one is
# ever interpolated into a message.
TOKEN_VALUE_RE = re.compile(r"ftdb_[A-Za-z0-9_-]{16,}")

# Valid in JSON strings but dangerous to readers: C1 controls (0x9b is a one-byte terminal CSI),
# NEL and the Unicode line/paragraph separators (line breaks to str.splitlines and some log
# viewers), and the bidi overrides that reorder what an operator sees.
_JSON_UNSAFE_RE = re.compile("[\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# The same plus C0 controls, lone surrogates and the backslash, for the text format.
_TEXT_UNSAFE_RE = re.compile(
    "[\\\\\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069"
    "\ud800-\udfff]"
)
_TEXT_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r"}

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_ATTRS = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys() | {"message", "asctime"}
)
# ``extra`` keys never written: Django's request object repr carries the query string. Its
# ``log_context`` (set by the request middleware) stands in for it: Django logs 4xx/5xx answers
# after the middleware has returned and unbound the context.
_DROPPED_EXTRAS = frozenset({"request"})
_MAX_REPR = 2000

_CONTEXT: ContextVar[Mapping[str, object] | None] = ContextVar(
    "finetunedb_log_context", default=None
)


def log_context_bind(**fields) -> Token:
    """Add ``fields`` to every record logged from this context; returns a token for the reset."""
    return _CONTEXT.set({**(_CONTEXT.get() or {}), **fields})


def log_context_reset(token: Token) -> None:
    _CONTEXT.reset(token)


@contextlib.contextmanager
def log_context(**fields) -> Iterator[None]:
    token = log_context_bind(**fields)
    try:
        yield
    finally:
        log_context_reset(token)


def log_context_fields() -> dict[str, object]:
    """The bound context with callables resolved; None values (not known yet) are left out."""
    out = {}
    for key, value in (_CONTEXT.get() or {}).items():
        if callable(value):
            try:
                value = value()
            except Exception:  # a log line must never fail because its context cannot resolve
                value = None
        if value is not None:
            out[key] = value
    return out


def request_id_accept(value: str | None) -> str | None:
    """``value`` when it is a sane client-chosen request id (1-64 of ``A-Za-z0-9._:-``), else None."""
    if value and REQUEST_ID_RE.fullmatch(value):
        return value
    return None


def request_id_new() -> str:
    return secrets.token_hex(16)


def _is_secret_key(key) -> bool:
    name = str(key).lower().replace("-", "_")
    return name in SECRET_KEYS or name.endswith(SECRET_SUFFIXES)


def redact(value, depth: int = 0):
    """``value`` with the values under secret-looking keys replaced, in nested dicts and lists."""
    if depth > 8:
        return value
    if isinstance(value, Mapping):
        return {
            k: REDACTED if _is_secret_key(k) else redact(v, depth + 1) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v, depth + 1) for v in value]
    if isinstance(value, str):
        return TOKEN_VALUE_RE.sub(REDACTED, value)
    return value


def _safe_repr(value) -> str:
    try:
        text = repr(value)
    except Exception:
        return UNREPRESENTABLE
    return text if len(text) <= _MAX_REPR else text[:_MAX_REPR] + "…"


def _escape_match(match: re.Match) -> str:
    char = match.group()
    return _TEXT_ESCAPES.get(char) or f"\\u{ord(char):04x}"


def escape_text(text: str) -> str:
    """``text`` on one line with no control characters: backslash, CR, LF and the rest escaped."""
    return _TEXT_UNSAFE_RE.sub(_escape_match, text)


class _RecordFields:
    """What both formatters write, gathered once per record."""

    def __init__(self, formatter: logging.Formatter, record: logging.LogRecord):
        try:
            message = record.getMessage()
        except Exception:  # bad %-args: keep the template rather than lose the record
            message = f"{record.msg!s} % {_safe_repr(record.args)}"
        self.message = TOKEN_VALUE_RE.sub(REDACTED, message)
        context = log_context_fields()
        request_context = getattr(getattr(record, "request", None), "log_context", None)
        if isinstance(request_context, Mapping):
            context = {**request_context, **context}
        self.context = redact(context)
        self.extras = redact(
            {
                key: value
                for key, value in vars(record).items()
                if key not in _RECORD_ATTRS and key not in _DROPPED_EXTRAS
            }
        )
        self.exception = None
        if record.exc_info:
            self.exception = formatter.formatException(record.exc_info)
        elif record.exc_text:
            self.exception = record.exc_text
        if self.exception:
            self.exception = TOKEN_VALUE_RE.sub(REDACTED, self.exception)
        self.stack = formatter.formatStack(record.stack_info) if record.stack_info else None


def _utc_timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _dumps(payload: dict) -> str:
    try:
        text = orjson.dumps(payload, default=_safe_repr, option=orjson.OPT_NON_STR_KEYS).decode()
    except (orjson.JSONEncodeError, TypeError):
        # orjson refuses lone surrogates; the stdlib writes them as \\udXXXX escapes, which
        # json.loads turns back into the same string.
        try:
            text = json.dumps(
                payload,
                default=_safe_repr,
                ensure_ascii=True,
                allow_nan=False,
                separators=(",", ":"),
            )
        except (TypeError, ValueError):
            safe = {k: _safe_repr(v) for k, v in payload.items()}
            text = json.dumps(safe, ensure_ascii=True, separators=(",", ":"))
    return _JSON_UNSAFE_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line.

    Fields: ``ts`` (ISO-8601 UTC), ``level``, ``logger``, ``message``, ``pid``, the bound
    context (``request_id``, ``user_id``, ``team_id``, ``method``, ``path``, ``task_id``, …),
    ``extra`` fields (values that JSON cannot hold are repr'd; secret-looking keys redacted),
    then ``exception`` and ``stack`` as strings. Extras never override the fields above.
    """

    def format(self, record: logging.LogRecord) -> str:
        fields = _RecordFields(self, record)
        payload = {
            "ts": _utc_timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": fields.message,
            "pid": record.process,
        }
        for key, value in {**fields.context, **fields.extras}.items():
            payload.setdefault(str(key), value)
        if fields.exception:
            payload["exception"] = fields.exception
        if fields.stack:
            payload["stack"] = fields.stack
        return _dumps(payload)


class TextFormatter(logging.Formatter):
    """``<date> <time> <LEVEL> <logger>: <message> [key=value …] | <exception>``, one line.

    For people reading a terminal (``make run``): the time in UTC to the second, the level
    padded so messages line up, the message before the request or task context. Everything
    that could break the line or drive the terminal is escaped (``\\n``, ``\\x1b`` as
    ``\\u001b``, backslash as ``\\\\``), so a record can never look like two.
    """

    def format(self, record: logging.LogRecord) -> str:
        fields = _RecordFields(self, record)
        pairs = {**fields.context, **fields.extras}
        context = " ".join(f"{key}={value}" for key, value in pairs.items())
        moment = datetime.fromtimestamp(record.created, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
        line = f"{moment} {record.levelname:<7} {record.name}: {fields.message}"
        if context:
            line += f" [{context}]"
        for tail in (fields.exception, fields.stack):
            if tail:
                line += " | " + tail
        return escape_text(line)


def _is_terminal(stream) -> bool:
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError, OSError):  # a closed or replaced stream
        return False


def log_format_choose(value: str | None, streams=None) -> str:
    """The format a ``FINETUNEDB_LOG_FORMAT`` value asks for: ``json`` or ``text`` as named;
    unset, empty or ``auto``: ``text`` when one of ``streams`` (default: stdout and stderr) is a
    terminal, since a person is reading, else ``json`` (a supervisor or container runtime
    collects the lines). ValueError for anything else.

    >>> import io
    >>> log_format_choose(None, [io.StringIO()]), log_format_choose("text", [io.StringIO()])
    ('json', 'text')
    """
    name = (value or "").strip().lower() or AUTO
    if name in LOG_FORMATS:
        return name
    if name != AUTO:
        raise ValueError(
            UNKNOWN_LOG_FORMAT.format(formats=", ".join((*LOG_FORMATS, AUTO)), value=value)
        )
    if streams is None:
        streams = (sys.stdout, sys.stderr)
    return "text" if any(_is_terminal(stream) for stream in streams) else "json"


def formatter_for(name: str) -> logging.Formatter:
    """The formatter a ``FINETUNEDB_LOG_FORMAT`` value names; ValueError for anything else."""
    if name == "json":
        return JsonFormatter()
    if name == "text":
        return TextFormatter()
    raise ValueError(UNKNOWN_LOG_FORMAT.format(formats=", ".join(LOG_FORMATS), value=name))


def _header(headers, name: str) -> str | None:
    for key, value in headers or ():
        if key.lower() == name:
            return value
    return None


class GunicornLogger(glogging.Logger):
    """gunicorn's logger with our formatter, and an access line without the query string.

    Used with ``--logger-class finetunedb.logs.GunicornLogger``; the format comes from the
    ``FINETUNEDB_LOG_FORMAT`` environment variable like the app's. ``--access-logformat`` is
    ignored: access records carry method, path (never the query string, which may hold
    secrets), status, bytes, duration, client address, user agent and the request id.
    """

    def setup(self, cfg):
        super().setup(cfg)
        formatter = formatter_for(log_format_choose(os.environ.get("FINETUNEDB_LOG_FORMAT")))
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if getattr(handler, "_gunicorn", False):
                    handler.setFormatter(formatter)

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        method = environ.get("REQUEST_METHOD", "-")
        path = environ.get("PATH_INFO", "-")
        extra = {
            "status": int(status) if str(status).isdigit() else status,
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "remote_addr": environ.get("REMOTE_ADDR"),
            "user_agent": environ.get("HTTP_USER_AGENT"),
            "request_id": _header(getattr(resp, "headers", None), "x-request-id"),
        }
        extra = {key: value for key, value in extra.items() if value is not None}
        try:
            self.access_log.info("%s %s %s", method, path, status, extra=extra)
        except Exception:
            self.exception("access log failed")
