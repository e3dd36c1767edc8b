from finetunedb.teams.models import Membership, Team


def test_it_lists_only_my_teams_with_my_role(api_for, owner, team, other_team):
    response = api_for(owner).get("/api/v1/teams/")
    assert response.status_code == 200
    assert [(t["name"], t["my_role"], t["member_count"]) for t in response.json()] == [
        ("Alpha", "owner", 2)
    ]


def test_it_creates_a_team_with_the_caller_as_owner(api_for, outsider):
    response = api_for(outsider).post("/api/v1/teams/", {"name": "Gamma"}, format="json")
    assert response.status_code == 201
    team = Team.objects.get(pk=response.json()["id"])
    assert Membership.objects.get(team=team, user=outsider).role == "owner"


def test_it_lets_the_owner_invite_and_change_roles(api_for, owner, team, outsider):
    client = api_for(owner)
    url = f"/api/v1/teams/{team.pk}/members/"
    response = client.post(url, {"user": "charlie", "role": "viewer"}, format="json")
    assert response.status_code == 202
    assert not Membership.objects.filter(team=team, user=outsider).exists()
    charlie = api_for(outsider)
    (invitation,) = charlie.get("/api/v1/invitations/").json()
    assert charlie.post(f"/api/v1/invitations/{invitation['id']}/accept/").status_code == 200
    response = client.patch(f"{url}{outsider.pk}/", {"role": "curator"}, format="json")
    assert response.status_code == 200
    assert Membership.objects.get(team=team, user=outsider).role == "curator"
    usernames = [m["username"] for m in client.get(url).json()]
    assert usernames == ["alice", "bob", "charlie"]


def test_it_forbids_an_annotator_to_manage_members(api_for, teammate, team, outsider):
    response = api_for(teammate).post(
        f"/api/v1/teams/{team.pk}/members/", {"user": "charlie"}, format="json"
    )
    assert response.status_code == 403
    assert not Membership.objects.filter(user=outsider, team=team).exists()


def test_it_removes_a_member_who_then_loses_access(api_for, owner, teammate, team, dataset):
    bob = api_for(teammate)
    assert bob.get(f"/api/v1/datasets/{dataset.pk}/").status_code == 200
    response = api_for(owner).delete(f"/api/v1/teams/{team.pk}/members/?user=bob")
    assert response.status_code == 204
    assert bob.get(f"/api/v1/datasets/{dataset.pk}/").status_code == 404


def test_it_keeps_at_least_one_owner(api_for, owner, team):
    response = api_for(owner).patch(
        f"/api/v1/teams/{team.pk}/members/{owner.pk}/", {"role": "admin"}, format="json"
    )
    assert response.status_code == 409
    assert Membership.objects.get(team=team, user=owner).role == "owner"


def test_it_stops_an_admin_from_granting_owner(api_for, owner, teammate, team, outsider):
    Membership.objects.filter(user=teammate).update(role="admin")
    response = api_for(teammate).post(
        f"/api/v1/teams/{team.pk}/members/", {"user": "charlie", "role": "owner"}, format="json"
    )
    assert response.status_code == 403
    response = api_for(teammate).delete(
        f"/api/v1/teams/{team.pk}/members/", {"user": "alice"}, format="json"
    )
    assert response.status_code == 403


def test_it_hides_other_teams_members(api_for, outsider, team):
    assert api_for(outsider).get(f"/api/v1/teams/{team.pk}/members/").status_code == 404


def test_it_asks_for_someone_to_invite(api_for, owner, team):
    response = api_for(owner).post(
        f"/api/v1/teams/{team.pk}/members/", {"user": " ", "role": "viewer"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "user"
