"""The persona fixtures, now built by tests/factories.py, make the same rows as before."""

from finetunedb.teams.models import Membership


def test_it_builds_the_personas_with_their_roles_and_passwords(team, other_team, example):
    roles = set(Membership.objects.values_list("team__name", "user__username", "role"))
    assert roles == {
        ("Alpha", "alice", "owner"),
        ("Alpha", "bob", "annotator"),
        ("Bravo", "charlie", "owner"),
    }
    alice = Membership.objects.get(role="owner", team=team).user
    assert alice.email == "alice@example.com"
    assert alice.check_password("correct horse battery staple")
    assert example.dataset.name == "support-chats" and example.dataset.team_id == team.pk
    assert example.revisions.count() == 1
