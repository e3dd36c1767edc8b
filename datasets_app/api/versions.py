"""Version API: freeze, read, rename, diff, export, restore. Views parse and delegate.

No route changes a version's content: PUT and DELETE are not offered (405) and PATCH accepts
only name and notes.
"""

from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework import serializers, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from finetunedb.actions.services import action_job_status
from finetunedb.exceptions import ApplicationError
from finetunedb.pagination import CappedPageNumberPagination
from finetunedb.teams.permissions import Action

from .. import selectors
from ..formats import EXPORT_FORMATS
from ..models import Split
from ..services import export as export_services
from ..services import versions as services
from ..services.action_jobs import version_freeze_start

FROZEN_FIELD = "is part of the frozen version and cannot be changed"
UNKNOWN_FIELD = "unknown field; a version's name and notes can be changed"
CONTENT_FIELDS = (
    "number",
    "dataset",
    "parent",
    "content_hash",
    "counts",
    "stats",
    "check_report",
    "report",
    "forced",
    "force_reason",
    "created_by",
    "created_at",
    "entries",
    "examples",
)


class VersionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    dataset = serializers.IntegerField(source="dataset_id")
    number = serializers.IntegerField()
    name = serializers.CharField()
    notes = serializers.CharField()
    parent = serializers.IntegerField(source="parent_id", allow_null=True)
    content_hash = serializers.CharField(help_text="sha256 over the sorted split/hash lines.")
    counts = serializers.JSONField(help_text="Examples per split.")
    total = serializers.IntegerField()
    stats = serializers.JSONField(help_text="Dataset statistics at freeze time.")
    check_report = serializers.JSONField(help_text="Check results by rule at freeze time.")
    forced = serializers.BooleanField()
    force_reason = serializers.CharField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True)
    created_at = serializers.DateTimeField()


class RestoreOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    dataset = serializers.IntegerField(source="dataset_id")
    version = serializers.IntegerField(source="version_id")
    counts = serializers.JSONField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True)
    created_at = serializers.DateTimeField()
    undone_at = serializers.DateTimeField(allow_null=True)


class DatasetVersionListCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
        notes = serializers.CharField(
            required=False, allow_blank=True, default="", max_length=20_000
        )
        force = serializers.BooleanField(required=False, default=False)
        reason = serializers.CharField(
            required=False, allow_blank=True, default="", max_length=5_000
        )

    @extend_schema(responses={200: VersionOutputSerializer(many=True)})
    def get(self, request, dataset_id):
        dataset = selectors.dataset_get_for_user(request.user, dataset_id)
        paginator = CappedPageNumberPagination()
        page = paginator.paginate_queryset(selectors.version_list(dataset), request, view=self)
        return paginator.get_paginated_response(VersionOutputSerializer(page, many=True).data)

    @extend_schema(
        request=InputSerializer,
        parameters=[
            OpenApiParameter(
                "async",
                str,
                description="1: queue the freeze as a job and answer 202 at once with its "
                "status (status_url to poll; result.version when it succeeded). The gate's "
                "409 and validation's 400 are answered before any job is queued.",
            )
        ],
        responses={201: VersionOutputSerializer, 202: OpenApiTypes.OBJECT},
    )
    def post(self, request, dataset_id):
        dataset = selectors.dataset_get_for_user(request.user, dataset_id, action=Action.FREEZE)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if request.query_params.get("async") == "1":
            job, _ = version_freeze_start(user=request.user, dataset=dataset, **data.validated_data)
            body = action_job_status(job)
            return Response(
                body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["status_url"]}
            )
        version = services.dataset_version_freeze(
            user=request.user, dataset=dataset, **data.validated_data
        )
        return Response(VersionOutputSerializer(version).data, status=status.HTTP_201_CREATED)


