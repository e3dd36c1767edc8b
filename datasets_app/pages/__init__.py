"""The datasets app's browser pages, one module per topic, mirroring ``datasets_app/api/``.

Pages parse the request and delegate: reads go through ``datasets_app.selectors`` (team scoping
included), writes through ``datasets_app.services``. Their URL table is ``pages/urls.py``
(namespace ``datasets``). Helpers the pages share but that are not views (the editor's form
state, keyset pagination, markdown rendering, the home panel) live in ``datasets_app/workspace/``.
"""
