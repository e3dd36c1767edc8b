"""An eval run: status and metrics, cancel, its results page by page, a comparison."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from finetunedb.exceptions import ApplicationError
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import parse_id

from .. import selectors
from ..services.compare import eval_run_compare
from ..services.runs import eval_run_cancel
from .serializers import EvalResultOutputSerializer, EvalRunOutputSerializer
from .suites import paginated

AGAINST_REQUIRED = "give ?against=<eval run id>"


class EvalRunDetailApi(APIView):
    @extend_schema(responses={200: EvalRunOutputSerializer})
    def get(self, request, eval_run_id):
        run = selectors.eval_run_get_for_user(request.user, eval_run_id)
        return Response(EvalRunOutputSerializer(run).data)


class EvalRunCancelApi(APIView):
    @extend_schema(request=None, responses={200: EvalRunOutputSerializer})
    def post(self, request, eval_run_id):
        run = selectors.eval_run_get_for_user(request.user, eval_run_id, action=Action.TRAIN)
        run = eval_run_cancel(user=request.user, run=run)
        return Response(EvalRunOutputSerializer(run).data)


class EvalRunResultsApi(APIView):
    @extend_schema(responses={200: EvalResultOutputSerializer(many=True)})
    def get(self, request, eval_run_id):
        run = selectors.eval_run_get_for_user(request.user, eval_run_id)
        return paginated(request, self, selectors.results_for_run(run), EvalResultOutputSerializer)


class EvalRunCompareApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("against", int, required=True)],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, eval_run_id):
        run = selectors.eval_run_get_for_user(request.user, eval_run_id)
        against_id = parse_id(request.query_params.get("against"))
        if against_id is None:
            raise ApplicationError(
                AGAINST_REQUIRED, errors=[{"path": "against", "message": AGAINST_REQUIRED}]
            )
        against = selectors.eval_run_get_for_user(request.user, against_id)
        return Response(eval_run_compare(run=run, against=against))
