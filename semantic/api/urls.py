"""The semantic layer's routes of /api/v1/ (composed by finetunedb/api_urls.py)."""

from django.urls import path

from . import coverage, embeddings

urlpatterns = [
    path(
        "datasets/<int:dataset_id>/embeddings/",
        embeddings.DatasetEmbeddingsApi.as_view(),
        name="dataset-embeddings",
    ),
    path(
        "embedding-jobs/<int:embedding_job_id>/",
        embeddings.EmbeddingJobDetailApi.as_view(),
        name="embedding-job-detail",
    ),
    path(
        "datasets/<int:dataset_id>/topics/",
        embeddings.DatasetTopicsApi.as_view(),
        name="dataset-topics",
    ),
    path(
        "datasets/<int:dataset_id>/coverage-targets/",
        coverage.DatasetCoverageTargetsApi.as_view(),
        name="dataset-coverage-targets",
    ),
    path(
        "coverage-targets/<int:coverage_target_id>/",
        coverage.CoverageTargetDetailApi.as_view(),
        name="coverage-target-detail",
    ),
    path(
        "coverage-targets/<int:coverage_target_id>/queue/",
        coverage.CoverageTargetQueueApi.as_view(),
        name="coverage-target-queue",
    ),
    path(
        "datasets/<int:dataset_id>/coverage/",
        coverage.DatasetCoverageApi.as_view(),
        name="dataset-coverage",
    ),
]
