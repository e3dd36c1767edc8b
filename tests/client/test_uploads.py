"""The streamed multipart body: whatever the file and the fields, read in any block sizes, it is
the whole body, as long as it says, and parses back to the same file and fields."""

from __future__ import annotations

from email.parser import BytesParser
from email.policy import HTTP

from finetunedb_client.uploads import MultipartFile
from hypothesis import given, settings
from hypothesis import strategies as st

TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40)


def parse(content_type: str, body: bytes) -> dict:
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    parts = {}
    for part in message.iter_parts():
        parts[part.get_param("name", header="content-disposition")] = part.get_payload(decode=True)
    return parts


@settings(max_examples=60, deadline=None)
@given(
    content=st.binary(max_size=5000),
    fields=st.dictionaries(st.sampled_from(["format", "mode", "status"]), TEXT, max_size=3),
    blocks=st.lists(st.integers(min_value=1, max_value=700), min_size=1, max_size=30),
    name=st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20),
)
def test_it_streams_exactly_the_file_and_fields(tmp_path_factory, content, fields, blocks, name):
    safe = "".join(c for c in name if c not in "/\\\x00") or "f"
    path = tmp_path_factory.mktemp("up") / safe
    path.write_bytes(content)
    seen = []
    with MultipartFile(path, fields=fields, on_read=seen.append) as body:
        out = b""
        for size in blocks * 20:
            chunk = body.read(size)
            if not chunk:
                break
            out += chunk
        out += body.read()
        assert len(out) == len(body)
        assert body.read(10) == b""
    assert sum(seen) == len(content)
    parts = parse(body.content_type, out)
    assert parts["file"] == content
    for key, value in fields.items():
        assert parts[key].decode() == value
