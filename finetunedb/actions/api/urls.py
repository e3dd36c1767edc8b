"""The /api/v1/ route of action jobs: the one status endpoint (``api:action-job-detail``)."""

from django.urls import path

from .jobs import ActionJobDetailApi

urlpatterns = [
    path("action-jobs/<int:job_id>/", ActionJobDetailApi.as_view(), name="action-job-detail"),
]
