"""Byte counts for people, in the same binary units as the quota's error messages."""

from django import template

from ..storage_usage import format_bytes

register = template.Library()


@register.filter
def human_bytes(value) -> str:
    try:
        return format_bytes(int(value))
    except (TypeError, ValueError):
        return ""
