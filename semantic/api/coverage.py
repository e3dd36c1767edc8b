"""The coverage plan's API: a dataset's targets (list, create), one target (read, change,
delete), the plan's status (actual vs target, the gap in examples), and a gap turned into a
review queue (an annotation assignment)."""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from datasets_app import selectors
from finetunedb.teams.permissions import Action

from ..selectors import coverage_target_get_for_user
from ..services.coverage import (
    coverage_plan_status,
    coverage_target_create,
    coverage_target_delete,
    coverage_target_status,
    coverage_target_update,
)
from ..services.coverage_queue import coverage_queue_create


class TargetInputSerializer(serializers.Serializer):
    """Shapes only; the service checks the values and names the bad field."""

    kind = serializers.CharField(help_text="topic, tag or metadata.")
    key = serializers.CharField(required=False, allow_blank=True, max_length=64)
    value = serializers.CharField(max_length=200, help_text="Topic number, tag, metadata value.")
    split = serializers.CharField(required=False, allow_blank=True, max_length=32)
    mode = serializers.CharField(help_text="about (share ± tolerance), min or max.")
    share = serializers.CharField(max_length=20, help_text="Percent, 0 to 100.")
    tolerance = serializers.CharField(required=False, max_length=20, help_text="Percent (about).")


class TargetPatchSerializer(TargetInputSerializer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False


class DatasetCoverageTargetsApi(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, dataset_id):
        """Every target with its status (the same rows as the plan's status)."""
        dataset = selectors.dataset_get_for_user(request.user, dataset_id)
        return Response({"results": coverage_plan_status(dataset=dataset)["targets"]})

    @extend_schema(request=TargetInputSerializer, responses={201: OpenApiTypes.OBJECT})
    def post(self, request, dataset_id):
        dataset = selectors.dataset_get_for_user(request.user, dataset_id, action=Action.CURATE)
        data = TargetInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        target = coverage_target_create(user=request.user, dataset=dataset, **data.validated_data)
        response = Response(coverage_target_status(target=target), status=status.HTTP_201_CREATED)
        response["Location"] = reverse(
            "api:coverage-target-detail", kwargs={"coverage_target_id": target.pk}
        )
        return response


class CoverageTargetDetailApi(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, coverage_target_id):
        target = coverage_target_get_for_user(
            user=request.user, coverage_target_id=coverage_target_id
        )
        return Response(coverage_target_status(target=target))

    @extend_schema(request=TargetPatchSerializer, responses={200: OpenApiTypes.OBJECT})
    def patch(self, request, coverage_target_id):
        target = coverage_target_get_for_user(
            user=request.user, coverage_target_id=coverage_target_id, action=Action.CURATE
        )
        data = TargetPatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        target = coverage_target_update(user=request.user, target=target, **data.validated_data)
        return Response(coverage_target_status(target=target))

    @extend_schema(responses={204: None})
    def delete(self, request, coverage_target_id):
        target = coverage_target_get_for_user(
            user=request.user, coverage_target_id=coverage_target_id, action=Action.CURATE
        )
        coverage_target_delete(user=request.user, target=target)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DatasetCoverageApi(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, dataset_id):
        """The plan's status: ``gate`` (the dataset's coverage_gate), ``total`` examples that
        count, each target's ``count``, ``actual_share``, bounds, ``state`` and gap (``add``
        bucket examples to reach it, ``remove`` to get under it), and ``unmet``."""
        dataset = selectors.dataset_get_for_user(request.user, dataset_id)
        return Response(coverage_plan_status(dataset=dataset))


class CoverageTargetQueueApi(APIView):
    class InputSerializer(serializers.Serializer):
        annotators = serializers.ListField(
            child=serializers.IntegerField(), required=False, max_length=100
        )

    @extend_schema(request=InputSerializer, responses={201: OpenApiTypes.OBJECT})
    def post(self, request, coverage_target_id):
        """A bucket over its target → an annotation assignment of its examples (default
        annotator: the caller); under its target → 409 with ``authoring_url``."""
        target = coverage_target_get_for_user(
            user=request.user, coverage_target_id=coverage_target_id, action=Action.CURATE
        )
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        assignment = coverage_queue_create(
            user=request.user, target=target, annotator_ids=data.validated_data.get("annotators")
        )
        url = reverse("api:assignment-detail", kwargs={"assignment_id": assignment.pk})
        response = Response(
            {
                "assignment": assignment.pk,
                "name": assignment.name,
                "items": assignment.items.count(),
                "url": url,
            },
            status=status.HTTP_201_CREATED,
        )
        response["Location"] = url
        return response
