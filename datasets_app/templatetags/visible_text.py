"""``{% whitespace_shown before after side %}``: one side of a before/after pair with its
whitespace visible (· space, → tab, ↵ newline) and the part that differs highlighted, as safe
HTML (every piece of user text is escaped; see datasets_app.checks.visible_whitespace)."""

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

from ..checks.visible_whitespace import whitespace_diff

register = template.Library()


@register.simple_tag
def whitespace_shown(before, after, side: str = "after"):
    value = before if side == "before" else after
    if not all(v is None or isinstance(v, str) for v in (before, after)):
        return "" if value is None else escape(str(value))  # a removed or non-text item
    segments = whitespace_diff(before, after)[0 if side == "before" else 1]
    html, marked = [], False
    for text, is_space, changed in segments:
        if changed != marked:  # one <mark> around each run of changed segments
            html.append('<mark class="ws-changed">' if changed else "</mark>")
            marked = changed
        piece = escape(text)
        html.append(f'<span class="ws">{piece}</span>' if is_space else piece)
    if marked:
        html.append("</mark>")
    return mark_safe("".join(html))  # noqa: S308 (every piece escaped above)
