"""The capture API's routes (DESIGN §8): ingest keys and logs.

Included by ``finetunedb/api_urls.py`` into the ``api`` namespace (``api:log-list``).
"""

from django.urls import path

from . import from_logs, ingest_keys, logs, rules, settings

urlpatterns = [
    path(
        "teams/<int:team_id>/ingest-keys/",
        ingest_keys.TeamIngestKeysApi.as_view(),
        name="team-ingest-keys",
    ),
    path(
        "teams/<int:team_id>/capture-rules/",
        rules.TeamCaptureRulesApi.as_view(),
        name="team-capture-rules",
    ),
    path(
        "teams/<int:team_id>/capture-settings/",
        settings.TeamCaptureSettingsApi.as_view(),
        name="team-capture-settings",
    ),
    path("logs/", logs.LogListApi.as_view(), name="log-list"),
    path("logs/<int:log_id>/", logs.LogDetailApi.as_view(), name="log-detail"),
    path(
        "datasets/<int:dataset_id>/from-logs/",
        from_logs.DatasetFromLogsApi.as_view(),
        name="dataset-from-logs",
    ),
    path("logs/<int:log_id>/feedback/", logs.LogFeedbackApi.as_view(), name="log-feedback"),
]
