"""Models: lineage and evaluation, file downloads, the playground, comparison of two models."""

from __future__ import annotations

from pathlib import Path

from django.http import FileResponse, Http404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from finetunedb.parsers import StrictJSONField
from finetunedb.teams.permissions import Action

from .. import selectors, services
from ..services.base_models import models_dir
from ..services.comparison import model_compare
from ..services.model_store import model_folder
from .serializers import ModelOutputSerializer, PlaygroundOutputSerializer

NOT_FOUND = "Not found."
# Written after the manifest's file list, so not in it; fixed names of ours.
MODEL_DOCUMENTS = ("manifest.json", "README.md")


def model_files(model) -> list[str]:
    """Every downloadable file of a model, by its name inside the model folder."""
    return sorted(set(model.manifest.get("files", {})) | set(MODEL_DOCUMENTS))


class ModelDetailApi(APIView):
    @extend_schema(responses={200: ModelOutputSerializer})
    def get(self, request, model_id):
        model = selectors.model_get_for_user(request.user, model_id)
        return Response(ModelOutputSerializer(model).data)


def model_file_path(model, name: str | None) -> Path:
    """The file of a model to download: one its manifest lists (the weights by default), and —
    after resolving links and ``..`` — inside both the models folder and the model's folder."""
    root = models_dir().resolve()
    folder = model_folder(model).resolve()
    if not folder.is_relative_to(root) or folder == root:
        raise Http404(NOT_FOUND)
    name = name or model.manifest.get("weights_file", "")
    if name not in model_files(model):
        raise Http404(NOT_FOUND)
    target = (folder / name).resolve()
    if not target.is_relative_to(folder) or not target.is_file():
        raise Http404(NOT_FOUND)
    return target


class ModelDownloadApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("file", str, description="A file of the manifest.")],
        responses={200: bytes},
    )
    def get(self, request, model_id):
        model = selectors.model_get_for_user(request.user, model_id, action=Action.EXPORT)
        target = model_file_path(model, request.query_params.get("file"))
        # The download name is ours, built from ids: never a user string (RFC 6266 safe).
        # The folder is part of it: weights/ and merged/ both hold a `*.safetensors`.
        inside = target.relative_to(model_folder(model).resolve())
        filename = f"model-{model.pk}-{'-'.join(inside.parts)}"
        return FileResponse(
            open(target, "rb"),  # noqa: SIM115 - FileResponse closes it
            as_attachment=True,
            filename=filename,
            content_type="application/octet-stream",
        )


class ModelPlaygroundApi(APIView):
    class InputSerializer(serializers.Serializer):
        messages = StrictJSONField()
        seeds = StrictJSONField(
            required=False,
            help_text="Two different seeds [a, b]: the fine-tuned model answers twice, sampled "
            "at each (answers {a, b}) instead of base against fine-tuned.",
        )
        temperature = serializers.FloatField(
            required=False, help_text="With seeds: above 0, at most 2."
        )

    @extend_schema(request=InputSerializer, responses={202: PlaygroundOutputSerializer})
    def post(self, request, model_id):
        model = selectors.model_get_for_user(request.user, model_id, action=Action.TRAIN)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        job = services.playground_request_create(
            user=request.user,
            model=model,
            messages=values["messages"],
            temperature=values.get("temperature"),
            seeds=values.get("seeds"),
        )
        job.refresh_from_db()
        return Response(PlaygroundOutputSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class PlaygroundDetailApi(APIView):
    @extend_schema(responses={200: PlaygroundOutputSerializer})
    def get(self, request, playground_id):
        job = selectors.playground_get_for_user(request.user, playground_id)
        return Response(PlaygroundOutputSerializer(job).data)


class ModelCompareApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("against", int, required=True)],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, model_id):
        model = selectors.model_get_for_user(request.user, model_id)
        other = selectors.model_get_for_user(request.user, request.query_params.get("against"))
        report = model_compare(model, other)
        report["versions_diff_url"] = (
            reverse("api:version-diff", args=[model.run.version_id])
            + f"?against={other.run.version_id}"
        )
        return Response(report)
