"""The one place the app marks HTML safe: markdown previews. Whatever the text, the output holds
only allow-listed tags and attributes, and links only with http(s)/mailto or no scheme."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datasets_app.workspace.markdown import ATTRIBUTES, TAGS, URL_SCHEMES, render_markdown

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](jav&#x09;ascript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](javascript:alert(1))",
    "<javascript:alert(1)>",
    '<iframe src="https://example.com"></iframe>',
    "<style>body{display:none}</style>",
    '<p onclick="alert(1)">x</p>',
    '[x](https://example.com "t" onmouseover=alert(1))',
    "```html\n<script>alert(1)</script>\n```",
    "| a |\n|---|\n| <b onmouseover=alert(1)>b</b> |",
]


class Collect(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))


def assert_allow_listed(html: str) -> None:
    parser = Collect()
    parser.feed(html)
    for tag, attrs in parser.tags:
        assert tag in TAGS, (tag, html)
        for name, value in attrs:
            allowed = ATTRIBUTES.get(tag, set()) | ({"rel"} if tag == "a" else set())
            assert name in allowed, (tag, name, html)
            if name == "href":
                scheme = urlsplit((value or "").strip()).scheme.lower()
                assert scheme in URL_SCHEMES or scheme == "", (value, html)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_it_keeps_only_allow_listed_markup_for_known_payloads(payload):
    html = str(render_markdown(f"**before** {payload} after"))
    assert_allow_listed(html)
    assert "<strong>before</strong>" in html


def test_it_keeps_ordinary_markdown():
    html = str(render_markdown("# T\n\n- [site](https://example.com)\n\n`code`"))
    assert "<h1>T</h1>" in html and "<code>code</code>" in html
    assert 'href="https://example.com"' in html and 'rel="noopener noreferrer nofollow"' in html


def test_it_renders_nothing_for_no_text():
    assert render_markdown(None) == "" and render_markdown("") == ""


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(st.sampled_from(PAYLOADS), st.sampled_from(list("<>\"'`[]()!#*|&;:=/\\\n ")),
                  st.text(max_size=8)),
        max_size=12,
    ).map("".join)
)  # fmt: skip
def test_it_never_lets_a_tag_attribute_or_scheme_outside_the_allow_list_through(text):
    assert_allow_listed(str(render_markdown(text)))
