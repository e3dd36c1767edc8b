"""One object of every team-owned kind, for the route walks: ids by path-parameter name."""

import uuid

from datasets_app.models import (
    DedupJob,
    DuplicateCluster,
    DuplicateClusterMember,
    ImportJob,
)
from finetunedb.actions.models import ActionJob
from semantic.models import CoverageTarget, EmbeddingJob


def build_objects(*, team, dataset, example, owner) -> dict:
    """Create a version, a restore, an import, a dedup job with a cluster, a training run with
    its model, a playground request, an eval suite and an eval run under ``dataset`` and return
    their ids."""
    from datasets_app.services.versions import dataset_version_freeze, dataset_version_restore

    version = dataset_version_freeze(user=owner, dataset=dataset, name="v1")
    restore = dataset_version_restore(user=owner, version=version)
    job = ImportJob.objects.create(
        dataset=dataset, stored_name=uuid.uuid4().hex, has_error_report=True
    )
    dedup_job = DedupJob.objects.create(dataset=dataset, method="exact")
    embedding_job = EmbeddingJob.objects.create(dataset=dataset, model_name="all-MiniLM-L6-v2")
    coverage_target = CoverageTarget.objects.create(
        dataset=dataset, kind="tag", value="refunds", mode="min", share=20
    )
    cluster = DuplicateCluster.objects.create(
        dataset=dataset,
        job=dedup_job,
        method="exact",
        fields="conversation",
        threshold=1.0,
        min_similarity=1.0,
        max_similarity=1.0,
        size=1,
    )
    DuplicateClusterMember.objects.create(cluster=cluster, example=example, similarity=1.0)
    run, model, playground = training_objects(version)
    action_job = ActionJob.objects.create(
        team=team, created_by=owner, action="split", key=uuid.uuid4().hex, title="Splitting"
    )
    member, invitation = membership_objects(team, owner)
    suite, eval_run = evaluation_objects(team, version, model)
    eval_result = eval_result_object(eval_run, version)
    log = capture_objects(team)
    review = pairwise_review_object(eval_run, version)
    comparison = judged_comparison_object(review)
    assignment, item = annotation_objects(dataset, example, owner)
    endpoint, delivery = webhook_objects(team)
    return {
        "endpoint_id": endpoint.pk,
        "delivery_id": delivery.pk,
        "assignment_id": assignment.pk,
        "item_id": item.pk,
        "user_id": member.pk,
        "invitation_id": invitation.pk,
        "run_id": run.pk,
        "model_id": model.pk,
        "playground_id": playground.pk,
        "team_id": team.pk,
        "dataset_id": dataset.pk,
        "example_id": example.pk,
        "import_id": job.pk,
        "version_id": version.pk,
        "restore_id": restore.pk,
        "dedup_job_id": dedup_job.pk,
        "embedding_job_id": embedding_job.pk,
        "coverage_target_id": coverage_target.pk,
        "cluster_id": cluster.pk,
        "job_id": action_job.pk,
        "suite_id": suite.pk,
        "eval_run_id": eval_run.pk,
        "review_id": review.pk,
        "comparison_id": comparison.pk,
        "result_id": eval_result.pk,
        "log_id": log.pk,
    }


def annotation_objects(dataset, example, owner):
    """An assignment of ``example`` to the owner, and the owner's item in it."""
    from annotation.services.assignments import assignment_create

    assignment = assignment_create(
        user=owner, dataset=dataset, annotator_ids=[owner.pk], overlap=1, example_ids=[example.pk]
    )
    return assignment, assignment.items.get()


def webhook_objects(team):
    """A webhook endpoint of ``team`` and one delivery to it (rows only: nothing is sent)."""
    from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
    from webhooks.signing import message_id_new, secret_generate

    endpoint = WebhookEndpoint.objects.create(
        team=team, url="http://8.8.8.8/hook", events=["version.frozen"], secret=secret_generate()
    )
    event = WebhookEvent.objects.create(
        team=team, message_id=message_id_new(), type="version.frozen", payload={"type": "x"}
    )
    return endpoint, WebhookDelivery.objects.create(endpoint=endpoint, event=event)


