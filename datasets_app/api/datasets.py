"""Dataset and example API. Views parse and delegate; scoping happens in selectors."""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from finetunedb.exceptions import PreconditionFailed, PreconditionRequired
from finetunedb.pagination import CappedPageNumberPagination
from finetunedb.parsers import StrictJSONField
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import NOT_FOUND
from finetunedb.teams.selectors import team_get_for_user

from .. import selectors
from ..services import datasets as dataset_services
from ..services import examples as example_services
from .serializers import (
    DatasetOutputSerializer,
    ExampleOutputSerializer,
    ExamplePatchSerializer,
    ExampleWriteSerializer,
)

IF_MATCH_REQUIRED = "PATCH needs an If-Match header with the example's current ETag (its revision); GET the example to read it."
IF_MATCH_INVALID = 'If-Match must be the ETag returned by GET, e.g. "3".'


def _paginate(request, view, queryset, serializer_class):
    paginator = CappedPageNumberPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


class DatasetListCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        team = serializers.IntegerField()
        name = serializers.CharField(max_length=200)
        description = serializers.CharField(
            required=False, allow_blank=True, default="", max_length=20_000
        )
        settings = StrictJSONField(required=False)

    @extend_schema(
        parameters=[OpenApiParameter("team", int, description="Only this team's datasets.")],
        responses={200: DatasetOutputSerializer(many=True)},
    )
    def get(self, request):
        datasets = selectors.dataset_list_for_user(
            request.user, team_id=request.query_params.get("team")
        )
        return _paginate(request, self, datasets, DatasetOutputSerializer)

    @extend_schema(request=InputSerializer, responses={201: DatasetOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        team = team_get_for_user(request.user, data.validated_data["team"])
        if team is None:
            raise Http404(NOT_FOUND)
        dataset = dataset_services.dataset_create(
            user=request.user,
            team=team,
            name=data.validated_data["name"],
            description=data.validated_data["description"],
            settings=data.validated_data.get("settings"),
        )
        return Response(DatasetOutputSerializer(dataset).data, status=status.HTTP_201_CREATED)


class DatasetDetailApi(APIView):
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=200, required=False)
        description = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
        settings = StrictJSONField(required=False)

    @extend_schema(responses={200: DatasetOutputSerializer})
    def get(self, request, dataset_id):
        dataset = selectors.dataset_get_for_user(request.user, dataset_id)
        return Response(DatasetOutputSerializer(dataset).data)

    @extend_schema(request=InputSerializer, responses={200: DatasetOutputSerializer})
    def patch(self, request, dataset_id):
        dataset = selectors.dataset_get_for_user(
            request.user, dataset_id, action=Action.MANAGE_DATASETS
        )
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        dataset = dataset_services.dataset_update(
            user=request.user, dataset=dataset, **data.validated_data
        )
        return Response(DatasetOutputSerializer(dataset).data)

    @extend_schema(responses={204: None})
    def delete(self, request, dataset_id):
        dataset = selectors.dataset_get_for_user(
            request.user, dataset_id, action=Action.DELETE_DATASETS
        )
        dataset_services.dataset_delete(user=request.user, dataset=dataset)
        return Response(status=status.HTTP_204_NO_CONTENT)


EXAMPLE_FILTERS = [
    OpenApiParameter(
        "status", str, description="Comma-separated statuses; archived rows only when asked for."
    ),
    OpenApiParameter("split", str),
    OpenApiParameter("tag", str),
    OpenApiParameter("source_format", str),
    OpenApiParameter("rating", int),
    OpenApiParameter("cluster", int, description="Only members of this duplicate cluster."),
    OpenApiParameter("search", str, description="Text contained in any message."),
    OpenApiParameter("topic", int, description="Only examples of this topic cluster."),
    OpenApiParameter(
        "semantic",
        str,
        description="Nearest examples by meaning (cosine of embeddings), nearest first; the "
        "dataset must have been embedded (POST …/embeddings/), else 409. The serving engine "
        "embeds the text: 503 `embedding_service_unavailable` when it is not running.",
    ),
    OpenApiParameter("rule", str, description="Only examples with a finding of this check rule."),
    OpenApiParameter("severity", str, enum=["error", "warning", "info"]),
    OpenApiParameter("ordering", str, enum=sorted(selectors.EXAMPLE_ORDERINGS)),
]


class DatasetExampleListCreateApi(APIView):
    @extend_schema(parameters=EXAMPLE_FILTERS, responses={200: ExampleOutputSerializer(many=True)})
    def get(self, request, dataset_id):
        dataset = selectors.dataset_get_for_user(request.user, dataset_id)
        examples = selectors.example_list(dataset, filters=request.query_params)
        return _paginate(request, self, examples, ExampleOutputSerializer)

    @extend_schema(request=ExampleWriteSerializer, responses={201: ExampleOutputSerializer})
    def post(self, request, dataset_id):
        dataset = selectors.dataset_get_for_user(request.user, dataset_id, action=Action.ANNOTATE)
        data = ExampleWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        example = example_services.example_create(
            user=request.user, dataset=dataset, **data.validated_data
        )
        example = selectors.example_get_for_user(request.user, example.pk)
        response = Response(ExampleOutputSerializer(example).data, status=status.HTTP_201_CREATED)
        response["ETag"] = f'"{example.revision}"'
        return response


def _expected_revision(request) -> int:
    header = request.headers.get("If-Match")
    if not header:
        raise PreconditionRequired(IF_MATCH_REQUIRED)
    value = header.strip()
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip('"')
    if not value.isdigit():
        raise PreconditionFailed(IF_MATCH_INVALID)
    return int(value)


class ExampleDetailApi(APIView):
    @extend_schema(responses={200: ExampleOutputSerializer})
    def get(self, request, example_id):
        example = selectors.example_get_for_user(request.user, example_id)
        response = Response(ExampleOutputSerializer(example).data)
        response["ETag"] = f'"{example.revision}"'
        return response

    @extend_schema(
        request=ExamplePatchSerializer,
        parameters=[OpenApiParameter("If-Match", str, OpenApiParameter.HEADER, required=True)],
        responses={200: ExampleOutputSerializer},
    )
    def patch(self, request, example_id):
        example = selectors.example_get_for_user(request.user, example_id, action=Action.ANNOTATE)
        expected = _expected_revision(request)
        data = ExamplePatchSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        example_services.example_update(
            user=request.user,
            example=example,
            expected_revision=expected,
            changes=dict(data.validated_data),
        )
        example = selectors.example_get_for_user(request.user, example_id)
        response = Response(ExampleOutputSerializer(example).data)
        response["ETag"] = f'"{example.revision}"'
        return response

    @extend_schema(responses={204: None})
    def delete(self, request, example_id):
        example = selectors.example_get_for_user(request.user, example_id, action=Action.CURATE)
        example_services.example_delete(user=request.user, example=example)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DatasetExampleBulkApi(APIView):
    class InputSerializer(serializers.Serializer):
        action = serializers.ChoiceField(
            choices=["set_status", "add_tags", "remove_tags", "set_split", "archive"]
        )
        value = StrictJSONField(required=False, allow_null=True)
        ids = serializers.ListField(
            child=serializers.IntegerField(min_value=1), required=False, max_length=100_000
        )
        filter = serializers.DictField(
            child=serializers.CharField(allow_blank=True),
            required=False,
            help_text="The list filters (status, split, tag, source_format, rating, search).",
        )
        expected_count = serializers.IntegerField(
            min_value=0,
            max_value=2**62,
            required=False,
            help_text="The number of examples you expect to change (the `count` of the same "
            "filter's example list): when the selection holds a different number now, the "
            "request is refused with 409 `selection_changed` and nothing changes.",
        )

        def validate(self, attrs):
            if ("ids" in attrs) == ("filter" in attrs):
                raise serializers.ValidationError("Give exactly one of ids or filter.")
            return attrs

    class OutputSerializer(serializers.Serializer):
        changed = serializers.IntegerField()

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request, dataset_id):
        dataset = selectors.dataset_get_for_user(request.user, dataset_id, action=Action.ANNOTATE)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        from ..services.bulk import examples_bulk_apply

        queryset = None
        if "filter" in data.validated_data:
            queryset = selectors.example_list(dataset, filters=data.validated_data["filter"])
        changed = examples_bulk_apply(
            user=request.user,
            dataset=dataset,
            action=data.validated_data["action"],
            value=data.validated_data.get("value"),
            ids=data.validated_data.get("ids"),
            queryset=queryset,
            expected_count=data.validated_data.get("expected_count"),
        )
        return Response({"changed": changed})
