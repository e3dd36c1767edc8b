"""The semantic layer's routes of /api/v1/ (composed by finetunedb/api_urls.py)."""

from django.urls import path

from . import embeddings

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
]