class VersionDetailApi(APIView):
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=200, required=False)
        notes = serializers.CharField(required=False, allow_blank=True, max_length=20_000)

    @extend_schema(responses={200: VersionOutputSerializer})
    def get(self, request, version_id):
        version = selectors.version_get_for_user(request.user, version_id)
        return Response(VersionOutputSerializer(version).data)

    @extend_schema(request=InputSerializer, responses={200: VersionOutputSerializer})
    def patch(self, request, version_id):
        version = selectors.version_get_for_user(request.user, version_id, action=Action.FREEZE)
        extra = (
            sorted(set(request.data) - {"name", "notes"}) if hasattr(request.data, "keys") else []
        )
        if extra:
            raise ApplicationError(
                "Only a version's name and notes can be changed.",
                code="frozen",
                errors=[
                    {"path": k, "message": FROZEN_FIELD if k in CONTENT_FIELDS else UNKNOWN_FIELD}
                    for k in extra
                ],
            )
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = services.dataset_version_update(
            user=request.user, version=version, **data.validated_data
        )
        return Response(VersionOutputSerializer(version).data)


class VersionDiffApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("against", int, required=True, description="The older version."),
            OpenApiParameter("kind", str, enum=["added", "removed", "changed", "moved"]),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int, description="At most 200."),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, version_id):
        version = selectors.version_get_for_user(request.user, version_id)
        against_id = request.query_params.get("against")
        if not against_id:
            raise ApplicationError(
                "Name the version to compare with: ?against=<version id>.",
                errors=[{"path": "against", "message": "required"}],
            )
        against = selectors.version_get_for_user(request.user, against_id)
        diff = services.dataset_version_diff(
            version=version,
            against=against,
            page=request.query_params.get("page"),
            page_size=request.query_params.get("page_size"),
            kind=request.query_params.get("kind"),
        )
        return Response(diff)


class VersionExportApi(APIView):
    def perform_content_negotiation(self, request, force=False):
        # ?format= names the export format here, not one of DRF's renderers.
        return JSONRenderer(), JSONRenderer.media_type

    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=list(EXPORT_FORMATS)),
            OpenApiParameter("split", str, enum=list(Split.values)),
            OpenApiParameter("metadata", bool, description="Include each example's metadata."),
            OpenApiParameter("gzip", bool, default=False),
            OpenApiParameter("compress", str, enum=["gzip"], description="Same as gzip=1."),
            OpenApiParameter("skip_unrepresentable", bool),
            OpenApiParameter(
                "base_model",
                str,
                description="format=rendered: whose chat template renders the rows "
                "(an allowed base model; default the bundled one).",
            ),
        ],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    def get(self, request, version_id):
        version = selectors.version_get_for_user(request.user, version_id, action=Action.EXPORT)
        params = request.query_params
        split = params.get("split") or None
        export = export_services.dataset_version_export(
            user=request.user,
            version=version,
            format=params.get("format") or "openai",
            split=split,
            include_metadata=export_services.export_flag(params.get("metadata")),
            compress=export_services.export_flag(params.get("gzip"))
            or params.get("compress", "").lower() == "gzip",
            skip_unrepresentable=export_services.export_flag(params.get("skip_unrepresentable")),
            base_model=params.get("base_model") or None,
        )
        response = StreamingHttpResponse(iter(export), content_type=export.media_type)
        filename = export_services.export_filename(version, export, split)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class VersionRestoreApi(APIView):
    @extend_schema(request=None, responses={201: RestoreOutputSerializer})
    def post(self, request, version_id):
        version = selectors.version_get_for_user(request.user, version_id, action=Action.CURATE)
        restore = services.dataset_version_restore(user=request.user, version=version)
        return Response(RestoreOutputSerializer(restore).data, status=status.HTTP_201_CREATED)


class RestoreDetailApi(APIView):
    @extend_schema(responses={200: RestoreOutputSerializer})
    def get(self, request, restore_id):
        restore = selectors.restore_get_for_user(request.user, restore_id)
        return Response(RestoreOutputSerializer(restore).data)


class RestoreUndoApi(APIView):
    @extend_schema(request=None, responses={200: RestoreOutputSerializer})
    def post(self, request, restore_id):
        restore = selectors.restore_get_for_user(request.user, restore_id, action=Action.CURATE)
        restore = services.version_restore_undo(user=request.user, restore=restore)
        return Response(RestoreOutputSerializer(restore).data)
