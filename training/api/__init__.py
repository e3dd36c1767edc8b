"""Training API (DESIGN §6): runs, models, pre-flight, playground, mirroring ``training/pages/``.
Views parse and delegate: writes go through ``training.services``. Routes: ``api/urls.py``
(joined into the ``api`` namespace by ``finetunedb/api_urls.py``).

Views build no querysets: every read goes through the app's selectors module
(``training.selectors``, keyword-only ``<entity>_<action>`` for new reads), which holds the team
scoping; a view may evaluate what a selector returns (iterate, slice, ``.first()``, ``.count()``)
but not call ``Model.objects``, refine a queryset (``.filter()``, ``.order_by()``, ...), build
query expressions or call ``get_for_user`` itself. tests/test_views_build_no_querysets.py enforces
it.
"""
