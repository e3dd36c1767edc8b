"""Jobs on the ``training`` queue run in turns between teams, as the default queue's do
(finetunedb.leases.job_run_next): training runs, evaluations, playground requests, eval runs,
judged comparisons and embedding jobs each send a token per job, and the token runs the oldest
job of the team served least recently.
One team's ten queued runs do not hold up another team's one.

The work itself (loading a model, training) is replaced by a claim and a finish through the
lease module, so what is measured is the order the real tasks pick jobs in.
"""

from __future__ import annotations

import pytest
from celery.app import task as celery_task
from django.utils.module_loading import import_string

from evaluation import tasks as evaluation_tasks
from evaluation.services import execute as eval_execute
from evaluation.services import judging as eval_judging
from finetunedb import leases
from finetunedb.celery import app
from semantic import tasks as semantic_tasks
from semantic.services import jobs as semantic_jobs
from tests.training.conftest import chat
from training import tasks as training_tasks
from training.models import ModelArtifact, PlaygroundRequest, TrainingRun
from training.services import evaluation as training_evaluation
from training.services import execute as training_execute
from training.services import runs

pytestmark = pytest.mark.django_db

# kind name → (its Celery task, the module and name of the service that task calls)
TASKS = {
    "training run": (training_tasks.training_run_execute, training_execute, "training_run_execute"),
    "evaluation": (training_tasks.model_evaluate, training_evaluation, "model_evaluate"),
    "playground request": (
        training_tasks.playground_request_run,
        training_evaluation,
        "playground_request_run",
    ),
    "eval run": (evaluation_tasks.eval_run_execute, eval_execute, "eval_run_execute"),
    "judged comparison": (
        evaluation_tasks.judged_comparison_execute,
        eval_judging,
        "judged_comparison_execute",
    ),
    "embedding job": (semantic_tasks.embedding_job_run, semantic_jobs, "embedding_job_run"),
}


def _kind(name: str) -> leases.JobKind:
    return {k.name: k for k in leases.kinds_registered()}[name]


@pytest.fixture
def ran(monkeypatch):
    """Each kind's service replaced by a claim and a finish; the pks in the order claimed."""
    order: list[tuple[str, int]] = []
    for name, (_task, module, service) in TASKS.items():
        kind = _kind(name)

        def claim_and_finish(*, kind=kind, **ids):
            (pk,) = ids.values()
            attempt = leases.lease_claim(kind, pk=pk)
            if attempt is None:
                return
            order.append((kind.name, pk))
            leases.lease_finish(kind, pk=pk, attempt=attempt, status=kind.failed)

        monkeypatch.setattr(module, service, claim_and_finish)
    return order


def _deliver(name: str, tokens: list[int]) -> None:
    """What the training worker does: each token in the order it was sent, through its task."""
    task = TASKS[name][0]
    for pk in tokens:
        task.apply(args=[pk])


def _freeze(dataset, user, make_example, label: str):
    from datasets_app.services.versions import dataset_version_freeze

    for i, split in enumerate(["train"] * 4 + ["test"] * 2):
        make_example(dataset, user, chat(i), split=split)
    return dataset_version_freeze(user=user, dataset=dataset, name=label)


@pytest.fixture
def versions(dataset, owner, other_dataset, outsider, make_example):
    """A frozen version of each team: ``{"A": (user, version), "B": (user, version)}``."""
    return {
        "A": (owner, _freeze(dataset, owner, make_example, "a")),
        "B": (outsider, _freeze(other_dataset, outsider, make_example, "b")),
    }


def _make(name: str, team: str, versions) -> int:
    """A queued job of kind ``name`` for team A or B, written as its service writes it."""
    user, version = versions[team]
    if name == "embedding job":
        from semantic.models import EmbeddingJob

        return EmbeddingJob.objects.create(
            dataset=version.dataset, created_by=user, model_name="tiny"
        ).pk
    run = TrainingRun.objects.create(
        version=version,
        dataset_version_hash=version.content_hash,
        base_model="tiny",
        config={},
        created_by=user,
        status="queued" if name == "training run" else "succeeded",
    )
    if name == "training run":
        return run.pk
    model = ModelArtifact.objects.create(run=run, path=f"runs/{run.pk}/model", weights_sha256="0")
    if name == "evaluation":
        return model.pk
    if name == "playground request":
        return PlaygroundRequest.objects.create(
            model=model, messages=[{"role": "user", "content": "hi"}], created_by=user
        ).pk
    from evaluation.models import EvalRun
    from evaluation.services.suites import eval_suite_create

    ModelArtifact.objects.filter(pk=model.pk).update(eval_status="succeeded")
    suite = eval_suite_create(
        user=user,
        team=version.dataset.team,
        version=version,
        name=f"suite {team} {run.pk}",
        evaluators=[{"type": "exact_match"}],
    )
    if name == "eval run":
        return EvalRun.objects.create(suite=suite, model=model, total=2, created_by=user).pk
    from evaluation.judged_models import JudgedComparison

    run_a, run_b = (
        EvalRun.objects.create(suite=suite, model=model, status="succeeded") for _ in range(2)
    )
    return JudgedComparison.objects.create(
        run=run_a, against=run_b, judge="stub", rubric="r", seed=1, total=2, created_by=user
    ).pk


@pytest.mark.parametrize("name", sorted(TASKS))
def test_it_runs_another_teams_job_second_behind_ten_of_one_team(name, ran, versions):
    mine = [_make(name, "A", versions) for _ in range(10)]
    theirs = _make(name, "B", versions)

    _deliver(name, [*mine, theirs])  # tokens in the order the jobs were queued

    assert [pk for kind, pk in ran if kind == name] == [mine[0], theirs, *mine[1:]]


def test_it_runs_another_teams_launch_second_behind_ten_launches_of_one_team(
    api_for,
    ran,
    versions,
    training_settings,
    tiny_model_dir,
    tiny_hyperparameters,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    """Through the API as people launch: team A launches ten runs, then team B one."""
    training_settings.FINETUNEDB_MAX_ACTIVE_RUNS_PER_TEAM = 20
    tokens: list[int] = []
    monkeypatch.setattr(runs, "training_run_enqueue", tokens.append)
    body = {"base_model": str(tiny_model_dir), "hyperparameters": tiny_hyperparameters}

    def launch(team: str) -> int:
        user, version = versions[team]
        url = f"/api/v1/versions/{version.pk}/training-runs/"
        with django_capture_on_commit_callbacks(execute=True):
            response = api_for(user).post(url, body, format="json")
        assert response.status_code == 201, response.json()
        return response.json()["id"]

    mine = [launch("A") for _ in range(10)]
    theirs = launch("B")
    assert tokens == [*mine, theirs]  # one token per run, sent on commit

    _deliver("training run", tokens)

    assert [pk for _kind, pk in ran] == [mine[0], theirs, *mine[1:]]


def test_it_runs_every_job_kind_of_the_training_queue_in_turns(db, monkeypatch):
    """The rule in finetunedb/leases.py for the training queue: each kind whose task goes there
    names its team, so its token takes turns between teams."""
    sent: list[str] = []
    monkeypatch.setattr(
        celery_task.Task, "apply_async", lambda self, *a, **k: sent.append(self.name)
    )
    on_training = []
    for kind in leases.kinds_registered():
        sent.clear()
        import_string(kind.enqueue)(0)  # the real enqueue, sending replaced by recording
        if sent and app.amqp.router.route({}, sent[0])["queue"].name == "training":
            on_training.append(kind)
    assert {k.name for k in on_training} == set(TASKS)
    assert [k.name for k in on_training if k.team is None] == []
