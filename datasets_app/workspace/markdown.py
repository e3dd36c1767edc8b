"""Markdown previews of turn content: rendered without raw HTML, then cleaned by an allowlist.

markdown-it runs with ``html`` off, so tags in the text come out escaped; nh3 then keeps only
the tags and attributes below and only http(s)/mailto links, so a ``javascript:`` link or an
event handler cannot survive even if the renderer had a bug.
"""

from __future__ import annotations

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

TAGS = {
    "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a", "hr",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "del", "s",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}
MAX_CHARS = 200_000

_md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_md.enable("strikethrough")


def render_markdown(text: str | None) -> SafeString:
    """Sanitized HTML for ``text`` (``None`` renders as nothing)."""
    if not text:
        return mark_safe("")  # noqa: S308 - the empty string
    html = _md.render(text[:MAX_CHARS])
    clean = nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(clean)  # noqa: S308 - nh3 allowlist output
