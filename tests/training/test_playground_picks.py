"""Playground picks become preference examples (issue 20): the better of the base's and the
fine-tuned model's answers, or an edit of it, saved as chosen with the other as rejected, into a
dataset of the model's team, naming who picked and both models; duplicates skipped; refused
with a clear error for another team's dataset, an unanswered conversation or a bad winner."""

import pytest

from datasets_app.models import Example
from tests.factories import DatasetFactory
from training.models import ModelArtifact, PlaygroundRequest, TrainingRun

pytestmark = pytest.mark.django_db

PROMPT = [{"role": "user", "content": "What is the capital of France?"}]


@pytest.fixture
def pick(version):
    run = TrainingRun.objects.create(
        version=version,
        dataset_version_hash=version.content_hash,
        base_model="bundled:SmolLM2-135M-Instruct",
        config={},
        status="succeeded",
    )
    model = ModelArtifact.objects.create(run=run, path=f"runs/{run.pk}/model", weights_sha256="0")
    return PlaygroundRequest.objects.create(
        model=model,
        messages=PROMPT,
        status="done",
        answers={"base": "Lyon, I believe.", "finetuned": "Paris."},
    )


@pytest.fixture
def prefs(team, owner):
    return DatasetFactory(team=team, name="prefs", created_by=owner)


def url(pick):
    return f"/api/v1/playground/{pick.pk}/pick/"