def capture_objects(team):
    """One captured log of ``team``."""
    from capture.services.logs import log_batch_create

    ids = log_batch_create(
        team=team,
        entries=[
            {
                "messages": [{"role": "user", "content": "x"}],
                "response": {"role": "assistant", "content": "y"},
                "model": "m",
            }
        ],
    ).ids
    from capture.models import Log

    return Log.objects.get(pk=ids[0])


def training_objects(version):
    from training.models import ModelArtifact, PlaygroundRequest, TrainingRun

    run = TrainingRun.objects.create(
        version=version, dataset_version_hash=version.content_hash, base_model="x", config={}
    )
    model = ModelArtifact.objects.create(
        run=run, path=f"runs/{run.pk}/model", weights_sha256="0" * 64
    )
    playground = PlaygroundRequest.objects.create(model=model, messages=[])
    return run, model, playground


def evaluation_objects(team, version, model):
    """An eval suite on the whole version and a queued eval run of ``model`` on it."""
    from evaluation.models import EvalRun, EvalSuite

    suite = EvalSuite.objects.create(
        team=team,
        name=f"suite-{version.pk}",
        version=version,
        version_hash=version.content_hash,
        split="all",
        evaluators=[{"type": "exact_match", "params": {}}],
        item_count=1,
    )
    return suite, EvalRun.objects.create(suite=suite, model=model, total=1)


def eval_result_object(eval_run, version):
    """One stored result of ``eval_run``: an item of the version, failed."""
    from datasets_app.models import VersionEntry
    from evaluation.models import EvalResult

    return EvalResult.objects.create(
        run=eval_run,
        entry=VersionEntry.objects.filter(version=version).first(),
        position=0,
        output="x",
        scores={"exact_match": {"value": 0.0, "passed": False, "detail": {}}},
    )


def pairwise_review_object(eval_run, version):
    """A blind review of ``eval_run`` against another run of its suite, with one item."""
    from datasets_app.models import VersionEntry
    from evaluation.models import EvalResult, EvalRun
    from evaluation.pairwise_models import PairwiseItem, PairwiseReview

    entry = VersionEntry.objects.filter(version=version).first()
    ours, _ = EvalResult.objects.get_or_create(
        run=eval_run, entry=entry, defaults={"position": 0, "output": "x", "scores": {}}
    )
    against = EvalRun.objects.create(suite=eval_run.suite, base_model="b", status="succeeded")
    theirs = EvalResult.objects.create(run=against, entry=entry, position=0, output="y", scores={})
    review = PairwiseReview.objects.create(run=eval_run, against=against, seed=0, item_count=1)
    PairwiseItem.objects.create(
        review=review, position=0, result=ours, against_result=theirs, swapped=False
    )
    return review


def judged_comparison_object(review):
    """An LLM judge's comparison of the review's two runs, judged (one verdict)."""
    from evaluation.judged_models import JudgedComparison

    return JudgedComparison.objects.create(
        run=review.run,
        against=review.against,
        judge="stub",
        rubric="r",
        seed=0,
        status="succeeded",
        total=1,
        processed=1,
        verdicts=[{"position": 0, "swapped": False, "winner": "run", "reason": "x", "why": ""}],
    )


def membership_objects(team, owner):
    """A member of ``team`` none of the role personas is (their routes act on a third person),
    and a pending invitation of ``team`` to someone outside it."""
    from django.contrib.auth import get_user_model

    from finetunedb.teams.invitations import invitation_create
    from finetunedb.teams.models import Invitation, Membership

    users = get_user_model().objects
    member = users.create_user(username=f"member-{team.pk}", email=f"member-{team.pk}@example.com")
    Membership.objects.create(team=team, user=member, role="viewer")
    invitee = f"invitee-{team.pk}"
    users.create_user(username=invitee, email=f"{invitee}@example.com")
    invitation_create(actor=owner, team=team, identifier=invitee, role="viewer")
    return member, Invitation.objects.get(team=team, invited_as=invitee)
