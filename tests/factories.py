"""factory_boy factories for the personas' data (used by the fixtures in tests/conftest.py).

Models are named by label ("teams.Team"), so importing this module loads no model; the fixtures
import it inside their bodies, keeping Django-free test modules working with ``-p no:django``.
Every factory creates through the same path as the app: users with ``create_user`` (a hashed
password), examples with the ``example_create`` service (validation, first revision, checks).
"""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

PASSWORD = "correct horse battery staple"
CHAT = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "What is 2+2?"},
    {"role": "assistant", "content": "4"},
]


class UserFactory(DjangoModelFactory):
    class Meta:
        model = "auth.User"

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = PASSWORD

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return model_class.objects.create_user(*args, **kwargs)


class TeamFactory(DjangoModelFactory):
    class Meta:
        model = "teams.Team"

    name = factory.Sequence(lambda n: f"Team {n}")


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = "teams.Membership"

    team = factory.SubFactory(TeamFactory)
    user = factory.SubFactory(UserFactory)
    role = "owner"


class DatasetFactory(DjangoModelFactory):
    class Meta:
        model = "datasets_app.Dataset"

    team = factory.SubFactory(TeamFactory)
    name = factory.Sequence(lambda n: f"dataset-{n}")
    created_by = factory.SubFactory(UserFactory)


class ExampleFactory(factory.Factory):
    """An example created by ``user`` through ``example_create`` (so the user needs a role that
    may annotate in the dataset's team); extra keywords are its annotations."""

    class Meta:
        model = dict  # replaced by _create: examples are made by the service

    dataset = factory.SubFactory(DatasetFactory)
    user = factory.SelfAttribute("dataset.created_by")
    messages = factory.LazyFunction(lambda: [dict(m) for m in CHAT])

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from datasets_app.services.examples import example_create

        return example_create(*args, **kwargs)
