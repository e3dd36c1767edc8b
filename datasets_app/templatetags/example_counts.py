"""Counts for people: exact numbers with thousands separators (52,002, not 52002)."""

from django import template

register = template.Library()


@register.filter
def thousands(value) -> str:
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return ""
