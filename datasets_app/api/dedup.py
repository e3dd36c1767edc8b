"""Duplicate search jobs, duplicate clusters and their resolution, contamination checks."""

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from finetunedb.pagination import CappedPageNumberPagination
from finetunedb.parsers import StrictJSONField
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import MAX_ID

from .. import selectors
from ..models import (
    DedupFields,
    DedupMethod,
)
from ..services import dedup as dedup_services


class DedupJobOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    dataset = serializers.IntegerField(source="dataset_id")
    method = serializers.CharField()
    threshold = serializers.FloatField()
    fields = serializers.CharField()
    status = serializers.CharField()
    stage = serializers.CharField()
    progress = serializers.FloatField()
    examples_total = serializers.IntegerField()
    examples_processed = serializers.IntegerField()
    clusters_found = serializers.IntegerField()
    duplicates_found = serializers.IntegerField()
    failure_reason = serializers.CharField()
    attempts = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class ClusterMemberOutputSerializer(serializers.Serializer):
    example = serializers.IntegerField(source="example_id")
    similarity = serializers.FloatField()
    status = serializers.CharField(source="example.status")


class ClusterOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    method = serializers.CharField()
    fields = serializers.CharField()
    threshold = serializers.FloatField()
    similarity_min = serializers.FloatField(source="min_similarity")
    similarity_max = serializers.FloatField(source="max_similarity")
    size = serializers.IntegerField()
    job = serializers.IntegerField(source="job_id", allow_null=True)
    members = ClusterMemberOutputSerializer(many=True)


class OverlapOutputSerializer(serializers.Serializer):
    a = serializers.IntegerField(help_text="Example of this dataset.")
    b = serializers.IntegerField(help_text="Example of the other dataset.")
    kind = serializers.ChoiceField(choices=["exact", "near", "semantic"])
    similarity = serializers.FloatField()


class DatasetDedupApi(APIView):
    class InputSerializer(serializers.Serializer):
        method = serializers.ChoiceField(choices=DedupMethod.choices, default=DedupMethod.NEAR)
        threshold = serializers.FloatField(
            min_value=0.5,
            max_value=1.0,
            required=False,
            help_text="near: Jaccard, default 0.8; semantic: cosine of embeddings, default 0.9.",
        )
        fields = serializers.ChoiceField(
            choices=DedupFields.choices, default=DedupFields.CONVERSATION
        )

    @extend_schema(request=InputSerializer, responses={202: DedupJobOutputSerializer})
    def post(self, request, dataset_id):
        dataset = selectors.dataset_get_for_user(request.user, dataset_id, action=Action.CURATE)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = dedup_services.dedup_job_create(
            user=request.user, dataset=dataset, **data.validated_data
        )
        job.refresh_from_db()
        response = Response(DedupJobOutputSerializer(job).data, status=status.HTTP_202_ACCEPTED)
        response["Location"] = reverse("api:dedup-job-detail", kwargs={"dedup_job_id": job.pk})
        return response


class DedupJobDetailApi(APIView):
    @extend_schema(responses={200: DedupJobOutputSerializer})
    def get(self, request, dedup_job_id):
        job = selectors.dedup_job_get_for_user(user=request.user, dedup_job_id=dedup_job_id)
        return Response(DedupJobOutputSerializer(job).data)


class DatasetDuplicateClusterListApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("method", str, enum=DedupMethod.values)],
        responses={200: ClusterOutputSerializer(many=True)},
    )
    def get(self, request, dataset_id):
        dataset = selectors.dataset_get_for_user(request.user, dataset_id)
        method = request.query_params.get("method")
        clusters = selectors.duplicate_cluster_list(
            dataset=dataset,
            # an unknown method matches nothing
            method=(method if method in DedupMethod.values else "") if method else None,
        )
        paginator = CappedPageNumberPagination()
        page = paginator.paginate_queryset(clusters, request, view=self)
        return paginator.get_paginated_response(ClusterOutputSerializer(page, many=True).data)


class DatasetDuplicateClusterResolveApi(APIView):
    class InputSerializer(serializers.Serializer):
        action = serializers.ChoiceField(choices=dedup_services.RESOLVE_ACTIONS)
        cluster = serializers.IntegerField(
            required=False,
            min_value=1,
            max_value=MAX_ID,
            help_text="keep, not_duplicates, merge_tags",
        )
        keep = serializers.IntegerField(
            required=False, min_value=1, max_value=MAX_ID, help_text="keep: the example to keep"
        )
        clusters = StrictJSONField(
            required=False, help_text='keep_best: a list of cluster ids, or "all"'
        )

    class OutputSerializer(serializers.Serializer):
        action = serializers.CharField()
        clusters_resolved = serializers.IntegerField()
        archived = serializers.IntegerField()
        tagged = serializers.IntegerField()
        pairs = serializers.IntegerField(help_text="Pairs remembered as not duplicates.")

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request, dataset_id):
        dataset = selectors.dataset_get_for_user(request.user, dataset_id, action=Action.CURATE)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = dedup_services.duplicate_clusters_resolve(
            user=request.user, dataset=dataset, **data.validated_data
        )
        return Response(self.OutputSerializer(result).data)


class DatasetContaminationApi(APIView):
    class InputSerializer(serializers.Serializer):
        against = serializers.IntegerField(help_text="Another dataset of the same team.")
        method = serializers.ChoiceField(
            choices=["text", "semantic"],
            default="text",
            help_text="text: exact and near (word shingles); semantic: cosine of the stored "
            "embeddings (both datasets embedded with the same model).",
        )
        threshold = serializers.FloatField(
            min_value=0.5,
            max_value=1.0,
            required=False,
            help_text="text: Jaccard, default 0.8; semantic: cosine, default 0.9.",
        )
        fields = serializers.ChoiceField(
            choices=DedupFields.choices, default=DedupFields.CONVERSATION
        )

    class OutputSerializer(serializers.Serializer):
        against = serializers.IntegerField()
        method = serializers.CharField()
        embedding_model = serializers.CharField(required=False)
        threshold = serializers.FloatField()
        fields = serializers.CharField()
        count = serializers.IntegerField()
        examples = serializers.IntegerField(help_text="Examples of this dataset that overlap.")
        exact = serializers.IntegerField()
        near = serializers.IntegerField()
        semantic = serializers.IntegerField()
        truncated = serializers.BooleanField(help_text="Only the first 1000 overlaps are listed.")
        overlaps = OverlapOutputSerializer(many=True)

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request, dataset_id):
        dataset = selectors.dataset_get_for_user(request.user, dataset_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # the other side is reached the same way, so another team's dataset is a 404
        against = selectors.dataset_get_for_user(request.user, data.validated_data["against"])
        result = dedup_services.dataset_contamination(
            dataset=dataset,
            against=against,
            threshold=data.validated_data.get("threshold"),
            fields=data.validated_data["fields"],
            method=data.validated_data["method"],
        )
        return Response(result)
