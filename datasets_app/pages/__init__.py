"""The datasets app's browser pages, one module per topic, mirroring ``datasets_app/api/``.

Pages parse the request and delegate: reads go through ``datasets_app.selectors`` (team scoping
included), writes through ``datasets_app.services``. Their URL table is ``pages/urls.py``
(namespace ``datasets``). Helpers the pages share but that are not views (the editor's form
state, keyset pagination, markdown rendering, the home panel) live in ``datasets_app/workspace/``.

Views build no querysets: every read goes through the app's selectors module
(``datasets_app.selectors``, keyword-only ``<entity>_<action>`` for new reads), which holds the
team scoping; a view may evaluate what a selector returns (iterate, slice, ``.first()``,
``.count()``) but not call ``Model.objects``, refine a queryset (``.filter()``, ``.order_by()``,
...), build query expressions or call ``get_for_user`` itself.
tests/test_views_build_no_querysets.py enforces it.
"""
