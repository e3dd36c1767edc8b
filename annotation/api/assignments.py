"""Assignments (DESIGN §8): create and list per dataset, one assignment's progress and
guidelines, removing an annotator, agreement, adjudication and annotator statistics."""

from __future__ import annotations

import json

from django.http import HttpResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from datasets_app.selectors import dataset_get_for_user
from finetunedb.teams.permissions import Action

from .. import selectors
from ..report import statistics_csv
from ..services.adjudication import example_adjudicate
from ..services.assignments import (
    MAX_GUIDELINES,
    assignment_annotator_remove,
    assignment_create,
    assignment_update,
)
from .serializers import AssignmentOutputSerializer

MAX_ID = 2**63 - 1


class DatasetAssignmentsApi(APIView):
    class InputSerializer(serializers.Serializer):
        annotators = serializers.ListField(
            child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
            min_length=1,
            max_length=500,
            help_text="User ids of team members who may annotate.",
        )
        overlap = serializers.IntegerField(
            min_value=1, max_value=100, help_text="Annotators per example (≤ annotators)."
        )
        filter = serializers.DictField(
            child=serializers.CharField(allow_blank=True),
            required=False,
            help_text="The example list's filters (status, split, tag, rating, search, …); "
            "default: every example not archived.",
        )
        ids = serializers.ListField(
            child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
            required=False,
            max_length=100_000,
        )
        guidelines = serializers.CharField(
            required=False, allow_blank=True, default="", max_length=MAX_GUIDELINES
        )
        name = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
        due_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
        seed = serializers.CharField(required=False, max_length=64)

        def validate(self, attrs):
            if "ids" in attrs and "filter" in attrs:
                raise serializers.ValidationError("Give ids or a filter, not both.")
            return attrs

    @extend_schema(responses={200: AssignmentOutputSerializer(many=True)})
    def get(self, request, dataset_id):
        dataset = dataset_get_for_user(request.user, dataset_id)
        assignments = selectors.assignment_list(dataset=dataset)
        return Response(AssignmentOutputSerializer(assignments, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: AssignmentOutputSerializer})
    def post(self, request, dataset_id):
        dataset = dataset_get_for_user(request.user, dataset_id, action=Action.CURATE)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        ids = values.get("ids")
        if "filter" in values:
            ids = selectors.example_ids_from_filter(dataset=dataset, filters=values["filter"])
        assignment = assignment_create(
            user=request.user,
            dataset=dataset,
            annotator_ids=values["annotators"],
            overlap=values["overlap"],
            example_ids=ids,
            name=values["name"],
            guidelines=values["guidelines"],
            due_at=values["due_at"],
            seed=values.get("seed"),
        )
        progress = {assignment.pk: selectors.assignment_progress(assignment=assignment)}
        body = AssignmentOutputSerializer(assignment, context={"progress": progress}).data
        return Response(body, status=status.HTTP_201_CREATED)


class AssignmentDetailApi(APIView):
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(required=False, allow_blank=True, max_length=200)
        guidelines = serializers.CharField(
            required=False, allow_blank=True, max_length=MAX_GUIDELINES
        )
        due_at = serializers.DateTimeField(required=False, allow_null=True)

    def _body(self, assignment):
        progress = {assignment.pk: selectors.assignment_progress(assignment=assignment)}
        body = AssignmentOutputSerializer(assignment, context={"progress": progress}).data
        body["guidelines_history"] = [
            {"version": g.version, "text": g.text, "created_at": g.created_at}
            for g in selectors.assignment_guidelines(assignment=assignment)
        ]
        return body

    @extend_schema(responses={200: AssignmentOutputSerializer})
    def get(self, request, assignment_id):
        assignment = selectors.assignment_get_for_user(request.user, assignment_id)
        return Response(self._body(assignment))

    @extend_schema(request=InputSerializer, responses={200: AssignmentOutputSerializer})
    def patch(self, request, assignment_id):
        assignment = selectors.assignment_get_for_user(
            request.user, assignment_id, action=Action.CURATE
        )
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        assignment = assignment_update(
            user=request.user,
            assignment=assignment,
            name=values.get("name"),
            guidelines=values.get("guidelines"),
            due_at=values["due_at"] if "due_at" in values else ...,
        )
        return Response(self._body(assignment))


