"""Fixed personas (healthchecks style): an owner and a teammate in one team, an outsider in another.

Django-free test modules (pure algorithms, the training recipe) must keep working with
``-p no:django``, so nothing here imports Django at module import time.
"""

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

# A real S3 API on loopback (moto server): the s3_server and s3_storage fixtures.
pytest_plugins = ["tests.s3_store"]


@pytest.fixture(autouse=True)
def fresh_log_context():
    """Services called outside a request (as tests do) bind log fields such as the team id that
    a request or task would reset at its end; each test starts and ends with none."""
    from finetunedb.logs import _CONTEXT

    token = _CONTEXT.set(None)
    yield
    _CONTEXT.reset(token)


CHAT = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "What is 2+2?"},
    {"role": "assistant", "content": "4"},
]


@pytest.fixture
def make_user(db):
    from tests.factories import PASSWORD, UserFactory

    def make(username, password=PASSWORD):
        return UserFactory(username=username, password=password)

    return make


@pytest.fixture
def team_with(db):
    from tests.factories import MembershipFactory, TeamFactory

    def make(name, **members):
        team = TeamFactory(name=name)
        for role, user in members.items():
            MembershipFactory(team=team, user=user, role=role)
        return team

    return make


@pytest.fixture
def owner(make_user):
    return make_user("alice")


@pytest.fixture
def teammate(make_user):
    return make_user("bob")


@pytest.fixture
def outsider(make_user):
    return make_user("charlie")


@pytest.fixture
def team(team_with, owner, teammate):
    from tests.factories import MembershipFactory

    team = team_with("Alpha", owner=owner)
    MembershipFactory(team=team, user=teammate, role="annotator")
    return team


@pytest.fixture
def other_team(team_with, outsider):
    return team_with("Bravo", owner=outsider)


@pytest.fixture
def dataset(team, owner):
    from tests.factories import DatasetFactory

    return DatasetFactory(team=team, name="support-chats", created_by=owner)


@pytest.fixture
def other_dataset(other_team, outsider):
    from tests.factories import DatasetFactory

    return DatasetFactory(team=other_team, name="their-data", created_by=outsider)


@pytest.fixture
def make_example(db):
    from tests.factories import ExampleFactory

    def make(dataset, user, messages=None, **kwargs):
        return ExampleFactory(user=user, dataset=dataset, messages=messages or CHAT, **kwargs)

    return make


@pytest.fixture
def example(dataset, owner, make_example):
    return make_example(dataset, owner)


@pytest.fixture
def api_for(db):
    """An API client authenticated with a real hashed token of ``user``."""
    from rest_framework.test import APIClient

    from finetunedb.teams.services import api_token_create

    def make(user):
        client = APIClient()
        if user is not None:
            _, raw = api_token_create(user=user, name="tests")
            client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
        return client

    return make
