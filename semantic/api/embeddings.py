"""Embedding jobs: POST /api/v1/datasets/{id}/embeddings/ queues one (202), GET reads the
latest job's status, and /api/v1/embedding-jobs/{id}/ one job."""

from django.http import Http404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from datasets_app import selectors
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import NOT_FOUND

from ..selectors import embedding_job_get_for_user, embedding_job_latest
from ..services.jobs import embedding_job_create
from ..services.topics import dataset_topics, topics_k_parse


class EmbeddingJobOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    dataset = serializers.IntegerField(source="dataset_id")
    model = serializers.CharField(source="model_name")
    status = serializers.CharField()
    progress = serializers.FloatField()
    examples_total = serializers.IntegerField()
    examples_to_embed = serializers.IntegerField()
    examples_embedded = serializers.IntegerField()
    failure_reason = serializers.CharField()
    attempts = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class DatasetEmbeddingsApi(APIView):
    class InputSerializer(serializers.Serializer):
        model = serializers.CharField(
            required=False,
            max_length=500,
            help_text="all-MiniLM-L6-v2 (bundled, the default) or a folder the deployment lists "
            "in FINETUNEDB_EMBEDDING_MODELS.",
        )

    @extend_schema(request=InputSerializer, responses={202: EmbeddingJobOutputSerializer})
    def post(self, request, dataset_id):
        dataset = selectors.dataset_get_for_user(request.user, dataset_id, action=Action.CURATE)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = embedding_job_create(
            user=request.user, dataset=dataset, model=data.validated_data.get("model")
        )
        job.refresh_from_db()
        response = Response(EmbeddingJobOutputSerializer(job).data, status=status.HTTP_202_ACCEPTED)
        response["Location"] = reverse(
            "api:embedding-job-detail", kwargs={"embedding_job_id": job.pk}
        )
        return response

    @extend_schema(responses={200: EmbeddingJobOutputSerializer})
    def get(self, request, dataset_id):
        dataset = selectors.dataset_get_for_user(request.user, dataset_id)
        job = embedding_job_latest(dataset=dataset)
        if job is None:
            raise Http404(NOT_FOUND)
        return Response(EmbeddingJobOutputSerializer(job).data)


class EmbeddingJobDetailApi(APIView):
    @extend_schema(responses={200: EmbeddingJobOutputSerializer})
    def get(self, request, embedding_job_id):
        job = embedding_job_get_for_user(user=request.user, job_id=embedding_job_id)
        return Response(EmbeddingJobOutputSerializer(job).data)


class DatasetTopicsApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("k", int, description="Topics wanted; default: chosen")],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, dataset_id):
        """Topic clusters of the dataset's embeddings: label (most distinctive words), size,
        share per split, first example ids, and a 2-D map (PCA) of a sample."""
        dataset = selectors.dataset_get_for_user(request.user, dataset_id)
        data = dataset_topics(dataset=dataset, k=topics_k_parse(request.query_params.get("k")))
        return Response({key: value for key, value in data.items() if key != "members"})
