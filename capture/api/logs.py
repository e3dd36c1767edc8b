"""``POST /api/v1/logs/``: one log or ``{"logs": [...]}`` with an ingest key or a token (DESIGN §8)."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from finetunedb.exceptions import ApplicationError, PayloadTooLarge
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import NOT_FOUND, parse_id
from finetunedb.teams.selectors import team_get_for_user

from .. import selectors
from ..authentication import LOG_WRITE_AUTHENTICATION, IsUserOrIngestKey
from ..filters import FIELDS as FILTERS
from ..filters import filters_parse
from ..models import IngestKey
from ..services.logs import (
    log_batch_authorize,
    log_batch_create,
    log_feedback_authorize,
    log_feedback_set,
)
from .serializers import LogFeedbackInputSerializer, LogOutputSerializer

TEAM_REQUIRED = (
    'Name the team the logs belong to: ?team=<id> or "team": <id> in the body '
    "(an ingest key names its own team)."
)
KEY_TEAM_ONLY = 'This ingest key writes logs of its own team only; leave "team" out.'
MAX_PAGE_SIZE = 200
BAD_MODE = "mode is 'strict' (the default: one bad log stores nothing) or 'skip_invalid'."
BODY_TOO_LARGE = (
    "The body is larger than {limit} bytes (FINETUNEDB_LOG_BATCH_MAX_BYTES); send smaller batches."
)
BATCH_FIELDS = 'A batch is {{"logs": [...]}}; unrecognized top-level field {!r}.'


FILTER_HELP = {
    "search": "words of the conversation's text, all of them, the last one as a prefix "
    "(case-insensitive; punctuation separates words)",
}


@contextmanager
def collector_paused():
    """Pause Python's cyclic garbage collector (reference counting still frees everything that
    is not in a cycle), unless something else already paused it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def body_limit() -> int:
    return int(
        getattr(settings, "FINETUNEDB_LOG_BATCH_MAX_BYTES", settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    )


class LogsAcceptedSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    ids = serializers.ListField(child=serializers.IntegerField())
    rejected = serializers.ListField(child=serializers.DictField(), required=False)


class LogListApi(APIView):
    authentication_classes = LOG_WRITE_AUTHENTICATION
    permission_classes = [IsUserOrIngestKey]

    @extend_schema(
        parameters=[
            OpenApiParameter("team", int, required=False, description="with a personal token"),
            OpenApiParameter("mode", str, required=False, enum=["strict", "skip_invalid"]),
            OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False),
        ],
        request=OpenApiTypes.OBJECT,
        responses={202: LogsAcceptedSerializer},
    )
    def post(self, request):
        # A batch is ~100,000 fresh objects (the parsed body, the rows), all alive until the
        # answer: the cyclic collector would walk them, and at a full pass the whole heap,
        # several times per batch and free nothing. It runs again once the batch is stored.
        with collector_paused():
            return self._post(request)

    def _post(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > body_limit():
            raise PayloadTooLarge(BODY_TOO_LARGE.format(limit=body_limit()))
        mode = request.query_params.get("mode", "strict")
        if mode not in ("strict", "skip_invalid"):
            raise ApplicationError(BAD_MODE, code="mode")
        key = request.auth if isinstance(request.auth, IngestKey) else None
        body = request.data
        named = None
        if isinstance(body, dict) and "team" in body:
            # {"team": 3, "logs": [...]} or one log with its team beside it
            body = dict(body)
            named = parse_id(body.pop("team"))
            if named is None:
                raise ApplicationError(TEAM_REQUIRED, code="team_required")
        named = named or parse_id(request.query_params.get("team"))
        if key is not None:
            if named is not None and named != key.team_id:
                raise ApplicationError(KEY_TEAM_ONLY, code="wrong_team")
            team = key.team
        else:
            if named is None:
                raise ApplicationError(TEAM_REQUIRED, code="team_required")
            team = team_get_for_user(request.user, named)
            if team is None:
                raise Http404(NOT_FOUND)
            log_batch_authorize(user=request.user, team=team, action=Action.ANNOTATE)
        if isinstance(body, dict) and "logs" in body:
            extra = [k for k in body if k != "logs"]
            if extra:
                raise ApplicationError(BATCH_FIELDS.format(extra[0]), code="invalid_logs")
            entries = body["logs"]
        else:
            entries = [body]
        result = log_batch_create(
            team=team,
            entries=entries,
            ingest_key=key,
            idempotency_key=request.headers.get("Idempotency-Key") or None,
            skip_invalid=mode == "skip_invalid",
        )
        out = {"accepted": len(result.ids), "ids": result.ids}
        if mode == "skip_invalid":
            out["rejected"] = result.errors
        response = Response(out, status=status.HTTP_202_ACCEPTED)
        if result.replayed:
            response["Idempotent-Replayed"] = "true"
        return response

    @extend_schema(
        parameters=[
            OpenApiParameter(name, str, required=False, description=FILTER_HELP.get(name, ""))
            for name in FILTERS
        ]
        + [
            OpenApiParameter("after", int, required=False),
            OpenApiParameter("before", int, required=False),
            OpenApiParameter("page_size", int, required=False),
        ],
        responses={200: LogOutputSerializer(many=True)},
    )
    def get(self, request):
        """Newest first (by id; within a ``since``/``until`` window by creation time, ties by
        id), keyset-paged: ``next``/``previous`` carry ``?after=``/``?before=``."""
        params = request.query_params
        clean = filters_parse(params, strict=False)
        size = min(max(parse_id(params.get("page_size")) or 50, 1), MAX_PAGE_SIZE)
        page = selectors.log_page_for_user(
            request.user,
            filters=clean,
            after=params.get("after"),
            before=params.get("before"),
            size=size,
        )
        base = request.build_absolute_uri(request.path)
        keep = {k: v for k, v in params.items() if k not in ("after", "before")}
        return Response(
            {
                "next": _link(base, keep, after=page.last_id) if page.has_next else None,
                "previous": _link(base, keep, before=page.first_id) if page.has_prev else None,
                "results": LogOutputSerializer(page.rows, many=True).data,
            }
        )


def _link(base: str, params: dict, **anchor) -> str:
    return base + "?" + urlencode({**params, **anchor})


class LogDetailApi(APIView):
    @extend_schema(responses={200: LogOutputSerializer})
    def get(self, request, log_id):
        return Response(LogOutputSerializer(selectors.log_get_for_user(request.user, log_id)).data)


class LogFeedbackApi(APIView):
    @extend_schema(request=LogFeedbackInputSerializer, responses={200: LogOutputSerializer})
    def post(self, request, log_id):
        log = selectors.log_get_for_user(request.user, log_id)
        data = LogFeedbackInputSerializer(data=request.data)
        # the role before the body: a viewer hears 403 whatever it sent
        log_feedback_authorize(user=request.user, log=log)
        data.is_valid(raise_exception=True)
        log = log_feedback_set(user=request.user, log=log, **data.validated_data)
        return Response(LogOutputSerializer(log).data)
