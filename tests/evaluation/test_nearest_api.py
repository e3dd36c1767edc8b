"""GET /api/v1/eval-results/{id}/nearest-training-examples/ and its page: the training examples
of the exact version the result's model was trained on, nearest first."""

import pytest

from datasets_app.models import VersionEntry
from evaluation.models import EvalResult, EvalRun
from training.models import ModelArtifact, TrainingRun

pytestmark = pytest.mark.django_db


def _result(run, version, *, example=None, passed=False):
    entries = VersionEntry.objects.filter(version=version, split="test").order_by("example_id")
    entry = entries.get(example=example) if example else entries[0]
    return EvalResult.objects.create(
        run=run,
        entry=entry,
        position=0,
        output="I think 7",
        scores={"final_number": {"value": 1.0 if passed else 0.0, "passed": passed, "detail": {}}},
    )


@pytest.fixture
def model(gsm_version):
    run = TrainingRun.objects.create(
        version=gsm_version,
        dataset_version_hash=gsm_version.content_hash,
        base_model="x",
        config={},
        status="succeeded",
    )
    return ModelArtifact.objects.create(run=run, path=f"runs/{run.pk}/model", weights_sha256="0")


@pytest.fixture
def failed(suite, model, gsm_version):
    run = EvalRun.objects.create(suite=suite, model=model, total=5, status="succeeded")
    return _result(run, gsm_version)


def url(result, query=""):
    return f"/api/v1/eval-results/{result.pk}/nearest-training-examples/{query}"


def test_it_lists_the_models_training_examples_nearest_first(api_for, owner, failed, gsm_version):
    response = api_for(owner).get(url(failed))
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["method"] == "ngram" and "TF-IDF" in body["similarity"]
    assert body["version"] == gsm_version.pk and body["split"] == "train"
    train_ids = set(
        VersionEntry.objects.filter(version=gsm_version, split="train").values_list(
            "example_id", flat=True
        )
    )
    hits = body["results"]
    assert len(hits) == 6 and {h["example"] for h in hits} == train_ids
    similarities = [h["similarity"] for h in hits]
    assert similarities == sorted(similarities, reverse=True) and 0 < similarities[-1] < 1
    assert hits[0]["edit_url"] == f"/examples/{hits[0]['example']}/edit/"
    assert hits[0]["prompt"].startswith("Tom has") and "####" in hits[0]["answer"]
    assert body["query"].startswith("Tom has")


def test_it_ranks_the_training_example_closest_to_the_prompt_first(
    api_for, owner, suite, model, dataset, make_example
):
    from datasets_app.services.versions import dataset_version_freeze

    make_example(dataset, owner, _chat("Sam bakes 12 loaves of sourdough bread"), split="train")
    make_example(dataset, owner, _chat("A ship sails at dawn"), split="train")
    twin = make_example(dataset, owner, _chat("Tom has 9 pears and eats 2"), split="train")
    asked = make_example(dataset, owner, _chat("Tom has 9 pears and eats 2 of them"), split="test")
    version = dataset_version_freeze(user=owner, dataset=dataset, name="twins")
    model.run.version = version
    model.run.save()
    run = EvalRun.objects.create(suite=suite, model=model, total=1)
    result = _result(run, version, example=asked)
    hits = api_for(owner).get(url(result, "?k=2")).json()["results"]
    assert (
        len(hits) == 2
        and hits[0]["example"] == twin.pk
        and hits[0]["similarity"] > 0.5 > hits[1]["similarity"]
    )


def _chat(question):
    return [{"role": "user", "content": question}, {"role": "assistant", "content": "#### 1"}]


def test_it_builds_the_index_once_and_reads_it_back(api_for, owner, failed, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    first = api_for(owner).get(url(failed)).json()
    saved = list((tmp_path / "eval-index").glob("*.npz"))
    assert len(saved) == 1
    stamp = saved[0].stat().st_mtime_ns
    assert api_for(owner).get(url(failed)).json() == first
    assert saved[0].stat().st_mtime_ns == stamp


def test_it_refuses_a_result_of_a_base_model_run(api_for, owner, suite, gsm_version):
    run = EvalRun.objects.create(suite=suite, base_model="tiny", total=5)
    response = api_for(owner).get(url(_result(run, gsm_version)))
    assert response.status_code == 409
    assert "trained on no dataset version" in response.json()["detail"]


@pytest.mark.parametrize(
    ("query", "path"), [("?method=bogus", "method"), ("?k=0", "k"), ("?k=x", "k")]
)
def test_it_refuses_bad_parameters_naming_them(api_for, owner, failed, query, path):
    response = api_for(owner).get(url(failed, query))
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == path


def test_it_hides_another_teams_result(api_for, outsider, failed, client):
    assert api_for(outsider).get(url(failed)).status_code == 404
    client.force_login(outsider)
    assert client.get(f"/evals/results/{failed.pk}/nearest/").status_code == 404


def test_it_links_a_failed_item_to_its_nearest_examples_on_the_run_page(client, owner, failed):
    client.force_login(owner)
    page = client.get(f"/evals/runs/{failed.run_id}/").content.decode()
    assert f"/evals/results/{failed.pk}/nearest/" in page
    nearest = client.get(f"/evals/results/{failed.pk}/nearest/")
    assert nearest.status_code == 200
    text = nearest.content.decode()
    assert "Nearest training examples" in text and "/edit/" in text and "similarity" in text


def test_it_shows_no_link_for_a_passed_item(client, owner, suite, model, gsm_version):
    run = EvalRun.objects.create(suite=suite, model=model, total=5)
    passed = _result(run, gsm_version, passed=True)
    client.force_login(owner)
    assert (
        f"/evals/results/{passed.pk}/nearest/"
        not in client.get(f"/evals/runs/{run.pk}/").content.decode()
    )


def test_it_links_the_evals_of_every_model_trained_on_a_version(client, owner, failed, model):
    client.force_login(owner)
    version_page = client.get(f"/versions/{model.run.version_id}/").content.decode()
    assert f"/versions/{model.run.version_id}/evals/" in version_page
    assert f"/models/{model.pk}/evals/" in version_page
    listing = client.get(f"/versions/{model.run.version_id}/evals/").content.decode()
    assert f"/evals/runs/{failed.run_id}/" in listing and f"model {model.pk}" in listing
    model_page = client.get(f"/models/{model.pk}/").content.decode()
    assert f"/models/{model.pk}/evals/" in model_page


def test_it_indexes_a_new_models_training_split_when_training_succeeds(model, settings, tmp_path):
    from training.hooks import run_succeeded_notify

    settings.DATA_DIR = tmp_path
    run_succeeded_notify(run_id=model.run_id, model_id=model.pk)
    [saved] = (tmp_path / "eval-index").glob("*.npz")
    assert f"version-{model.run.version_id}-" in saved.name and "-train-" in saved.name
