"""Standard Webhooks signatures (https://www.standardwebhooks.com/), pure: no Django.

A secret is ``whsec_`` + base64 of 24-64 random bytes. A message is signed as
``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}" keyed with the decoded secret>`` and
sent with the ``webhook-id``, ``webhook-timestamp`` (Unix seconds) and ``webhook-signature``
headers. Receivers verify with the same function (docs/webhooks.md has the snippet).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import uuid

PREFIX = "whsec_"
MIN_BYTES, MAX_BYTES, GENERATED_BYTES = 24, 64, 32
BAD_SECRET = (
    "A secret is 'whsec_' followed by base64 of 24-64 bytes (as Standard Webhooks has it); "
    "leave it out and one is generated for you."
)


def secret_generate() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(GENERATED_BYTES)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key of ``secret``; ValueError(BAD_SECRET) when it is not a valid secret."""
    if not isinstance(secret, str) or not secret.startswith(PREFIX):
        raise ValueError(BAD_SECRET)
    try:
        key = base64.b64decode(secret[len(PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(BAD_SECRET) from None
    if not MIN_BYTES <= len(key) <= MAX_BYTES:
        raise ValueError(BAD_SECRET)
    return key


def message_id_new() -> str:
    return f"msg_{uuid.uuid4().hex}"


def signature(secret: str, *, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256>`` of ``{message_id}.{timestamp}.{body}``."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def headers(secret: str, *, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(
            secret, message_id=message_id, timestamp=timestamp, body=body
        ),
    }
