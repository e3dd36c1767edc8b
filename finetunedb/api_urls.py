"""/api/v1/ — the public contract of DESIGN §6."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from datasets_app.api import checks as checks_api
from datasets_app.api import datasets as datasets_api
from datasets_app.api import dedup as dedup_api
from datasets_app.api import splits as splits_api
from datasets_app.api import transfer as transfer_api
from datasets_app.api import versions as versions_api
from finetunedb.teams import api as teams_api
from finetunedb.teams import api_invitations as invitations_api

app_name = "api"

urlpatterns = [
    path("auth/token/", teams_api.TokenObtainApi.as_view(), name="auth-token"),
    path("me/", teams_api.MeApi.as_view(), name="me"),
    path("teams/", teams_api.TeamListCreateApi.as_view(), name="team-list"),
    path("teams/<int:team_id>/members/", teams_api.TeamMembersApi.as_view(), name="team-members"),
    path(
        "teams/<int:team_id>/members/<int:user_id>/",
        teams_api.TeamMemberDetailApi.as_view(),
        name="team-member-detail",
    ),
    path(
        "teams/<int:team_id>/invitations/",
        invitations_api.TeamInvitationListApi.as_view(),
        name="team-invitations",
    ),
    path(
        "teams/<int:team_id>/invitations/<int:invitation_id>/",
        invitations_api.TeamInvitationRevokeApi.as_view(),
        name="team-invitation-detail",
    ),
    path("invitations/", invitations_api.InvitationListApi.as_view(), name="invitation-list"),
    path(
        "invitations/<int:invitation_id>/accept/",
        invitations_api.InvitationAcceptApi.as_view(),
        name="invitation-accept",
    ),
    path(
        "invitations/<int:invitation_id>/decline/",
        invitations_api.InvitationDeclineApi.as_view(),
        name="invitation-decline",
    ),
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
    path(
        "datasets/<int:dataset_id>/versions/",
        versions_api.DatasetVersionListCreateApi.as_view(),
        name="dataset-versions",
    ),
    path(
        "versions/<int:version_id>/", versions_api.VersionDetailApi.as_view(), name="version-detail"
    ),
    path(
        "versions/<int:version_id>/diff/",
        versions_api.VersionDiffApi.as_view(),
        name="version-diff",
    ),
    path(
        "versions/<int:version_id>/export/",
        versions_api.VersionExportApi.as_view(),
        name="version-export",
    ),
    path(
        "versions/<int:version_id>/restore/",
        versions_api.VersionRestoreApi.as_view(),
        name="version-restore",
    ),
    path(
        "restores/<int:restore_id>/", versions_api.RestoreDetailApi.as_view(), name="restore-detail"
    ),
    path(
        "restores/<int:restore_id>/undo/",
        versions_api.RestoreUndoApi.as_view(),
        name="restore-undo",
    ),
    path(
        "datasets/<int:dataset_id>/report/",
        checks_api.DatasetReportApi.as_view(),
        name="dataset-report",
    ),
    path(
        "datasets/<int:dataset_id>/fixes/preview/",
        checks_api.DatasetFixesPreviewApi.as_view(),
        name="dataset-fixes-preview",
    ),
    path(
        "datasets/<int:dataset_id>/fixes/apply/",
        checks_api.DatasetFixesApplyApi.as_view(),
        name="dataset-fixes-apply",
    ),
    path(
        "datasets/<int:dataset_id>/dedup/",
        dedup_api.DatasetDedupApi.as_view(),
        name="dataset-dedup",
    ),
    path(
        "dedup-jobs/<int:dedup_job_id>/",
        dedup_api.DedupJobDetailApi.as_view(),
        name="dedup-job-detail",
    ),
    path(
        "datasets/<int:dataset_id>/duplicate-clusters/",
        dedup_api.DatasetDuplicateClusterListApi.as_view(),
        name="dataset-duplicate-clusters",
    ),
    path(
        "datasets/<int:dataset_id>/duplicate-clusters/resolve/",
        dedup_api.DatasetDuplicateClusterResolveApi.as_view(),
        name="dataset-duplicate-clusters-resolve",
    ),
    path(
        "datasets/<int:dataset_id>/contamination/",
        dedup_api.DatasetContaminationApi.as_view(),
        name="dataset-contamination",
    ),
    path(
        "datasets/<int:dataset_id>/split/",
        splits_api.DatasetSplitApi.as_view(),
        name="dataset-split",
    ),
    path(
        "datasets/<int:dataset_id>/leakage/",
        splits_api.DatasetLeakageApi.as_view(),
        name="dataset-leakage",
    ),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
]

# --- training (training/api) -----------------------------------------------------------------
from training.api import models as training_models_api  # noqa: E402
from training.api import runs as training_runs_api  # noqa: E402

urlpatterns += [
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
]
