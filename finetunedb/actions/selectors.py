"""Reads of action jobs, with team scoping: the actions app's pages and API, and the pages of
the apps that start actions, reach a job only through here."""

from __future__ import annotations

from finetunedb.teams.scoping import get_for_user

from .models import ACTIVE, ActionJob


def action_job_get_for_user(user, job_id) -> ActionJob:
    """A job of one of the caller's teams; anything else is a 404."""
    return get_for_user(ActionJob.objects.all(), user, pk=job_id)


def action_job_active(*, team_id: int, key: str) -> ActionJob | None:
    """The job queued or running on ``key`` in the team, if any: the page it was started from
    shows its progress too."""
    return ActionJob.objects.filter(team_id=team_id, key=key, status__in=ACTIVE).first()
