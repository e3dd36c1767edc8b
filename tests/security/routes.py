"""The URL configuration as data: every route, its name and its path parameters.

Shared by the outsider walk (tests/test_url_scoping.py) and the role matrix, so a new route is
covered by both the moment it is added.
"""

from django.urls import URLPattern, URLResolver, get_resolver

# Framework routes whose ids are not team objects.
SKIP_PREFIXES = ("admin/",)
MISSING_ID = "{route}: add its path parameter to the objects of tests/security/world.py"


def walk(patterns, prefix="", namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), f"{namespace}{pattern.name}", pattern


def all_routes() -> list[tuple[str, str]]:
    """(route, name) of every pattern outside the framework's own admin."""
    return [
        (route, name)
        for route, name, _ in walk(get_resolver().url_patterns)
        if not route.startswith(SKIP_PREFIXES)
    ]


def routes_with_ids() -> list[tuple[str, list[str]]]:
    out = []
    for route, _, pattern in walk(get_resolver().url_patterns):
        if route.startswith(SKIP_PREFIXES) or not pattern.pattern.converters:
            continue
        out.append((route, sorted(pattern.pattern.converters)))
    return out


def fill(route: str, ids: dict) -> str:
    path = route
    for name, value in ids.items():
        path = path.replace(f"<int:{name}>", str(value))
    assert "<" not in path, MISSING_ID.format(route=route)
    return "/" + path
