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
    segments = whitespace_diff(before, after)[0 if side == "before" else 1]
    html = []
    for text, is_space, changed in segments:
        piece = escape(text)
        if is_space:
            piece = f'<span class="ws">{piece}</span>'
        if changed:
            piece = f'<mark class="ws-changed">{piece}</mark>'
        html.append(piece)
    return mark_safe("".join(html))  # noqa: S308 (every piece escaped above)
