"""The one status endpoint of action jobs (the page's progress bar polls it; API clients that
asked for ``?async=1`` follow it)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from ..selectors import action_job_get_for_user
from ..services import action_job_status


class ActionJobDetailApi(APIView):
    @extend_schema(
        description="Status, stage, progress (0-1, null while the amount of work is unknown), "
        "elapsed and previous run time in seconds, and when it succeeded the page of its result "
        "(result_url) and its result; when it failed, failure_reason and failure_details.",
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, job_id):
        job = action_job_get_for_user(request.user, job_id)
        body = action_job_status(job)
        body["result"] = job.result if job.status == "succeeded" else None
        return Response(body)
