"""The training app's browser pages, mirroring ``training/api/``: ``runs`` (train form,
pre-flight, a run, token preview) and ``models`` (a model, comparison).

Pages parse the request and delegate: reads go through ``training.selectors``, writes through
``training.services``. Their URL table is ``pages/urls.py`` (namespace ``training``).

Views build no querysets: every read goes through the app's selectors module
(``training.selectors``, keyword-only ``<entity>_<action>`` for new reads), which holds the team
scoping; a view may evaluate what a selector returns (iterate, slice, ``.first()``, ``.count()``)
but not call ``Model.objects``, refine a queryset (``.filter()``, ``.order_by()``, ...), build
query expressions or call ``get_for_user`` itself. tests/test_views_build_no_querysets.py enforces
it.
"""
