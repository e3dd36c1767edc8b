"""SSRF rules of the outbound client: schemes, addresses (v4, v6, mapped, numeric forms),
redirects, timeouts and how much of an answer is read."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from webhooks import guard


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://localhost/x",
        "http://10.1.2.3/",
        "http://192.168.0.10/",
        "http://172.16.5.4/",
        "http://100.64.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:169.254.169.254]/",
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "http://2130706433/",  # 127.0.0.1 as one decimal number
        "http://0177.0.0.1/",  # octal
        "http://0x7f.0.0.1/",  # hex
        "http://127.1/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
    ],
)
def test_it_refuses_private_addresses_in_any_spelling(url):
    with pytest.raises(guard.UnsafeUrl, match="address"):
        guard.url_resolve(url, allow_private=False)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/", "http:// or https://"),
        ("file:///etc/passwd", "http:// or https://"),
        ("gopher://127.0.0.1:70/", "http:// or https://"),
        ("http://user:pw@8.8.8.8/", "passwords"),
        ("http:///nohost", "no host"),
        ("http://8.8.8.8:99999/", "not valid"),
        ("http://8.8.8.8/a b", "spaces"),
        ("http://8.8.8.8/" + "a" * 2000, "longer than"),
    ],
)
def test_it_refuses_urls_that_are_not_plain_http(url, message):
    with pytest.raises(guard.UnsafeUrl, match=message):
        guard.url_resolve(url, allow_private=True)


def test_it_allows_loopback_only_with_the_setting_and_never_unspecified():
    target = guard.url_resolve("http://127.0.0.1:8080/hook?a=1", allow_private=True)
    assert (target.address, target.port, target.path) == ("127.0.0.1", 8080, "/hook?a=1")
    with pytest.raises(guard.UnsafeUrl, match="unspecified"):
        guard.url_resolve("http://0.0.0.0/", allow_private=True)


def test_it_accepts_a_public_address():
    assert guard.address_kind("8.8.8.8") is None
    assert guard.address_kind("2606:4700:4700::1111") is None
    assert guard.address_kind("::ffff:8.8.8.8") is None


def test_it_refuses_a_name_when_any_of_its_addresses_is_private(monkeypatch):
    answers = [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, 80)) for a in ("8.8.8.8", "10.0.0.1")
    ]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: answers)
    with pytest.raises(guard.UnsafeUrl, match="10.0.0.1"):
        guard.url_resolve("http://rebind.example/", allow_private=False)


def test_it_connects_to_the_address_it_checked(monkeypatch, receiver):
    """A second DNS answer cannot move the connection: the socket opens on the checked IP."""
    target = guard.url_resolve(receiver.url, allow_private=True)
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: pytest.fail("resolved twice"))
    answer = guard.post(target, b"{}", {"Content-Type": "application/json"})
    assert answer.status == 200
    assert receiver.requests[0]["headers"]["Host"] == f"127.0.0.1:{target.port}"


def test_it_does_not_follow_redirects(receiver, second_receiver):
    receiver.status, receiver.headers = 302, {"Location": second_receiver.url}
    answer = guard.post(guard.url_resolve(receiver.url, allow_private=True), b"{}", {})
    assert answer.status == 302
    assert second_receiver.requests == []


def test_it_reads_at_most_the_cap(receiver):
    receiver.body = b"x" * (guard.READ_CAP * 10)
    answer = guard.post(guard.url_resolve(receiver.url, allow_private=True), b"{}", {})
    assert len(answer.head) == guard.READ_CAP


def test_it_gives_up_on_a_receiver_that_never_answers(monkeypatch):
    monkeypatch.setattr(guard, "TOTAL_TIMEOUT", 0.5)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    accepted = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
    target = guard.url_resolve(f"http://127.0.0.1:{server.getsockname()[1]}/", allow_private=True)
    started = time.monotonic()
    with pytest.raises(OSError):
        guard.post(target, b"{}", {})
    assert time.monotonic() - started < 3
    server.close()
