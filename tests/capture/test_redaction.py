"""capture.redaction: PII replaced by typed placeholders before a log is stored."""

from hypothesis import given
from hypothesis import strategies as st

from capture.redaction import redact_log, redact_text
from datasets_app.checks import patterns

GITHUB_TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


def test_it_replaces_emails_phones_and_secrets_with_typed_placeholders():
    text, counts = redact_text(
        f"Mail jane.doe@example.com, call +1 415 555 0100, token {GITHUB_TOKEN}"
    )
    assert text == "Mail [EMAIL], call [PHONE], token [SECRET]"
    assert counts == {"EMAIL": 1, "PHONE": 1, "SECRET": 1}


def test_it_keeps_offsets_right_after_wide_characters_and_in_brackets():
    text, counts = redact_text("😀é <bob+x@mail.co.uk>, (415) 555-0100. 電話 020-555-0199")
    assert text == "😀é <[EMAIL]>, [PHONE]. 電話 [PHONE]"
    assert counts == {"EMAIL": 1, "PHONE": 2}


def test_it_redacts_a_database_password_once_where_it_also_reads_as_an_email():
    # "Xk9…Wq@db.internal" is an email's shape too: one placeholder, of the weightier kind
    text, counts = redact_text("postgres://app:Xk9mQ2vLp8zR4tWq@db.internal:5432/prod")
    assert (text, counts) == ("postgres://app:[SECRET]:5432/prod", {"SECRET": 1})


def test_it_leaves_placeholders_and_plain_text_alone():
    plain = "Order [EMAIL] #12345 shipped on 2026-12-06; ask support@ (no domain)."
    assert redact_text(plain) == (plain, {})


def test_it_redacts_message_contents_tool_arguments_metadata_and_the_error():
    messages = [
        {"role": "user", "content": "I am ann@corp.io"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "call", "arguments": '{"phone": "+44 20 7946 0958"}'},
                }
            ],
        },
    ]
    out, response, metadata, error, counts = redact_log(
        messages=messages,
        response={"role": "assistant", "content": "Wrote to ann@corp.io"},
        metadata={"contact": {"emails": ["x@y.org", "keep"]}, "n": 3},
        error={"message": "upstream refused key " + GITHUB_TOKEN, "type": "auth"},
    )
    assert out[0]["content"] == "I am [EMAIL]"
    assert out[1]["tool_calls"][0]["function"]["arguments"] == '{"phone": "[PHONE]"}'
    assert response["content"] == "Wrote to [EMAIL]"
    assert metadata == {"contact": {"emails": ["[EMAIL]", "keep"]}, "n": 3}
    assert error == {"message": "upstream refused key [SECRET]", "type": "auth"}
    assert counts == {"EMAIL": 3, "PHONE": 1, "SECRET": 1}
    assert messages[0]["content"] == "I am ann@corp.io"  # the input is not changed


def test_it_stays_fast_on_a_hostile_long_string():
    import time

    hostile = ("a@" * 50_000) + ("1-" * 50_000) + ("+1 (" * 20_000)
    start = time.perf_counter()
    redact_text(hostile)
    assert time.perf_counter() - start < 2.0


LOCAL = st.text(alphabet="abcdefghij.+_", min_size=1, max_size=12).filter(
    lambda s: s[0] not in ".+" and s[-1] != "."
)
EMAILS = st.builds(lambda a, b: f"{a}@{b}.com", LOCAL, st.sampled_from(["ex", "mail-x", "a.b"]))
WORDS = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)


@given(st.lists(st.one_of(EMAILS, WORDS), max_size=8))
def test_it_leaves_no_email_behind_and_is_idempotent(parts):
    text, _ = redact_text(" ".join(parts))
    assert patterns.EMAIL.search(text) is None
    assert redact_text(text) == (text, {})
