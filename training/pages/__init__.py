"""The training app's browser pages, mirroring ``training/api/``: ``runs`` (train form,
pre-flight, a run, token preview) and ``models`` (a model, comparison).

Pages parse the request and delegate: reads go through ``training.selectors``, writes through
``training.services``. Their URL table is ``pages/urls.py`` (namespace ``training``).
"""
