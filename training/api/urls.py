"""The training API's routes (DESIGN §6): runs, models, pre-flight, preview, playground.

Included by ``finetunedb/api_urls.py`` into the ``api`` namespace, so names read ``api:model-detail``.
"""

from django.urls import path

from . import models as training_models_api
from . import playground as training_playground_api
from . import runs as training_runs_api

urlpatterns = [
    path(
        "versions/<int:version_id>/training-runs/",
        training_runs_api.VersionTrainingRunsApi.as_view(),
        name="version-training-runs",
    ),
    path(
        "versions/<int:version_id>/models/",
        training_runs_api.VersionModelsApi.as_view(),
        name="version-models",
    ),
    path(
        "versions/<int:version_id>/training-preflight/",
        training_runs_api.VersionTrainingPreflightApi.as_view(),
        name="version-training-preflight",
    ),
    path(
        "versions/<int:version_id>/training-preview/",
        training_runs_api.VersionTrainingPreviewApi.as_view(),
        name="version-training-preview",
    ),
    path(
        "training-runs/<int:run_id>/",
        training_runs_api.TrainingRunDetailApi.as_view(),
        name="training-run-detail",
    ),
    path(
        "training-runs/<int:run_id>/cancel/",
        training_runs_api.TrainingRunCancelApi.as_view(),
        name="training-run-cancel",
    ),
    path(
        "examples/<int:example_id>/models/",
        training_runs_api.ExampleModelsApi.as_view(),
        name="example-models",
    ),
    path(
        "models/<int:model_id>/", training_models_api.ModelDetailApi.as_view(), name="model-detail"
    ),
    path(
        "models/<int:model_id>/download/",
        training_models_api.ModelDownloadApi.as_view(),
        name="model-download",
    ),
    path(
        "models/<int:model_id>/playground/",
        training_models_api.ModelPlaygroundApi.as_view(),
        name="model-playground",
    ),
    path(
        "models/<int:model_id>/compare/",
        training_models_api.ModelCompareApi.as_view(),
        name="model-compare",
    ),
    path(
        "playground/<int:playground_id>/",
        training_models_api.PlaygroundDetailApi.as_view(),
        name="playground-detail",
    ),
    path(
        "playground/<int:playground_id>/pick/",
        training_playground_api.PlaygroundPickApi.as_view(),
        name="playground-pick",
    ),
]
