"""The caller's annotation queue (DESIGN §8): the next item, one item, submitting it.

Blind: an item shows other annotators' labels only once the caller has submitted their own
(``selectors.annotations_visible_to``)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from finetunedb.teams.scoping import parse_id

from .. import selectors
from ..services.queue import (
    MAX_ANSWER,
    MAX_NOTE,
    MAX_TAGS,
    annotation_submit,
    queue_item_skip,
    queue_next,
)
from .serializers import AnnotationOutputSerializer, queue_item_data

BAD_ASSIGNMENT = "assignment: an assignment id."
LABEL_OR_SKIP = "send a label (verdict, rating, tags, note, answer) or skip: true, not both"
LABEL_FIELDS = ("verdict", "rating", "tags", "note", "answer", "seconds")


def _item_body(request, item):
    return queue_item_data(
        item,
        progress=selectors.queue_progress(user=request.user, assignment_id=item.assignment_id),
        mine=selectors.annotation_of(user=request.user, example_id=item.example_id),
        others=selectors.annotations_visible_to(user=request.user, example=item.example),
    )


class QueueNextApi(APIView):
    @extend_schema(
        operation_id="me_queue_next",
        parameters=[OpenApiParameter("assignment", int, description="Only this assignment.")],
        responses={200: OpenApiTypes.OBJECT},
        description="Claims the caller's next open item for a short lease and returns it; "
        "`item` is null when the queue is empty.",
    )
    def get(self, request):
        raw = request.query_params.get("assignment")
        assignment_id = None
        if raw not in (None, ""):
            assignment_id = parse_id(raw)
            if assignment_id is None:
                return Response(
                    {"detail": BAD_ASSIGNMENT, "code": "invalid", "errors": []},
                    status=status.HTTP_400_BAD_REQUEST,
                )
            selectors.assignment_get_for_user(request.user, assignment_id)
        item = queue_next(user=request.user, assignment_id=assignment_id)
        progress = selectors.queue_progress(user=request.user, assignment_id=assignment_id)
        if item is None:
            return Response({"item": None, "progress": progress})
        return Response({"item": _item_body(request, item), "progress": progress})


class QueueItemApi(APIView):
    @extend_schema(operation_id="me_queue_item", responses={200: OpenApiTypes.OBJECT})
    def get(self, request, item_id):
        item = selectors.queue_item_get_for_user(request.user, item_id)
        return Response(_item_body(request, item))


class QueueItemSubmitApi(APIView):
    class InputSerializer(serializers.Serializer):
        verdict = serializers.CharField(required=False, allow_blank=True, max_length=16)
        rating = serializers.IntegerField(
            required=False, allow_null=True, min_value=-(2**31), max_value=2**31
        )
        tags = serializers.ListField(
            child=serializers.CharField(max_length=64), required=False, max_length=MAX_TAGS
        )
        note = serializers.CharField(required=False, allow_blank=True, max_length=MAX_NOTE)
        answer = serializers.CharField(required=False, allow_blank=True, max_length=MAX_ANSWER)
        seconds = serializers.FloatField(required=False, min_value=0, max_value=86_400)
        skip = serializers.BooleanField(
            required=False,
            default=False,
            help_text="Pass on the item: it goes to the assignment's pool and comes back to "
            "you after the rest of your queue. Send no label with it.",
        )

        def validate(self, attrs):
            if attrs.get("skip") and any(key in attrs for key in LABEL_FIELDS):
                raise serializers.ValidationError({"skip": LABEL_OR_SKIP})
            return attrs

    @extend_schema(
        request=InputSerializer,
        responses={201: AnnotationOutputSerializer, 200: OpenApiTypes.OBJECT},
        description="Submit the caller's label (201), or `{skip: true}` to pass on the item "
        "(200, the item with status `skipped`).",
    )
    def post(self, request, item_id):
        item = selectors.queue_item_get_for_user(request.user, item_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data["skip"]:
            item = queue_item_skip(user=request.user, item=item)
            return Response(_item_body(request, item))
        annotation = annotation_submit(user=request.user, item=item, values=data.validated_data)
        return Response(
            _item_body(request, item) | {"mine": AnnotationOutputSerializer(annotation).data},
            status=status.HTTP_201_CREATED,
        )
