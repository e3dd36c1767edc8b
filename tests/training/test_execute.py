"""The worker side, in-process on CPU with the tiny model: a whole run, the lease, the hash
check, cancellation, failures with readable reasons, lineage, evaluation and the playground."""

from datetime import timedelta

import pytest
from django.utils import timezone

from training.models import EvalStatus, ModelArtifact, RunStatus, TrainingRun
from training.recipe import artifacts
from training.services import evaluation, execute
from training.services.base_models import models_dir, run_dir

pytestmark = pytest.mark.django_db


def test_it_trains_a_model_and_records_its_lineage(queued_run, version, api_for, owner):
    run = queued_run()
    execute.training_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.failure_reason
    assert run.step == run.total_steps == 8  # 8 train examples / batch 2 × 2 epochs
    assert [p["step"] for p in run.metrics] == list(range(1, 9))
    assert run.evals and run.evals[-1]["step"] == 8
    assert run.device == "cpu" and run.library_versions["torch"]
    assert run.plan["examples"] == 8 and run.attempts == 1

    model = ModelArtifact.objects.get(run=run)
    folder = models_dir() / model.path
    assert model.path == f"runs/{run.pk}/model" and artifacts.verify(folder)
    assert model.weights_sha256 == artifacts.read_manifest(folder)["weights_sha256"]
    assert model.manifest["lineage"]["dataset_version_id"] == version.pk
    assert model.manifest["lineage"]["dataset_version_hash"] == version.content_hash
    assert version.content_hash in model.model_card
    assert not (run_dir(run.pk) / "checkpoints").exists()

    body = api_for(owner).get(f"/api/v1/models/{model.pk}/").json()
    assert body["lineage"] == {
        "model": model.pk,
        "training_run": run.pk,
        "dataset_version": version.pk,
        "dataset_version_number": version.number,
        "dataset_version_hash": version.content_hash,
        "dataset": version.dataset_id,
    }
    assert "base_path" not in body["manifest"]
    run_body = api_for(owner).get(f"/api/v1/training-runs/{run.pk}/").json()
    assert run_body["model"] == model.pk and run_body["status"] == "succeeded"

    # Evaluation: base against fine-tuned on the test split, stored on the model.
    evaluation.model_evaluate(model_id=model.pk)
    model.refresh_from_db()
    assert model.eval_status == EvalStatus.DONE, model.eval_error
    results = model.eval_results
    assert results["split"] == "test" and results["records"] == 2
    assert results["base"]["tokens"] == results["finetuned"]["tokens"] > 0
    assert results["finetuned"]["loss"] < results["base"]["loss"]
    assert len(results["samples"]) == 1 and "finetuned" in results["samples"][0]

    # Playground: queued by the API, answered by the worker task (eager here), polled.
    client = api_for(owner)
    messages = [{"role": "user", "content": "What is 2 + 3?"}]
    job = client.post(
        f"/api/v1/models/{model.pk}/playground/", {"messages": messages}, format="json"
    )
    assert job.status_code == 202, job.json()
    polled = client.get(f"/api/v1/playground/{job.json()['id']}/").json()
    if polled["status"] == "queued":  # on_commit does not fire inside the test transaction
        evaluation.playground_request_run(request_id=polled["id"])
        polled = client.get(f"/api/v1/playground/{polled['id']}/").json()
    assert polled["status"] == "done", polled
    assert set(polled["answers"]) == {"base", "finetuned"}

    # Two sampled answers of the fine-tuned model at two seeds (issue 20), in process.
    body = {"messages": messages, "seeds": [1, 2], "temperature": 1.5}
    seeded = client.post(f"/api/v1/models/{model.pk}/playground/", body, format="json").json()
    evaluation.playground_request_run(request_id=seeded["id"])
    seeded = client.get(f"/api/v1/playground/{seeded['id']}/").json()
    assert seeded["status"] == "done", seeded
    assert set(seeded["answers"]) == {"a", "b"} and seeded["sampling"]["seeds"] == [1, 2]


