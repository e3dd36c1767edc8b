"""The capture pages' URL table (namespace ``capture``); the API's is ``api/urls.py``."""

from django.urls import path

from . import keys, logs

app_name = "capture"

urlpatterns = [
    path("logs/", logs.log_list, name="logs"),
    path("logs/add-to-dataset/", logs.log_add_to_dataset, name="add-to-dataset"),
    path("logs/<int:log_id>/", logs.log_detail, name="log"),
    path("teams/<int:team_id>/ingest-keys/", keys.ingest_keys, name="ingest-keys"),
]
