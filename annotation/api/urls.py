"""The annotation API's routes (DESIGN §8): assignments, the caller's queue, agreement,
adjudication, annotator statistics and the annotations export.

Included by ``finetunedb/api_urls.py`` into the ``api`` namespace (``api:assignment-detail``).
"""

from django.urls import path

from . import assignments, queue

urlpatterns = [
    path(
        "datasets/<int:dataset_id>/assignments/",
        assignments.DatasetAssignmentsApi.as_view(),
        name="dataset-assignments",
    ),
    path(
        "datasets/<int:dataset_id>/annotations/export/",
        assignments.DatasetAnnotationsExportApi.as_view(),
        name="dataset-annotations-export",
    ),
    path(
        "assignments/<int:assignment_id>/",
        assignments.AssignmentDetailApi.as_view(),
        name="assignment-detail",
    ),
    path(
        "assignments/<int:assignment_id>/annotators/<int:user_id>/",
        assignments.AssignmentAnnotatorApi.as_view(),
        name="assignment-annotator",
    ),
    path(
        "assignments/<int:assignment_id>/agreement/",
        assignments.AssignmentAgreementApi.as_view(),
        name="assignment-agreement",
    ),
    path(
        "assignments/<int:assignment_id>/adjudicate/",
        assignments.AssignmentAdjudicateApi.as_view(),
        name="assignment-adjudicate",
    ),
    path(
        "assignments/<int:assignment_id>/statistics/",
        assignments.AssignmentStatisticsApi.as_view(),
        name="assignment-statistics",
    ),
    path("me/queue/", queue.QueueNextApi.as_view(), name="queue-next"),
    path("me/queue/<int:item_id>/", queue.QueueItemApi.as_view(), name="queue-item"),
    path(
        "me/queue/<int:item_id>/submit/",
        queue.QueueItemSubmitApi.as_view(),
        name="queue-item-submit",
    ),
]
