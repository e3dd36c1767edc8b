"""Eval suites: list and create; a suite's runs: list and start (DESIGN §8)."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from datasets_app.selectors import version_get_for_user
from finetunedb.pagination import CappedPageNumberPagination
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import NOT_FOUND, require_role
from finetunedb.teams.selectors import team_get_for_user
from training.selectors import model_get_for_user

from .. import selectors
from ..services.runs import eval_run_start
from ..services.suites import eval_suite_create
from .serializers import (
    EvalRunInputSerializer,
    EvalRunOutputSerializer,
    EvalSuiteInputSerializer,
    EvalSuiteOutputSerializer,
    EvalTeamInputSerializer,
)


def paginated(request, view, queryset, serializer):
    paginator = CappedPageNumberPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer(page, many=True).data)


class EvalSuiteListApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("team", int, required=False)],
        responses={200: EvalSuiteOutputSerializer(many=True)},
    )
    def get(self, request):
        suites = selectors.suites_for_user(request.user, team=request.query_params.get("team"))
        return paginated(request, self, suites, EvalSuiteOutputSerializer)

    @extend_schema(request=EvalSuiteInputSerializer, responses={201: EvalSuiteOutputSerializer})
    def post(self, request):
        # Who may, before what is wrong: the team and the caller's role in it come first.
        first = EvalTeamInputSerializer(data=request.data)
        first.is_valid(raise_exception=True)
        team = team_get_for_user(request.user, first.validated_data["team"])
        if team is None:
            raise Http404(NOT_FOUND)
        require_role(request.user, team.pk, Action.TRAIN)
        data = EvalSuiteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        version = version_get_for_user(request.user, values["version"])
        suite = eval_suite_create(
            user=request.user,
            team=team,
            version=version,
            name=values["name"],
            description=values["description"],
            split=values["split"],
            evaluators=values["evaluators"],
        )
        return Response(EvalSuiteOutputSerializer(suite).data, status=status.HTTP_201_CREATED)


class EvalSuiteDetailApi(APIView):
    @extend_schema(responses={200: EvalSuiteOutputSerializer})
    def get(self, request, suite_id):
        suite = selectors.suite_get_for_user(request.user, suite_id)
        return Response(EvalSuiteOutputSerializer(suite).data)


class EvalSuiteRunsApi(APIView):
    @extend_schema(responses={200: EvalRunOutputSerializer(many=True)})
    def get(self, request, suite_id):
        suite = selectors.suite_get_for_user(request.user, suite_id)
        return paginated(request, self, selectors.runs_for_suite(suite), EvalRunOutputSerializer)

    @extend_schema(request=EvalRunInputSerializer, responses={202: EvalRunOutputSerializer})
    def post(self, request, suite_id):
        suite = selectors.suite_get_for_user(request.user, suite_id, action=Action.TRAIN)
        data = EvalRunInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        model = None
        if values.get("model") is not None:
            model = model_get_for_user(request.user, values["model"])
        run = eval_run_start(
            user=request.user,
            suite=suite,
            model=model,
            base_model=values.get("base_model"),
            max_new_tokens=values["max_new_tokens"],
            temperature=values["temperature"],
            seed=values["seed"],
            repetition_penalty=values["repetition_penalty"],
            no_repeat_ngram_size=values["no_repeat_ngram_size"],
        )
        run.refresh_from_db()
        return Response(EvalRunOutputSerializer(run).data, status=status.HTTP_202_ACCEPTED)
