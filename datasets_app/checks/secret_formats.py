"""Credential formats providers issue, each with the fixed needle its matches contain, its
bounded pattern and a validity test (the variable part is not a placeholder, a JWT header decodes
to JSON with "alg", a PEM block holds real base64, a database URL's password reads as
generated). :func:`find_known_formats` runs a pattern only when one pass over the text found one
of its needles; database URLs are found from their "://".
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import NamedTuple

import orjson

from datasets_app.checks.secret_values import (
    char_classes,
    plausible_body,
    random_enough,
    shannon_entropy,
)

MAX_CANDIDATES = 64  # matches judged per format and text


class SecretMatch(NamedTuple):
    rule_id: str  # contains_secret (a known format) or possible_secret (high-entropy literal)
    kind: str  # "GitHub token", "high-entropy literal", …
    value: str  # never shown; see mask_secret
    start: int
    name: str | None = None  # the name a literal is assigned to
    entropy: float | None = None


def _valid_jwt(value: str) -> bool:
    header = value.split(".", 1)[0]
    try:
        decoded = base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))
        parsed = orjson.loads(decoded)
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        return False
    # jwt.io's sample token (signature below) is in countless tutorials: not anyone's secret.
    return isinstance(parsed, dict) and "alg" in parsed and not value.endswith(_JWT_IO_SIGNATURE)


_JWT_IO_SIGNATURE = "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
_PEM_BODY = re.compile(r"(?:[ \t]{0,8}(?:[A-Za-z-]{1,40}: [^\n]{0,200})?\r?\n){1,4}")
_BASE64_LINE = re.compile(r"[ \t]{0,8}([A-Za-z0-9+/=]{40,100})\r?\n?")


def _valid_pem(text: str, end: int) -> bool:
    """A PEM header followed by at least two lines of real (high-entropy) base64."""
    position = end
    skipped = _PEM_BODY.match(text, position)
    if skipped:
        position = skipped.end()
    body = ""
    for _ in range(3):
        line = _BASE64_LINE.match(text, position)
        if not line:
            break
        body += line.group(1)
        position = line.end()
    return len(body) >= 64 and shannon_entropy(body) >= 4.5 and plausible_body(body)


def _valid_hf(value: str) -> bool:
    body = value[3:]
    return char_classes(body) >= 2 and shannon_entropy(body) >= 3.8 and plausible_body(body)


class _Format(NamedTuple):
    kind: str
    needles: tuple[str, ...]  # every match contains one: the pattern runs only when one is there
    pattern: re.Pattern
    group: str | int  # the secret inside the match
    valid: object = None  # extra test on (text, match); default: the group's body is plausible


def _fmt(kind, needles, pattern, group=0, valid=None) -> _Format:
    needles = (needles,) if isinstance(needles, str) else tuple(needles)
    return _Format(kind, needles, re.compile(pattern), group, valid)


_FORMATS = (
    _fmt(
        "AWS access key id",
        ("AKIA", "ASIA", "ABIA", "ACCA"),
        r"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}(?![A-Za-z0-9])",
        # AWS's documented sample key ids end in EXAMPLE
        valid=lambda text, m: not m.group().endswith("EXAMPLE") and plausible_body(m.group()[4:]),
    ),
    _fmt(
        "GitHub token",
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
        r"(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36}(?![A-Za-z0-9_])",
    ),
    _fmt(
        "GitHub token",
        "github_pat_",
        r"(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}(?![A-Za-z0-9_])",
    ),
    _fmt(
        "Slack token",
        "xox",
        r"(?<![A-Za-z0-9])xox[abeoprs]-[0-9]{6,15}-[A-Za-z0-9-]{8,200}",
    ),
    _fmt(
        "Slack webhook URL",
        "hooks.slack.com",
        r"hooks\.slack\.com/services/T[A-Z0-9]{6,12}/B[A-Z0-9]{6,12}/[A-Za-z0-9]{20,32}",
    ),
    _fmt("Stripe live key", "_live_", r"(?<![A-Za-z0-9])[sr]k_live_[A-Za-z0-9]{20,247}"),
    _fmt("Google API key", "AIza", r"(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])"),
    _fmt(
        "Anthropic API key",
        "sk-ant-",
        r"(?<![A-Za-z0-9_-])sk-ant-[a-z]{3,6}[0-9]{2}-[A-Za-z0-9_-]{40,200}",
    ),
    _fmt(
        "OpenAI API key",
        "sk-",
        r"(?<![A-Za-z0-9_-])sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,250}"
        r"|[A-Za-z0-9]{48}(?![A-Za-z0-9_-]))",
    ),
    _fmt(
        "JSON Web Token",
        "eyJ",
        r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{10,2000}\.eyJ[A-Za-z0-9_-]{10,4000}"
        r"\.[A-Za-z0-9_-]{20,1000}",
        valid=lambda text, m: _valid_jwt(m.group()),
    ),
    _fmt(
        "private key",
        "PRIVATE KEY",
        r"-----BEGIN (?:(?:RSA|DSA|EC|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY(?: BLOCK)?-----",
        valid=lambda text, m: _valid_pem(text, m.end()),
    ),
    _fmt(
        "Azure storage account key",
        "AccountKey=",
        r"AccountKey=([A-Za-z0-9+/]{86}==)",
        group=1,
    ),
    _fmt(
        "Azure shared access key",
        "SharedAccessKey=",
        r"SharedAccessKey=([A-Za-z0-9+/]{43}=)",
        group=1,
    ),
    _fmt(
        "Azure AD client secret",
        "Q~",
        r"(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.-]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])",
        valid=lambda text, m: random_enough(m.group(), 16) is not None,
    ),
    _fmt("Twilio API key", "SK", r"(?<![A-Za-z0-9])SK[0-9a-f]{32}(?![A-Za-z0-9])"),
    _fmt(
        "SendGrid API key",
        "SG.",
        r"(?<![A-Za-z0-9_-])SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])",
    ),
    _fmt(
        "Hugging Face token",
        "hf_",
        r"(?<![A-Za-z0-9_])hf_[A-Za-z0-9]{34}(?![A-Za-z0-9_])",
        valid=lambda text, m: _valid_hf(m.group()),
    ),
)
# Every needle, for the screens (content.screen_detectors, batch_screen.RE2_SCREENS).
FORMAT_NEEDLES = tuple(sorted({needle for f in _FORMATS for needle in f.needles}))

# One pass finds which needles a text holds (most hold none). Matches do not overlap: no
# needle ends with the start of another that begins a format's match where that format could
# match, and at one position the longest wins ("sk-ant-", where "sk-" cannot start an OpenAI key).
_NEEDLE_PATTERN = re.compile(
    "|".join(map(re.escape, sorted(FORMAT_NEEDLES, key=len, reverse=True)))
)

# Database URLs are found from their "://": the scheme is read backwards, the rest matched
# forwards (a case-insensitive scheme alternation tried at every position is ~50x slower).
DB_SCHEMES = frozenset(
    "postgres postgresql mysql mariadb mongodb mongodb+srv redis rediss amqp amqps mssql "
    "sqlserver oracle cockroachdb".split()
)
# For the screens: every database URL _find_db_urls reports matches this (case-insensitively;
# RE2 and Python agree on it), and few other URLs do.
DB_URL_SCREEN = (
    r"(?i:(?:postgres|mysql|mariadb|mongodb|redis|amqp|mssql|sqlserver|oracle|cockroachdb)"
    r"[a-z0-9+]{0,40}://)"
)
_DB_REST = re.compile(
    r"[^\s:/@'\"`]{1,64}:(?P<password>[^\s/@'\"`]{1,128})@[A-Za-z0-9.\[\]-]{1,255}"
)
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+")


def _find_db_urls(text: str) -> list[SecretMatch]:
    found = []
    position = text.find("://")
    while position > 0 and len(found) < MAX_CANDIDATES:
        start = position
        while start > 0 and position - start < 40 and text[start - 1] in _SCHEME_CHARS:
            start -= 1
        scheme = text[start:position].lower()
        # a driver suffix is allowed: postgresql+psycopg://, mysql+pymysql://
        if scheme in DB_SCHEMES or scheme.rsplit("+", 1)[0] in DB_SCHEMES:
            rest = _DB_REST.match(text, position + 3)
            if rest and random_enough(rest.group("password"), 8) is not None:
                found.append(
                    SecretMatch(
                        "contains_secret",
                        "database URL with a password",
                        rest.group("password"),
                        rest.start("password"),
                    )
                )
        position = text.find("://", position + 3)
    return found


def find_known_formats(text: str) -> list[SecretMatch]:
    """Every match of a known credential format in ``text``, in text order."""
    found = []
    present = set(_NEEDLE_PATTERN.findall(text))
    for fmt in _FORMATS:
        if present.isdisjoint(fmt.needles):
            continue
        for count, match in enumerate(fmt.pattern.finditer(text)):
            if count >= MAX_CANDIDATES:
                break
            valid = fmt.valid(text, match) if fmt.valid else plausible_body(match.group(fmt.group))
            if valid:
                value = match.group(fmt.group)
                found.append(
                    SecretMatch("contains_secret", fmt.kind, value, match.start(fmt.group))
                )
    if "://" in text:
        found += _find_db_urls(text)
    found.sort(key=lambda m: m.start)
    return found
