"""Imports (upload → job) and exports (streamed files)."""

from django.http import FileResponse, Http404, StreamingHttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from finetunedb.exceptions import ApplicationError
from finetunedb.pagination import CappedPageNumberPagination
from finetunedb.parsers import json_text_parse
from finetunedb.teams.permissions import Action

from .. import selectors
from ..formats import EXPORT_FORMATS, FORMATS
from ..models import ExampleStatus, ImportMode
from ..services import export as export_services
from ..services import imports as import_services
from ..uploads import raise_if_upload_too_large

FILE_REQUIRED = "Send the file as multipart/form-data in a field named 'file'."
INVALID_CHOICE = '"{{input}}" is not a valid {field}; use one of: {choices}.'


def _choice_field(field: str, choices, **kwargs) -> serializers.ChoiceField:
    """A choice field whose 400 names every valid value (DRF's says only "not a valid choice")."""
    values = [c[0] if isinstance(c, tuple) else c for c in choices]
    message = INVALID_CHOICE.format(field=field, choices=", ".join(values))
    return serializers.ChoiceField(
        choices=choices, error_messages={"invalid_choice": message}, **kwargs
    )


class ImportJobOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    dataset = serializers.IntegerField(source="dataset_id")
    status = serializers.CharField()
    file_name = serializers.CharField(source="original_name")
    size_bytes = serializers.IntegerField()
    requested_format = serializers.CharField()
    detected_format = serializers.CharField()
    container = serializers.CharField()
    compressed = serializers.BooleanField()
    mode = serializers.CharField()
    skip_duplicates = serializers.BooleanField()
    initial_status = serializers.CharField(help_text="The status the imported examples start in.")
    progress = serializers.FloatField()
    bytes_processed = serializers.IntegerField()
    rows_processed = serializers.IntegerField()
    rows_valid = serializers.IntegerField()
    rows_invalid = serializers.IntegerField()
    duplicates_in_file = serializers.IntegerField()
    duplicates_in_dataset = serializers.IntegerField()
    examples_created = serializers.IntegerField()
    first_errors = serializers.JSONField()
    failure_reason = serializers.CharField()
    error_report = serializers.SerializerMethodField()
    attempts = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)

    def get_error_report(self, job) -> str | None:
        if not job.has_error_report:
            return None
        return reverse("api:import-errors", kwargs={"import_id": job.pk})


class DatasetImportApi(APIView):
    parser_classes = [MultiPartParser]

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField()
        format = _choice_field("format", FORMATS, default="auto")
        mode = _choice_field("mode", ImportMode.choices, default=ImportMode.STRICT)
        column_mapping = serializers.CharField(
            required=False, max_length=10_000, help_text="JSON object"
        )
        skip_duplicates = serializers.BooleanField(default=False)
        status = _choice_field(
            "status",
            ExampleStatus.choices,
            default=ExampleStatus.DRAFT,
            help_text="The status every imported example starts in (default draft).",
        )

    @extend_schema(responses={200: ImportJobOutputSerializer(many=True)})
    def get(self, request, dataset_id):
        dataset = selectors.dataset_get_for_user(request.user, dataset_id)
        paginator = CappedPageNumberPagination()
        page = paginator.paginate_queryset(
            selectors.import_job_list(dataset=dataset), request, view=self
        )
        return paginator.get_paginated_response(ImportJobOutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={202: ImportJobOutputSerializer})
    def post(self, request, dataset_id):
        # Scope and role first, so an outsider's or a viewer's body is never read.
        dataset = selectors.dataset_get_for_user(request.user, dataset_id, action=Action.IMPORT)
        # A team with no free import slot, or already at its storage quota, is refused before
        # the body streams in; the service checks again with the file's real size.
        usage = import_services.import_job_admit(user=request.user, dataset=dataset)
        files = request.FILES
        raise_if_upload_too_large(request._request)
        if "file" not in files:
            raise ApplicationError(
                FILE_REQUIRED, errors=[{"path": "file", "message": FILE_REQUIRED}]
            )
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        mapping = None
        if data.validated_data.get("column_mapping"):
            mapping = json_text_parse(data.validated_data["column_mapping"], field="column_mapping")
        job = import_services.import_job_create(
            user=request.user,
            dataset=dataset,
            upload=data.validated_data["file"],
            format=data.validated_data["format"],
            mode=data.validated_data["mode"],
            column_mapping=mapping,
            skip_duplicates=data.validated_data["skip_duplicates"],
            status=data.validated_data["status"],
            usage=usage,
        )
        job.refresh_from_db()
        response = Response(ImportJobOutputSerializer(job).data, status=status.HTTP_202_ACCEPTED)
        response["Location"] = reverse("api:import-detail", kwargs={"import_id": job.pk})
        return response


class ImportDetailApi(APIView):
    @extend_schema(responses={200: ImportJobOutputSerializer})
    def get(self, request, import_id):
        job = selectors.import_job_get_for_user(user=request.user, import_id=import_id)
        return Response(ImportJobOutputSerializer(job).data)


class ImportErrorReportApi(APIView):
    @extend_schema(responses={(200, "application/x-ndjson"): OpenApiTypes.BINARY})
    def get(self, request, import_id):
        job = selectors.import_job_get_for_user(user=request.user, import_id=import_id)
        path = import_services.import_job_error_report_local(job) if job.has_error_report else None
        if path is None:
            raise Http404("This import has no error report.")
        return FileResponse(
            open(path, "rb"),
            as_attachment=True,
            filename=f"import-{job.pk}-errors.jsonl",
            content_type="application/x-ndjson",
        )


class DatasetExportApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=list(EXPORT_FORMATS), default="openai"),
            OpenApiParameter("split", str),
            OpenApiParameter(
                "status", str, description="Comma-separated; default: everything not archived."
            ),
            OpenApiParameter("gzip", bool, default=False),
            OpenApiParameter(
                "metadata", bool, default=False, description="Include each example's metadata."
            ),
            OpenApiParameter(
                "skip_unrepresentable",
                bool,
                default=False,
                description="Leave out the examples a lossy format cannot hold (else 400).",
            ),
            OpenApiParameter(
                "base_model",
                str,
                description="format=rendered: whose chat template renders the rows "
                "(an allowed base model; default the bundled one).",
            ),
        ],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    def get(self, request, dataset_id):
        dataset = selectors.dataset_get_for_user(request.user, dataset_id, action=Action.EXPORT)
        params = request.query_params
        export = export_services.dataset_export(
            user=request.user,
            dataset=dataset,
            format=params.get("format") or "openai",
            split=params.get("split") or None,
            status=params.get("status") or None,
            compress=export_services.export_flag(params.get("gzip")),
            include_metadata=export_services.export_flag(params.get("metadata")),
            skip_unrepresentable=export_services.export_flag(params.get("skip_unrepresentable")),
            base_model=params.get("base_model") or None,
        )
        response = StreamingHttpResponse(iter(export), content_type=export.media_type)
        response["Content-Disposition"] = (
            f'attachment; filename="dataset-{dataset.pk}.{export.extension}"'
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response
