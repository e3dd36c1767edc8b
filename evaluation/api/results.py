"""One eval result's nearest training examples (DESIGN §8, "from a failure to its causes")."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import selectors
from ..services.nearest import METHODS, nearest_training_examples


def int_or_raw(raw, default):
    """An integer query value, or the raw text (the service names the field it refuses)."""
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        return raw


class EvalResultNearestTrainingExamplesApi(APIView):
    @extend_schema(
        description="The training examples of the version the result's model was trained on, "
        "nearest to the item's prompt first, with their similarity and editor links. 409 for a "
        "result of a base-model run (it was trained on nothing), and for method=embedding when "
        "the version's dataset has not been embedded yet.",
        parameters=[
            OpenApiParameter("method", str, required=False, enum=list(METHODS)),
            OpenApiParameter("k", int, required=False, description="1-50, default 10"),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, result_id):
        result = selectors.eval_result_get_for_user(request.user, result_id)
        report = nearest_training_examples(
            result=result,
            method=request.query_params.get("method") or "ngram",
            k=int_or_raw(request.query_params.get("k"), 10),
        )
        return Response(report)
