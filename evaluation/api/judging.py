"""The LLM judge's pairwise comparison of two runs, asked for by a user (DESIGN §8, extended):
judged on the training worker as a job, never in the request.

| route | method | does |
|---|---|---|
| eval-runs/{id}/judge/ | GET, POST | the run's judged comparisons; `{against, judge?}` → 202 queued (200: the existing one) |
| eval-runs/{id}/judge/{comparison}/ | GET | status, progress, the win rate with its Wilson interval (ties as half, errors apart), position bias, and the verdicts paged (`?page=&page_size=`) |
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from finetunedb.pagination import CappedPageNumberPagination
from finetunedb.teams.permissions import Action

from .. import selectors
from ..services.judging import judged_comparison_request

ID = {"min_value": 1, "max_value": 2**63 - 1}


class JudgeInputSerializer(serializers.Serializer):
    against = serializers.IntegerField(**ID, help_text="The eval run to judge against.")
    judge = serializers.CharField(
        required=False,
        max_length=100,
        help_text="A suite llm_judge evaluator's name (its judge and rubric) or a judge the "
        "administrator configured (the default rubric); default: the suite's first llm_judge.",
    )


class ComparisonOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    run = serializers.IntegerField(source="run_id")
    against = serializers.IntegerField(source="against_id")
    suite = serializers.IntegerField(source="run.suite_id")
    judge = serializers.CharField()
    evaluator = serializers.CharField(help_text="Empty: the judge named alone.")
    rubric = serializers.CharField()
    status = serializers.CharField(help_text="queued, running, succeeded or failed.")
    processed = serializers.IntegerField()
    total = serializers.IntegerField()
    progress = serializers.FloatField()
    summary = serializers.DictField(
        help_text="wins, losses, ties, errors, n, win_rate ((wins + ties / 2) / n), ci_low, "
        "ci_high (Wilson), position_bias {first_shown_wins, decisive, rate}; empty until "
        "succeeded."
    )
    failure_reason = serializers.CharField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class VerdictOutputSerializer(serializers.Serializer):
    position = serializers.IntegerField(help_text="The item's place in the suite.")
    swapped = serializers.BooleanField(help_text="The against run's answer was shown as A.")
    winner = serializers.CharField(allow_null=True, help_text="run, against, tie; null: error.")
    reason = serializers.CharField(default="", help_text="The judge's reason.")
    why = serializers.CharField(default="", help_text="Why there is no verdict.")


class JudgedComparisonListApi(APIView):
    @extend_schema(responses={200: ComparisonOutputSerializer(many=True)})
    def get(self, request, eval_run_id):
        run = selectors.eval_run_get_for_user(request.user, eval_run_id)
        comparisons = selectors.judged_comparisons_for_run(run)
        return Response(ComparisonOutputSerializer(comparisons, many=True).data)

    @extend_schema(
        request=JudgeInputSerializer,
        responses={202: ComparisonOutputSerializer, 200: ComparisonOutputSerializer},
    )
    def post(self, request, eval_run_id):
        run = selectors.eval_run_get_for_user(request.user, eval_run_id, action=Action.TRAIN)
        data = JudgeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        against = selectors.eval_run_get_for_user(request.user, data.validated_data["against"])
        comparison, created = judged_comparison_request(
            user=request.user, run=run, against=against, judge=data.validated_data.get("judge")
        )
        code = status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK
        return Response(ComparisonOutputSerializer(comparison).data, status=code)


class JudgedComparisonDetailApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, eval_run_id, comparison_id):
        comparison = selectors.judged_comparison_get_for_user(
            request.user, comparison_id, run_id=eval_run_id
        )
        paginator = CappedPageNumberPagination()
        page = paginator.paginate_queryset(comparison.verdicts, request, view=self)
        verdicts = paginator.get_paginated_response(
            VerdictOutputSerializer(page, many=True).data
        ).data
        return Response({**ComparisonOutputSerializer(comparison).data, "verdicts": verdicts})
