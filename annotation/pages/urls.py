"""The annotation pages' URL table (namespace ``annotation``); the API's is ``api/urls.py``."""

from django.urls import path

from . import assignments, queue

app_name = "annotation"

urlpatterns = [
    path(
        "datasets/<int:dataset_id>/assignments/",
        assignments.assignment_list,
        name="assignments",
    ),
    path(
        "datasets/<int:dataset_id>/assignments/new/",
        assignments.assignment_new,
        name="assignment-new",
    ),
    path("assignments/<int:assignment_id>/", assignments.assignment_detail, name="assignment"),
    path("assignments/<int:assignment_id>/edit/", assignments.assignment_edit, name="edit"),
    path(
        "assignments/<int:assignment_id>/adjudicate/",
        assignments.assignment_adjudicate,
        name="adjudicate",
    ),
    path(
        "assignments/<int:assignment_id>/remove-annotator/",
        assignments.assignment_annotator_remove_page,
        name="remove-annotator",
    ),
    path(
        "assignments/<int:assignment_id>/statistics/",
        assignments.assignment_statistics,
        name="statistics",
    ),
    path("queue/", queue.queue, name="queue"),
    path("queue/<int:item_id>/", queue.queue_item, name="queue-item"),
    path("queue/<int:item_id>/submit/", queue.queue_submit, name="queue-submit"),
]
