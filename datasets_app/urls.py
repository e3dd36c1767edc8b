from django.urls import path

from . import checks_views, dedup_views, transfer_views, versions_views, views
from .workspace import editor_views, history_views, list_views, overview_views, review_views

app_name = "datasets"

urlpatterns = [
    path("datasets/", views.dataset_list, name="list"),
    path("datasets/new/", views.dataset_create, name="create"),
    path("datasets/<int:dataset_id>/", list_views.example_list, name="detail"),
    path("datasets/<int:dataset_id>/overview/", overview_views.dataset_overview, name="overview"),
    path("datasets/<int:dataset_id>/examples/bulk/", list_views.example_bulk, name="bulk"),
    path("datasets/<int:dataset_id>/review/", review_views.review, name="review"),
    path(
        "datasets/<int:dataset_id>/review/decide/",
        review_views.review_decide,
        name="review-decide",
    ),
    path("examples/<int:example_id>/edit/", editor_views.example_edit, name="example-edit"),
    path(
        "examples/<int:example_id>/checks/",
        editor_views.example_checks_live,
        name="example-checks-live",
    ),
    path(
        "examples/<int:example_id>/history/",
        history_views.example_history,
        name="example-history",
    ),
    path(
        "examples/<int:example_id>/restore/",
        history_views.example_restore,
        name="example-restore",
    ),
    path("datasets/<int:dataset_id>/examples/new/", views.example_new, name="example-new"),
    path("examples/<int:example_id>/", views.example_detail, name="example"),
    path("datasets/<int:dataset_id>/import/", transfer_views.import_new, name="import-new"),
    path("imports/<int:import_id>/", transfer_views.import_detail, name="import"),
    path("datasets/<int:dataset_id>/export/", transfer_views.export_form, name="export"),
    path("datasets/<int:dataset_id>/versions/", versions_views.version_history, name="versions"),
    path("versions/<int:version_id>/", versions_views.version_detail, name="version"),
    path("versions/<int:version_id>/diff/", versions_views.version_diff, name="version-diff"),
    path(
        "versions/<int:version_id>/restore/",
        versions_views.version_restore,
        name="version-restore",
    ),
    path("restores/<int:restore_id>/undo/", versions_views.restore_undo, name="restore-undo"),
    path("datasets/<int:dataset_id>/checks/", checks_views.checks_page, name="checks"),
    path(
        "datasets/<int:dataset_id>/checks/fixes/",
        checks_views.fixes_preview,
        name="checks-fixes-preview",
    ),
    path(
        "datasets/<int:dataset_id>/checks/fixes/apply/",
        checks_views.fixes_apply,
        name="checks-fixes-apply",
    ),
    path(
        "datasets/<int:dataset_id>/checks/recheck/",
        checks_views.recheck,
        name="checks-recheck",
    ),
    path("datasets/<int:dataset_id>/duplicates/", dedup_views.duplicates_page, name="duplicates"),
    path(
        "datasets/<int:dataset_id>/duplicates/run/",
        dedup_views.duplicates_run,
        name="duplicates-run",
    ),
    path(
        "datasets/<int:dataset_id>/duplicates/resolve/",
        dedup_views.duplicates_resolve,
        name="duplicates-resolve",
    ),
    path("datasets/<int:dataset_id>/split/", dedup_views.split_page, name="split"),
    path(
        "datasets/<int:dataset_id>/contamination/",
        dedup_views.contamination_page,
        name="contamination",
    ),
]
