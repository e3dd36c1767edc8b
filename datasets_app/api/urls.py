"""The datasets API's routes (DESIGN §6): datasets, examples, imports and exports, versions,
checks, dedup, splits.

Included by ``finetunedb/api_urls.py`` into the ``api`` namespace, so names read ``api:dataset-list``.
"""

from django.urls import path

from . import checks as checks_api
from . import datasets as datasets_api
from . import dedup as dedup_api
from . import splits as splits_api
from . import transfer as transfer_api
from . import versions as versions_api

urlpatterns = [
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
]
