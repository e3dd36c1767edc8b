"""Datasets API (DESIGN §6): datasets, examples, imports and exports, versions, checks, dedup,
splits; one module per topic, mirroring ``datasets_app/pages/``, one class per route, small
nested serializers. Views parse and delegate: writes go through ``datasets_app.services``.
Routes: ``api/urls.py`` (joined into the ``api`` namespace by ``finetunedb/api_urls.py``).

Views build no querysets: every read goes through the app's selectors module
(``datasets_app.selectors``, keyword-only ``<entity>_<action>`` for new reads), which holds the
team scoping; a view may evaluate what a selector returns (iterate, slice, ``.first()``,
``.count()``) but not call ``Model.objects``, refine a queryset (``.filter()``, ``.order_by()``,
...), build query expressions or call ``get_for_user`` itself.
tests/test_views_build_no_querysets.py enforces it.
"""
