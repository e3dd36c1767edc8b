"""The teams layer's browser pages, mirroring ``finetunedb/teams/api/``: ``teams`` (home,
sign-in and sign-up, password, team switch and create, tokens) and ``members`` (members,
leaving, invitations).

Pages parse the request and delegate: reads go through ``finetunedb.teams.selectors``, writes
through ``finetunedb.teams.services`` and ``finetunedb.teams.invitations``. Their URL table is
``pages/urls.py`` (namespace ``teams``).

Views build no querysets: every read goes through the app's selectors module
(``finetunedb.teams.selectors``, keyword-only ``<entity>_<action>`` for new reads), which holds
the team scoping; a view may evaluate what a selector returns (iterate, slice, ``.first()``,
``.count()``) but not call ``Model.objects``, refine a queryset (``.filter()``, ``.order_by()``,
...), build query expressions or call ``get_for_user`` itself.
tests/test_views_build_no_querysets.py enforces it.
"""
