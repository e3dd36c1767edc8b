"""/api/v1/ — the public contract of DESIGN §6."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from datasets_app.api import datasets as datasets_api
from datasets_app.api import transfer as transfer_api
from finetunedb.teams import api as teams_api

app_name = "api"

urlpatterns = [
    path("auth/token/", teams_api.TokenObtainApi.as_view(), name="auth-token"),
    path("me/", teams_api.MeApi.as_view(), name="me"),
    path("teams/", teams_api.TeamListCreateApi.as_view(), name="team-list"),
    path("teams/<int:team_id>/members/", teams_api.TeamMembersApi.as_view(), name="team-members"),
    path("datasets/", datasets_api.DatasetListCreateApi.as_view(), name="dataset-list"),
    path(
        "datasets/<int:dataset_id>/", datasets_api.DatasetDetailApi.as_view(), name="dataset-detail"
    ),
    path(
        "datasets/<int:dataset_id>/examples/",
        datasets_api.DatasetExampleListCreateApi.as_view(),
        name="dataset-examples",
    ),
    path(
        "datasets/<int:dataset_id>/examples/bulk/",
        datasets_api.DatasetExampleBulkApi.as_view(),
        name="dataset-examples-bulk",
    ),
    path(
        "examples/<int:example_id>/", datasets_api.ExampleDetailApi.as_view(), name="example-detail"
    ),
    path(
        "datasets/<int:dataset_id>/imports/",
        transfer_api.DatasetImportApi.as_view(),
        name="dataset-imports",
    ),
    path("imports/<int:import_id>/", transfer_api.ImportDetailApi.as_view(), name="import-detail"),
    path(
        "imports/<int:import_id>/errors/",
        transfer_api.ImportErrorReportApi.as_view(),
        name="import-errors",
    ),
    path(
        "datasets/<int:dataset_id>/export/",
        transfer_api.DatasetExportApi.as_view(),
        name="dataset-export",
    ),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
]
