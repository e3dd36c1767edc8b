"""Runs of a version: launch, list, pre-flight, preview; a run's status and its cancel."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from datasets_app.formats.errors import Limits, RowError
from datasets_app.formats.jsonparse import parse_json
from datasets_app.selectors import version_get_for_user
from finetunedb.pagination import CappedPageNumberPagination
from finetunedb.teams.permissions import Action

from .. import selectors, services
from ..services.launch import training_run_launch
from .serializers import ModelSummarySerializer, RunInputSerializer, RunOutputSerializer

TOP_LEVEL = ("base_model", "method")


class VersionTrainingRunsApi(APIView):
    @extend_schema(responses={200: RunOutputSerializer(many=True)})
    def get(self, request, version_id):
        version = version_get_for_user(request.user, version_id)
        paginator = CappedPageNumberPagination()
        page = paginator.paginate_queryset(selectors.runs_for_version(version), request, view=self)
        return paginator.get_paginated_response(RunOutputSerializer(page, many=True).data)

    @extend_schema(request=RunInputSerializer, responses={201: RunOutputSerializer})
    def post(self, request, version_id):
        version = version_get_for_user(request.user, version_id, action=Action.TRAIN)
        data = RunInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        arguments = dict(data.validated_data)
        options = {"eval_suites": arguments.pop("eval_suites", None)}
        run = training_run_launch(user=request.user, version=version, options=options, **arguments)
        return Response(RunOutputSerializer(run).data, status=status.HTTP_201_CREATED)


class VersionModelsApi(APIView):
    @extend_schema(responses={200: ModelSummarySerializer(many=True)})
    def get(self, request, version_id):
        version = version_get_for_user(request.user, version_id)
        paginator = CappedPageNumberPagination()
        page = paginator.paginate_queryset(
            selectors.models_for_version(version), request, view=self
        )
        return paginator.get_paginated_response(ModelSummarySerializer(page, many=True).data)


def _query_value(raw: str):
    """A query-string hyperparameter: JSON when it parses (numbers, true/false), else the text."""
    value = parse_json(raw, 1, Limits().max_depth)
    return raw if isinstance(value, RowError) else value


def preflight_arguments(query) -> dict:
    hyperparameters = {k: _query_value(v) for k, v in query.items() if k not in TOP_LEVEL}
    return {
        "base_model": query.get("base_model"),
        "method": query.get("method"),
        "hyperparameters": hyperparameters,
    }


class VersionTrainingPreflightApi(APIView):
    @extend_schema(
        description="Pre-flight figures for a run. Query: base_model, method and any "
        "hyperparameter by name (e.g. ?epochs=2&max_seq_len=512).",
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, version_id):
        version = version_get_for_user(request.user, version_id, action=Action.TRAIN)
        report = services.training_preflight(
            version=version, **preflight_arguments(request.query_params)
        )
        return Response(report)

    @extend_schema(request=RunInputSerializer, responses={200: OpenApiTypes.OBJECT})
    def post(self, request, version_id):
        version = version_get_for_user(request.user, version_id, action=Action.TRAIN)
        data = RunInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # the configuration only: launch options and the model to start from change no figure
        values = data.validated_data
        arguments = {k: values.get(k) for k in ("base_model", "method", "hyperparameters")}
        return Response(services.training_preflight(version=version, **arguments))


class VersionTrainingPreviewApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("example", int, required=True),
            OpenApiParameter("base_model", str),
            OpenApiParameter("max_seq_len", int),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, version_id):
        version = version_get_for_user(request.user, version_id)
        query = request.query_params
        report = services.training_preview(
            version=version,
            example_id=query.get("example"),
            base_model=query.get("base_model"),
            max_seq_len=_query_value(query["max_seq_len"]) if query.get("max_seq_len") else None,
        )
        return Response(report)


class TrainingRunDetailApi(APIView):
    @extend_schema(responses={200: RunOutputSerializer})
    def get(self, request, run_id):
        run = selectors.run_get_for_user(request.user, run_id)
        return Response(RunOutputSerializer(run).data)


class TrainingRunCancelApi(APIView):
    @extend_schema(request=None, responses={200: RunOutputSerializer})
    def post(self, request, run_id):
        run = selectors.run_get_for_user(request.user, run_id, action=Action.TRAIN)
        run = services.training_run_cancel(user=request.user, run=run)
        return Response(RunOutputSerializer(run).data)


class ExampleModelsApi(APIView):
    @extend_schema(responses={200: ModelSummarySerializer(many=True)})
    def get(self, request, example_id):
        example = selectors.example_get_for_user(request.user, example_id)
        paginator = CappedPageNumberPagination()
        page = paginator.paginate_queryset(
            selectors.models_for_example(example), request, view=self
        )
        return paginator.get_paginated_response(ModelSummarySerializer(page, many=True).data)
