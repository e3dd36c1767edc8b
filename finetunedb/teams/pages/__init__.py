"""The teams layer's browser pages, mirroring ``finetunedb/teams/api/``: ``teams`` (home,
sign-in and sign-up, password, team switch and create, tokens) and ``members`` (members,
leaving, invitations).

Pages parse the request and delegate: reads go through ``finetunedb.teams.selectors``, writes
through ``finetunedb.teams.services`` and ``finetunedb.teams.invitations``. Their URL table is
``pages/urls.py`` (namespace ``teams``).
"""