def test_it_does_nothing_when_redelivered_while_the_lease_is_held(queued_run):
    run = queued_run()
    assert execute._claim(run.pk) == 1
    execute.training_run_execute(run_id=run.pk)  # the redelivery
    run.refresh_from_db()
    assert (run.status, run.attempts, run.step) == ("running", 1, 0)
    assert not ModelArtifact.objects.exists()
    assert execute.training_runs_recover() == 0

    TrainingRun.objects.filter(pk=run.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    execute.training_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "succeeded" and run.attempts == 2
    assert ModelArtifact.objects.filter(run=run).count() == 1


def test_it_refuses_a_version_whose_hash_does_not_match(queued_run):
    run = queued_run()
    TrainingRun.objects.filter(pk=run.pk).update(dataset_version_hash="0" * 64)
    execute.training_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "failed" and "no longer matches its hash" in run.failure_reason
    assert run.step == 0 and not ModelArtifact.objects.exists()


def test_it_recomputes_the_version_hash_from_the_revisions(version):
    from training.services.records import version_hash_recompute

    assert version_hash_recompute(version) == version.content_hash


def test_it_fails_with_a_readable_reason_when_the_recipe_raises(queued_run, monkeypatch):
    from training.recipe import loop
    from training.recipe.reporter import ERR_OOM, TrainingOutOfMemory

    def oom(self):
        raise TrainingOutOfMemory(ERR_OOM.format(detail="tried to allocate 2 GiB"))

    monkeypatch.setattr(loop.TrainingRecipe, "train", oom)
    run = queued_run()
    execute.training_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "failed" and run.finished_at is not None
    assert "ran out of memory" in run.failure_reason
    assert "gradient_accumulation_steps" in run.failure_reason
    assert run.log_tail[-1].endswith(run.failure_reason)

    def crash(self):
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied\nstack…")

    monkeypatch.setattr(loop.TrainingRecipe, "train", crash)
    second = queued_run()
    execute.training_run_execute(run_id=second.pk)
    second.refresh_from_db()
    assert second.status == "failed"
    assert second.failure_reason == execute.CRASHED.format(
        kind="RuntimeError", detail="mat1 and mat2 shapes cannot be multiplied"
    )


def test_it_fails_when_every_example_is_too_long(queued_run):
    run = queued_run(max_seq_len=16)
    execute.training_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "failed" and "no training example is left" in run.failure_reason


def test_it_stops_a_cancelled_run_between_steps(queued_run, cancel_at_step):
    run = queued_run()
    cancel_at_step(3)
    execute.training_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "cancelled" and run.step == 3
    assert not ModelArtifact.objects.exists()


def test_it_gives_up_after_too_many_interruptions(queued_run):
    run = queued_run()
    TrainingRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING,
        attempts=execute.MAX_ATTEMPTS,
        lease_expires_at=timezone.now() - timedelta(seconds=1),
    )
    assert execute.training_runs_recover() == 1
    execute.training_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "failed" and "interrupted 3 times" in run.failure_reason


def test_it_lists_the_models_of_an_example_and_of_a_version(
    queued_run, api_for, owner, version, dataset, make_example, teammate
):
    run = queued_run()
    execute.training_run_execute(run_id=run.pk)
    model = ModelArtifact.objects.get(run=run)
    held = version.entries.first().example_id
    later = make_example(
        dataset,
        owner,
        [{"role": "user", "content": "new"}, {"role": "assistant", "content": "one"}],
    )
    client = api_for(teammate)  # readers see lineage
    assert [m["id"] for m in client.get(f"/api/v1/examples/{held}/models/").json()["results"]] == [
        model.pk
    ]
    assert client.get(f"/api/v1/examples/{later.pk}/models/").json()["results"] == []
    listed = client.get(f"/api/v1/versions/{version.pk}/models/").json()["results"]
    assert [m["id"] for m in listed] == [model.pk] and listed[0]["version"] == version.pk
