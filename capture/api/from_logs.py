"""``POST /api/v1/datasets/{id}/from-logs/``: logs → examples with provenance (DESIGN §8)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from datasets_app.selectors import dataset_get_for_user

from ..filters import filters_parse
from ..services.from_logs import MAX_LOGS, examples_from_logs, from_logs_authorize


class FromLogsInputSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        max_length=MAX_LOGS,
    )
    filter = serializers.DictField(required=False)
    sample = serializers.IntegerField(min_value=1, max_value=MAX_LOGS, required=False)
    seed = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False, default=0)
    status = serializers.CharField(required=False, default="needs_review")


class FromLogsOutputSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    ids = serializers.ListField(child=serializers.IntegerField())
    skipped_duplicates = serializers.IntegerField()
    skipped_without_response = serializers.IntegerField()


class DatasetFromLogsApi(APIView):
    @extend_schema(request=FromLogsInputSerializer, responses={201: FromLogsOutputSerializer})
    def post(self, request, dataset_id):
        dataset = dataset_get_for_user(request.user, dataset_id)
        from_logs_authorize(user=request.user, dataset=dataset)
        data = FromLogsInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        filters = filters_parse(values["filter"], prefix="filter.") if "filter" in values else None
        result = examples_from_logs(
            user=request.user,
            dataset=dataset,
            ids=values.get("ids"),
            filters=filters,
            sample=values.get("sample"),
            seed=values["seed"],
            status=values["status"],
        )
        body = {
            "created": len(result.created),
            "ids": result.created,
            "skipped_duplicates": result.skipped_duplicates,
            "skipped_without_response": result.skipped_without_response,
        }
        return Response(body, status=status.HTTP_201_CREATED)
