"""The pages' URL table (namespace ``training``); the API's is ``training/api/urls.py``."""

from django.urls import path

from . import models, playground, runs

app_name = "training"

urlpatterns = [
    path("versions/<int:version_id>/train/", runs.train_form, name="train"),
    path("versions/<int:version_id>/preview/", runs.version_preview, name="preview"),
    path("runs/<int:run_id>/", runs.run_detail, name="run"),
    path("runs/<int:run_id>/cancel/", runs.run_cancel, name="run-cancel"),
    path("models/<int:model_id>/", models.model_detail, name="model"),
    path("models/<int:model_id>/compare/", models.model_compare_page, name="model-compare"),
    path(
        "playground/<int:playground_id>/pick/",
        playground.playground_pick,
        name="playground-pick",
    ),
]
