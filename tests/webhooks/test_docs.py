"""docs/webhooks.md documents every event type, and its verification snippet verifies."""

from __future__ import annotations

import re
import time
from pathlib import Path

from finetunedb.events import EVENT_TYPES
from webhooks import signing
from webhooks.services.events import TEST_EVENT

DOC = (Path(__file__).resolve().parents[2] / "docs" / "webhooks.md").read_text(encoding="utf-8")


def test_it_documents_every_event_type():
    documented = set(re.findall(r"^\| `([a-z_]+\.[a-z]+)` \|", DOC, flags=re.M))
    assert documented == set(EVENT_TYPES) | {TEST_EVENT}


def test_it_ships_a_verification_snippet_that_verifies():
    snippet = re.search(r"```python\n(.*?)```", DOC, flags=re.S).group(1)
    scope: dict = {}
    exec(snippet, scope)  # noqa: S102 (the document's own code)
    secret, body, now = signing.secret_generate(), b'{"type":"version.frozen"}', int(time.time())
    headers = signing.headers(secret, message_id="msg_1", timestamp=now, body=body)
    assert scope["verify"](secret, headers, body)
    assert not scope["verify"](secret, headers, body + b"x")
    assert not scope["verify"](signing.secret_generate(), headers, body)
