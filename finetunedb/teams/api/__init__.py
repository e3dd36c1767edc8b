"""Teams API (DESIGN §6): tokens, the caller, teams, members, invitations, mirroring
``finetunedb/teams/pages/``. Views parse and delegate: writes go through
``finetunedb.teams.services`` and ``finetunedb.teams.invitations``. Routes: ``api/urls.py``
(joined into the ``api`` namespace by ``finetunedb/api_urls.py``).

Views build no querysets: every read goes through the app's selectors module
(``finetunedb.teams.selectors``, keyword-only ``<entity>_<action>`` for new reads), which holds
the team scoping; a view may evaluate what a selector returns (iterate, slice, ``.first()``,
``.count()``) but not call ``Model.objects``, refine a queryset (``.filter()``, ``.order_by()``,
...), build query expressions or call ``get_for_user`` itself.
tests/test_views_build_no_querysets.py enforces it.
"""
