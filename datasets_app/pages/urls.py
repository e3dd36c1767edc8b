"""The pages' URL table (namespace ``datasets``); the API's is ``datasets_app/api/urls.py``."""

from django.urls import path

from . import (
    checks,
    datasets,
    dedup,
    editor,
    examples,
    history,
    overview,
    review,
    splits,
    transfer,
    versions,
)

app_name = "datasets"

urlpatterns = [
    path("datasets/", datasets.dataset_list, name="list"),
    path("datasets/new/", datasets.dataset_create, name="create"),
    path("datasets/<int:dataset_id>/", examples.example_list, name="detail"),
    path("datasets/<int:dataset_id>/overview/", overview.dataset_overview, name="overview"),
    path("datasets/<int:dataset_id>/examples/bulk/", examples.example_bulk, name="bulk"),
    path("datasets/<int:dataset_id>/review/", review.review, name="review"),
    path(
        "datasets/<int:dataset_id>/review/decide/",
        review.review_decide,
        name="review-decide",
    ),
    path("examples/<int:example_id>/edit/", editor.example_edit, name="example-edit"),
    path(
        "examples/<int:example_id>/checks/",
        editor.example_checks_live,
        name="example-checks-live",
    ),
    path(
        "examples/<int:example_id>/history/",
        history.example_history,
        name="example-history",
    ),
    path(
        "examples/<int:example_id>/restore/",
        history.example_restore,
        name="example-restore",
    ),
    path("datasets/<int:dataset_id>/examples/new/", datasets.example_new, name="example-new"),
    path("examples/<int:example_id>/", datasets.example_detail, name="example"),
    path("datasets/<int:dataset_id>/import/", transfer.import_new, name="import-new"),
    path("imports/<int:import_id>/", transfer.import_detail, name="import"),
    path("imports/<int:import_id>/retry/", transfer.import_retry, name="import-retry"),
    path("datasets/<int:dataset_id>/export/", transfer.export_form, name="export"),
    path("datasets/<int:dataset_id>/versions/", versions.version_history, name="versions"),
    path("versions/<int:version_id>/", versions.version_detail, name="version"),
    path("versions/<int:version_id>/diff/", versions.version_diff, name="version-diff"),
    path(
        "versions/<int:version_id>/restore/",
        versions.version_restore,
        name="version-restore",
    ),
    path("restores/<int:restore_id>/undo/", versions.restore_undo, name="restore-undo"),
    path("datasets/<int:dataset_id>/checks/", checks.checks_page, name="checks"),
    path(
        "datasets/<int:dataset_id>/checks/fixes/",
        checks.fixes_preview,
        name="checks-fixes-preview",
    ),
    path(
        "datasets/<int:dataset_id>/checks/fixes/apply/",
        checks.fixes_apply,
        name="checks-fixes-apply",
    ),
    path(
        "datasets/<int:dataset_id>/checks/recheck/",
        checks.recheck,
        name="checks-recheck",
    ),
    path("datasets/<int:dataset_id>/duplicates/", dedup.duplicates_page, name="duplicates"),
    path(
        "datasets/<int:dataset_id>/duplicates/run/",
        dedup.duplicates_run,
        name="duplicates-run",
    ),
    path(
        "datasets/<int:dataset_id>/duplicates/resolve/",
        dedup.duplicates_resolve,
        name="duplicates-resolve",
    ),
    path("datasets/<int:dataset_id>/split/", splits.split_page, name="split"),
    path(
        "datasets/<int:dataset_id>/contamination/",
        dedup.contamination_page,
        name="contamination",
    ),
]
