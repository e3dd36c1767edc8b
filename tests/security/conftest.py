"""A team with one member of every role, and one object of every kind in it."""

import pytest

ROLES = ("owner", "admin", "curator", "annotator", "viewer")


@pytest.fixture
def members(team, owner, teammate, make_user):
    """role → user in ``team`` (the owner persona is the owner, bob the annotator)."""
    from finetunedb.teams.models import Membership

    out = {"owner": owner, "annotator": teammate}
    for role in ("admin", "curator", "viewer"):
        user = make_user(f"{role}-user")
        Membership.objects.create(team=team, user=user, role=role)
        out[role] = user
    return out


@pytest.fixture
def objects(team, dataset, example, owner):
    from tests.security.world import build_objects

    return build_objects(team=team, dataset=dataset, example=example, owner=owner)


@pytest.fixture
def theirs(other_team, other_dataset, outsider, make_example):
    """The same world for team Bravo (owner: charlie), for ids smuggled into our requests."""
    from tests.security.world import build_objects

    example = make_example(other_dataset, outsider)
    return build_objects(team=other_team, dataset=other_dataset, example=example, owner=outsider)


def snapshot(model, **filters) -> list[dict]:
    """Every column of the matching rows, to prove a refused request changed nothing."""
    return list(model.objects.filter(**filters).order_by("pk").values())
