"""Check report and safe fixes API. Views parse and delegate; scoping happens in selectors."""

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from finetunedb.exceptions import ApplicationError
from finetunedb.teams.permissions import Action

from .. import selectors
from ..checks import FIXES
from ..services import checks as services

FIX_FILTER_HELP = (
    "The example list filters (status, split, tag, rule, severity, search, …); {} is all."
)


class DatasetReportApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "price_per_million", float, description="Price per million training tokens."
            ),
            OpenApiParameter("epochs", int, description="Epochs; default: the cookbook's rule."),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, dataset_id):
        dataset = selectors.dataset_get_for_user(request.user, dataset_id)
        price, epochs, errors = services.parse_cost_inputs(
            request.query_params.get("price_per_million"), request.query_params.get("epochs")
        )
        if errors:
            raise ApplicationError("Invalid cost parameters.", errors=errors)
        report = services.dataset_report(dataset=dataset, price_per_million=price, epochs=epochs)
        examples_url = reverse("api:dataset-examples", args=[dataset.pk])
        page_url = reverse("datasets:detail", args=[dataset.pk])
        for rule in report["rules"]:
            rule["examples_url"] = f"{examples_url}?rule={rule['id']}"
            rule["page_url"] = f"{page_url}?rule={rule['id']}"
        return Response(report)


class _FixSelectionSerializer(serializers.Serializer):
    fix_ids = serializers.ListField(
        child=serializers.CharField(max_length=64),
        allow_empty=False,
        max_length=len(FIXES) * 2,
        help_text=f"Any of: {', '.join(FIXES)}.",
    )
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=100_000
    )
    filter = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False, help_text=FIX_FILTER_HELP
    )

    def validate(self, attrs):
        if ("ids" in attrs) == ("filter" in attrs):
            raise serializers.ValidationError("Give exactly one of ids or filter.")
        return attrs


def _selection(dataset, data) -> dict:
    if "filter" in data:
        return {"queryset": selectors.example_list(dataset, filters=data["filter"])}
    return {"ids": data["ids"]}


class DatasetFixesPreviewApi(APIView):
    class InputSerializer(_FixSelectionSerializer):
        offset = serializers.IntegerField(min_value=0, required=False, default=0)
        limit = serializers.IntegerField(min_value=1, max_value=200, required=False, default=50)

    @extend_schema(request=InputSerializer, responses={200: OpenApiTypes.OBJECT})
    def post(self, request, dataset_id):
        dataset = selectors.dataset_get_for_user(request.user, dataset_id, action=Action.CURATE)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        preview = services.example_fixes_preview(
            user=request.user,
            dataset=dataset,
            fix_ids=data.validated_data["fix_ids"],
            offset=data.validated_data["offset"],
            limit=data.validated_data["limit"],
            **_selection(dataset, data.validated_data),
        )
        return Response(preview)


class DatasetFixesApplyApi(APIView):
    class OutputSerializer(serializers.Serializer):
        examples_selected = serializers.IntegerField()
        changed = serializers.IntegerField(help_text="Examples that got a new revision.")
        changes = serializers.IntegerField(help_text="Individual changes made.")
        skipped_conflicts = serializers.IntegerField(
            help_text="Examples edited by someone else meanwhile; left as they are."
        )
        skipped_invalid = serializers.IntegerField()

    @extend_schema(request=_FixSelectionSerializer, responses={200: OutputSerializer})
    def post(self, request, dataset_id):
        dataset = selectors.dataset_get_for_user(request.user, dataset_id, action=Action.CURATE)
        data = _FixSelectionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.example_fixes_apply(
            user=request.user,
            dataset=dataset,
            fix_ids=data.validated_data["fix_ids"],
            **_selection(dataset, data.validated_data),
        )
        return Response(result)