class AssignmentAnnotatorApi(APIView):
    class OutputSerializer(serializers.Serializer):
        moved = serializers.IntegerField(help_text="Open items given to the other annotators.")

    @extend_schema(responses={200: OutputSerializer})
    def delete(self, request, assignment_id, user_id):
        assignment = selectors.assignment_get_for_user(
            request.user, assignment_id, action=Action.CURATE
        )
        moved = assignment_annotator_remove(
            user=request.user, assignment=assignment, annotator_id=user_id
        )
        return Response({"moved": moved})


class AssignmentAgreementApi(APIView):
    @extend_schema(
        responses={200: OpenApiTypes.OBJECT},
        description="Krippendorff's alpha per field (verdict and tags nominal, rating ordinal "
        "and interval), Cohen's kappa per annotator pair with n, and the items with their "
        "annotations side by side, disagreements first.",
    )
    def get(self, request, assignment_id):
        assignment = selectors.assignment_get_for_user(
            request.user, assignment_id, action=Action.CURATE
        )
        return Response(selectors.assignment_agreement(assignment=assignment, user=request.user))


class AssignmentAdjudicateApi(APIView):
    class InputSerializer(serializers.Serializer):
        example = serializers.IntegerField(min_value=1, max_value=MAX_ID)
        pick = serializers.IntegerField(
            min_value=1, max_value=MAX_ID, required=False, help_text="Take this annotator's."
        )
        status = serializers.CharField(required=False, max_length=32)
        rating = serializers.IntegerField(
            required=False, allow_null=True, min_value=-(2**31), max_value=2**31
        )
        tags = serializers.ListField(
            child=serializers.CharField(max_length=64), required=False, max_length=50
        )
        answer = serializers.CharField(required=False, max_length=100_000)
        expected_revision = serializers.IntegerField(
            required=False, min_value=1, max_value=2**31 - 1
        )

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        example = serializers.IntegerField(source="example_id")
        status = serializers.CharField()
        rating = serializers.IntegerField(allow_null=True)
        tags = serializers.ListField(child=serializers.CharField())
        revision = serializers.IntegerField(source="revision_id", allow_null=True)
        annotators = serializers.ListField(child=serializers.IntegerField())

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request, assignment_id):
        assignment = selectors.assignment_get_for_user(
            request.user, assignment_id, action=Action.CURATE
        )
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        adjudication = example_adjudicate(
            user=request.user,
            assignment=assignment,
            example_id=values.pop("example"),
            pick=values.pop("pick", None),
            expected_revision=values.pop("expected_revision", None),
            changes=values,
        )
        return Response(self.OutputSerializer(adjudication).data, status=status.HTTP_201_CREATED)


class AssignmentStatisticsApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=["json", "csv"], default="json")],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, assignment_id):
        assignment = selectors.assignment_get_for_user(
            request.user, assignment_id, action=Action.CURATE
        )
        stats = selectors.assignment_statistics(assignment=assignment)
        if request.query_params.get("format") == "csv":
            response = HttpResponse(statistics_csv(stats), content_type="text/csv")
            response["Content-Disposition"] = (
                f'attachment; filename="assignment-{assignment.pk}-annotators.csv"'
            )
            return response
        return Response({"annotators": stats})


def _jsonl(records):
    for record in records:
        yield json.dumps(record, default=str, ensure_ascii=False) + "\n"


class DatasetAnnotationsExportApi(APIView):
    @extend_schema(
        description="JSON Lines, one line per annotated example: its messages, its consensus "
        "(status, rating, tags) and every annotator's submitted annotation.",
        responses={(200, "application/x-ndjson"): OpenApiTypes.BINARY},
    )
    def get(self, request, dataset_id):
        dataset = dataset_get_for_user(request.user, dataset_id, action=Action.EXPORT)
        records = selectors.dataset_annotations_export(dataset=dataset, user=request.user)
        response = StreamingHttpResponse(_jsonl(records), content_type="application/x-ndjson")
        response["Content-Disposition"] = (
            f'attachment; filename="dataset-{dataset.pk}-annotations.jsonl"'
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response
