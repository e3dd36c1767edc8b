from datasets_app.models import Dataset


def test_it_creates_a_dataset_in_my_team(api_for, owner, team):
    response = api_for(owner).post(
        "/api/v1/datasets/", {"team": team.pk, "name": "faq", "description": "d"}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["team"] == team.pk
    assert body["settings"]["target_context_tokens"] == 4096
    assert Dataset.objects.filter(team=team, name="faq").exists()


def test_it_answers_404_for_a_dataset_in_another_teams_team_field(api_for, outsider, team):
    response = api_for(outsider).post(
        "/api/v1/datasets/", {"team": team.pk, "name": "sneaky"}, format="json"
    )
    assert response.status_code == 404
    assert not Dataset.objects.filter(name="sneaky").exists()


def test_it_forbids_an_annotator_to_create_datasets(api_for, teammate, team):
    response = api_for(teammate).post(
        "/api/v1/datasets/", {"team": team.pk, "name": "x"}, format="json"
    )
    assert response.status_code == 403


def test_it_refuses_a_duplicate_name_with_409(api_for, owner, dataset):
    response = api_for(owner).post(
        "/api/v1/datasets/", {"team": dataset.team_id, "name": dataset.name}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["errors"][0]["path"] == "name"


def test_it_lists_and_filters_by_team(api_for, owner, dataset, other_dataset):
    client = api_for(owner)
    assert [d["name"] for d in client.get("/api/v1/datasets/").json()["results"]] == [
        "support-chats"
    ]
    assert client.get(f"/api/v1/datasets/?team={other_dataset.team_id}").json()["results"] == []


def test_it_updates_name_and_validates_settings(api_for, owner, dataset):
    client = api_for(owner)
    response = client.patch(
        f"/api/v1/datasets/{dataset.pk}/",
        {"name": "renamed", "settings": {"target_context_tokens": 8192}},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["settings"]["target_context_tokens"] == 8192
    response = client.patch(
        f"/api/v1/datasets/{dataset.pk}/",
        {"settings": {"token_encoding": "gpt2", "bogus": 1}},
        format="json",
    )
    assert response.status_code == 400
    assert {e["path"] for e in response.json()["errors"]} == {
        "settings.token_encoding",
        "settings.bogus",
    }


def test_it_lets_only_admins_delete(api_for, owner, teammate, dataset):
    assert api_for(teammate).delete(f"/api/v1/datasets/{dataset.pk}/").status_code == 403
    assert api_for(owner).delete(f"/api/v1/datasets/{dataset.pk}/").status_code == 204
    assert not Dataset.objects.filter(pk=dataset.pk).exists()


def test_it_ignores_read_only_fields_on_create(api_for, owner, team, other_team):
    response = api_for(owner).post(
        "/api/v1/datasets/",
        {
            "team": team.pk,
            "name": "n",
            "id": 999,
            "created_by": 12,
            "created_at": "2000-01-01T00:00:00Z",
        },
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["id"] != 999
