"""What the team home page shows besides teams and invitations, supplied by the apps above.

The page (``finetunedb.teams.pages.teams.home``, URL ``teams:home``) belongs to the teams layer, but its content —
datasets, recent activity, versions — belongs to the apps. Each app registers a panel,
``panel(*, user, team) -> dict`` of template context, in its ``AppConfig.ready``; the view merges
them in registration order (INSTALLED_APPS order), so teams never imports the apps.
"""

from __future__ import annotations

from collections.abc import Callable

HomePanel = Callable[..., dict]  # (*, user, team) -> template context
_PANELS: list[HomePanel] = []


def home_panel_register(panel: HomePanel) -> HomePanel:
    """Add ``panel`` to the home page (idempotent: a second call with it changes nothing)."""
    if panel not in _PANELS:
        _PANELS.append(panel)
    return panel


def home_panels_context(*, user, team) -> dict:
    """The merged context of every registered panel for ``team`` (already resolved for
    ``user``); empty when there is no team."""
    if team is None:
        return {}
    context: dict = {}
    for panel in _PANELS:
        context.update(panel(user=user, team=team))
    return context