def test_it_saves_the_pick_in_the_importers_preference_shape(api_for, owner, pick, prefs):
    body = {"dataset": prefs.pk, "winner": "finetuned"}
    response = api_for(owner).post(url(pick), body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["skipped_duplicates"] == 0
    example = Example.objects.get(pk=response.json()["created"][0])
    revision = example.current_revision
    assert revision.messages == [*PROMPT, {"role": "assistant", "content": "Paris."}]
    metadata = revision.metadata
    assert metadata["rejected"] == [{"role": "assistant", "content": "Lyon, I believe."}]
    assert metadata["picked_by"] == owner.username and metadata["source"] == "playground"
    assert metadata["chosen_model"] == f"ftdb-model-{pick.model_id}"
    assert metadata["rejected_model"] == "bundled:SmolLM2-135M-Instruct"
    assert metadata["chosen_edited"] is False and example.source_format == "playground"
    again = api_for(owner).post(url(pick), body, format="json")
    assert again.status_code == 201
    assert again.json() == {"created": [], "skipped_duplicates": 1}


def test_it_saves_an_edited_answer_as_chosen(api_for, owner, pick, prefs):
    body = {"dataset": prefs.pk, "winner": "finetuned", "chosen": "Paris, on the Seine."}
    response = api_for(owner).post(url(pick), body, format="json")
    assert response.status_code == 201
    example = Example.objects.get(pk=response.json()["created"][0])
    assert example.current_revision.messages[-1]["content"] == "Paris, on the Seine."
    assert example.current_revision.metadata["chosen_edited"] is True


@pytest.mark.parametrize(
    "body, path",
    [
        ({"winner": "finetuned"}, "dataset"),
        ({"winner": "both"}, "winner"),
        ({"winner": "base", "chosen": "Paris."}, "chosen"),  # the same as the rejected answer
    ],
)
def test_it_refuses_bad_picks_naming_the_field(api_for, owner, pick, prefs, body, path):
    body = {"dataset": prefs.pk, **body} if path != "dataset" else body
    response = api_for(owner).post(url(pick), body, format="json")
    assert response.status_code == 400
    assert path in str(response.json())
    assert not Example.objects.filter(dataset=prefs).exists()


def test_it_refuses_an_unanswered_conversation(api_for, owner, pick, prefs):
    PlaygroundRequest.objects.filter(pk=pick.pk).update(status="running", answers={})
    body = {"dataset": prefs.pk, "winner": "base"}
    assert api_for(owner).post(url(pick), body, format="json").status_code == 409


def test_it_scopes_the_conversation_and_the_dataset_to_the_team(
    api_for, owner, teammate, outsider, pick, prefs, other_dataset
):
    body = {"dataset": prefs.pk, "winner": "base"}
    # another team's conversation, another team's dataset: 404, as if they did not exist
    assert api_for(outsider).post(url(pick), body, format="json").status_code == 404
    other = {"dataset": other_dataset.pk, "winner": "base"}
    assert api_for(owner).post(url(pick), other, format="json").status_code == 404
    # an annotator may see the conversation but not curate the dataset
    assert api_for(teammate).post(url(pick), body, format="json").status_code == 403
    assert not Example.objects.filter(dataset__in=[prefs, other_dataset]).exists()


def test_it_saves_a_pick_from_the_model_page(client, owner, pick, prefs):
    client.force_login(owner)
    page = client.get(f"/models/{pick.model_id}/").content.decode()
    assert f'action="/playground/{pick.pk}/pick/"' in page and "Save pair" in page
    response = client.post(
        f"/playground/{pick.pk}/pick/", {"dataset": prefs.pk, "winner": "base"}, follow=True
    )
    assert "Saved as a preference example of prefs" in response.content.decode()
    saved = Example.objects.get(dataset=prefs).current_revision
    assert saved.messages[-1]["content"] == "Lyon, I believe."
    refused = client.post(
        f"/playground/{pick.pk}/pick/",
        {"dataset": prefs.pk, "winner": "finetuned", "chosen": "Lyon, I believe."},
        follow=True,
    )
    assert "same as the rejected one" in refused.content.decode()


@pytest.fixture
def seeded(pick):
    return PlaygroundRequest.objects.create(
        model=pick.model,
        messages=PROMPT,
        status="done",
        sampling={"temperature": 0.8, "seeds": [7, 11]},
        answers={"a": "Paris, of course.", "b": "Marseille."},
    )


def test_it_saves_a_pick_between_two_seeds_of_one_model_with_both_seeds(
    api_for, owner, seeded, prefs
):
    response = api_for(owner).post(url(seeded), {"dataset": prefs.pk, "winner": "b"}, format="json")
    assert response.status_code == 201, response.json()
    revision = Example.objects.get(pk=response.json()["created"][0]).current_revision
    assert revision.messages[-1] == {"role": "assistant", "content": "Marseille."}
    metadata = revision.metadata
    assert metadata["rejected"] == [{"role": "assistant", "content": "Paris, of course."}]
    model = f"ftdb-model-{seeded.model_id}"
    assert (metadata["chosen_model"], metadata["rejected_model"]) == (model, model)
    assert (metadata["chosen_seed"], metadata["rejected_seed"]) == (11, 7)
    assert metadata["temperature"] == 0.8


def test_it_refuses_base_or_finetuned_as_the_winner_of_two_seeds(api_for, owner, seeded, prefs):
    response = api_for(owner).post(
        url(seeded), {"dataset": prefs.pk, "winner": "base"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "winner"
    assert "a or b" in response.json()["errors"][0]["message"]
    assert not Example.objects.filter(dataset=prefs).exists()


def test_it_queues_two_sampled_answers_and_refuses_bad_seeds(api_for, owner, pick):
    api = api_for(owner)
    route = f"/api/v1/models/{pick.model_id}/playground/"
    body = {"messages": PROMPT, "seeds": [3, 4], "temperature": 0.7}
    queued = api.post(route, body, format="json")
    assert queued.status_code == 202, queued.json()
    assert queued.json()["sampling"] == {"temperature": 0.7, "seeds": [3, 4]}
    before = PlaygroundRequest.objects.count()
    for bad, path in (
        ({"seeds": [3, 3], "temperature": 0.7}, "seeds"),
        ({"seeds": [3], "temperature": 0.7}, "seeds"),
        ({"seeds": [3, -1], "temperature": 0.7}, "seeds"),
        ({"seeds": [3, 4]}, "temperature"),
        ({"seeds": [3, 4], "temperature": 0}, "temperature"),
        ({"temperature": 0.7}, "temperature"),
    ):
        response = api.post(route, {"messages": PROMPT, **bad}, format="json")
        assert response.status_code == 400, bad
        assert response.json()["errors"][0]["path"] == path, response.json()
    assert PlaygroundRequest.objects.count() == before


def test_it_asks_for_two_seeds_from_the_model_page(client, owner, pick):
    client.force_login(owner)
    page = client.get(f"/models/{pick.model_id}/").content.decode()
    assert 'name="seed_a"' in page and 'value="seeds"' in page
    client.post(
        f"/models/{pick.model_id}/",
        {
            "prompt": "Name a city.",
            "mode": "seeds",
            "temperature": "0.9",
            "seed_a": "5",
            "seed_b": "6",
        },
    )
    made = PlaygroundRequest.objects.latest("pk")
    assert made.sampling == {"temperature": 0.9, "seeds": [5, 6]}
    refused = client.post(
        f"/models/{pick.model_id}/",
        {
            "prompt": "Name a city.",
            "mode": "seeds",
            "temperature": "0.9",
            "seed_a": "5",
            "seed_b": "5",
        },
        follow=True,
    )
    assert "seeds: two different whole numbers" in refused.content.decode()
    assert PlaygroundRequest.objects.latest("pk") == made
