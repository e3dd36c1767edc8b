"""Signatures verify with an independent implementation of the Standard Webhooks spec."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webhooks import signing


def spec_verify(secret: str, headers: dict, body: bytes) -> bool:
    """Standard Webhooks, written from the spec: HMAC-SHA256 over "{id}.{timestamp}.{body}"
    with the base64-decoded part of the secret after "whsec_"; any v1 signature may match."""
    key = base64.b64decode(secret.split("_", 1)[1])
    content = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    for part in headers["webhook-signature"].split(" "):
        version, _, value = part.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return True
    return False


def test_it_signs_a_known_vector():
    # The example of the Standard Webhooks specification (webhooks/spec, "Verifying").
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    got = signing.signature(
        secret, message_id="msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp=1614265330, body=body
    )
    assert got == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_it_generates_secrets_in_the_standard_shape():
    secret = signing.secret_generate()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret[6:])) == 32
    assert signing.secret_generate() != secret


@pytest.mark.parametrize(
    "secret",
    [
        "",
        "whsec_",
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "whsec_not base64!!",
        "whsec_" + base64.b64encode(b"x" * 8).decode(),
    ],
)
def test_it_refuses_a_malformed_secret(secret):
    with pytest.raises(ValueError, match="whsec_"):
        signing.secret_key(secret)


@given(
    body=st.binary(max_size=2000),
    timestamp=st.integers(0, 2**40),
    raw=st.binary(min_size=24, max_size=64),
)
def test_it_verifies_with_the_spec_for_any_message(body, timestamp, raw):
    secret = "whsec_" + base64.b64encode(raw).decode()
    message_id = signing.message_id_new()
    headers = signing.headers(secret, message_id=message_id, timestamp=timestamp, body=body)
    assert headers["webhook-id"] == message_id
    assert spec_verify(secret, headers, body)
    assert not spec_verify(secret, headers, body + b" ")
