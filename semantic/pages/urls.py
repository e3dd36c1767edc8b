"""The semantic layer's pages (namespace ``semantic``)."""

from django.urls import path

from . import coverage, views

app_name = "semantic"

urlpatterns = [
    path("datasets/<int:dataset_id>/semantic/", views.semantic_search, name="search"),
    path("datasets/<int:dataset_id>/semantic/embed/", views.embeddings_start, name="embed"),
    path("datasets/<int:dataset_id>/topics/", views.topics, name="topics"),
    path("datasets/<int:dataset_id>/coverage/", coverage.coverage, name="coverage"),
    path("datasets/<int:dataset_id>/coverage/gate/", coverage.coverage_gate, name="coverage-gate"),
    path(
        "coverage-targets/<int:coverage_target_id>/remove/",
        coverage.coverage_target_remove,
        name="coverage-target-remove",
    ),
    path(
        "coverage-targets/<int:coverage_target_id>/queue/",
        coverage.coverage_queue,
        name="coverage-queue",
    ),
    path(
        "coverage-targets/<int:coverage_target_id>/write/",
        coverage.coverage_write,
        name="coverage-write",
    ),
]
