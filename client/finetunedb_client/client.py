"""The client: ``Client(url, token)`` with one typed method per API route.

    from finetunedb_client import Client

    client = Client("http://127.0.0.1:8000", token="ftdb_…")   # or Client() after `finetunedb login`
    job = client.import_file(dataset_id, "train.jsonl", progress=True, wait=True)
    version = client.freeze(dataset_id, name="v1")
    df = client.export(version.id).to_pandas()

Lists come back as iterators that follow the API's ``next`` links page by page (page-numbered
lists and the keyset-paged logs alike), so ``for example in client.list_examples(7)`` walks a
million rows in bounded memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from . import config
from .annotation_api import AnnotationApi
from .capture_api import CaptureApi
from .datasets_api import DatasetsApi
from .models import Invitation, Me, Member, Resource, Team
from .semantic_api import SemanticApi
from .training_api import TrainingApi
from .transport import Transport
from .versions_api import VersionsApi


class Client(DatasetsApi, VersionsApi, TrainingApi, CaptureApi, AnnotationApi, SemanticApi):
    """``url``: the server's root; ``token``: a personal API token (or a team ingest key, which
    can only send logs). Both default to the environment (FINETUNEDB_URL, FINETUNEDB_TOKEN),
    then to what ``finetunedb login`` stored. ``max_retries``, ``backoff`` and ``max_backoff``
    shape the retries of :mod:`finetunedb_client.transport`."""

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = 60.0,
        max_retries: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        session=None,
    ):
        url, token = config.resolve(url, token)
        self.transport = Transport(
            url,
            token,
            timeout=timeout,
            max_retries=max_retries,
            backoff=backoff,
            max_backoff=max_backoff,
            session=session,
        )

    def __repr__(self) -> str:
        return f"Client({self.url!r})"

    @property
    def url(self) -> str:
        return self.transport.url

    # --- plumbing ---------------------------------------------------------------------------
    def _json(self, method: str, path: str, **kwargs) -> Any:
        return self.transport.json(method, path, **kwargs)

    def _one(self, method: str, path: str, cls: type[Resource], **kwargs):
        return cls.from_api(self._json(method, path, **kwargs), self)

    def _pages(self, path: str, cls: type[Resource], params: dict | None = None) -> Iterator:
        """Every item of a list route, following ``next`` links (a plain JSON list is one
        page). Lazily: nothing is requested until the first item is asked for."""
        url: str | None = path
        first = True
        while url:
            body = self._json("GET", url, params=params if first else None)
            first = False
            if isinstance(body, list):
                yield from (cls.from_api(item, self) for item in body)
                return
            for item in body.get("results", []):
                yield cls.from_api(item, self)
            url = body.get("next")

    # --- auth -------------------------------------------------------------------------------
    def login(self, username: str, password: str, *, name: str | None = None) -> str:
        """Exchange a username and password for a new API token, use it from now on and return
        it (``finetunedb login`` also stores it)."""
        body = {"username": username, "password": password}
        if name:
            body["name"] = name
        token = self._json("POST", "auth/token/", json=body)["token"]
        self.transport.token = token
        return token

    def me(self) -> Me:
        return self._one("GET", "me/", Me)

    # --- teams, members, invitations --------------------------------------------------------
    def list_teams(self) -> Iterator[Team]:
        return self._pages("teams/", Team)

    def create_team(self, *, name: str) -> Team:
        return self._one("POST", "teams/", Team, json={"name": name})

    def list_members(self, team_id: int) -> Iterator[Member]:
        return self._pages(f"teams/{team_id}/members/", Member)

    def invite_member(self, team_id: int, *, user: str, role: str = "viewer") -> dict:
        """Invite a username or email (202, the same answer whether or not the account
        exists); they join once they accept."""
        return self._json("POST", f"teams/{team_id}/members/", json={"user": user, "role": role})

    def set_member_role(self, team_id: int, user_id: int, *, role: str) -> Member:
        return self._one(
            "PATCH", f"teams/{team_id}/members/{user_id}/", Member, json={"role": role}
        )

    def remove_member(self, team_id: int, user_id: int) -> None:
        """Remove a member (your own id: leave the team)."""
        self.transport.request("DELETE", f"teams/{team_id}/members/{user_id}/")

    def list_team_invitations(self, team_id: int) -> Iterator[Invitation]:
        return self._pages(f"teams/{team_id}/invitations/", Invitation)

    def revoke_invitation(self, team_id: int, invitation_id: int) -> None:
        self.transport.request("DELETE", f"teams/{team_id}/invitations/{invitation_id}/")

    def list_invitations(self) -> Iterator[Invitation]:
        return self._pages("invitations/", Invitation)

    def accept_invitation(self, invitation_id: int) -> Team:
        return self._one("POST", f"invitations/{invitation_id}/accept/", Team)

    def decline_invitation(self, invitation_id: int) -> None:
        self.transport.request("POST", f"invitations/{invitation_id}/decline/")
