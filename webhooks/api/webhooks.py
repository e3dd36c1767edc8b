"""A team's webhooks (DESIGN §8): endpoints (list, create, delete, pause), deliveries and their
log, redeliver, ping. Owners and admins only. Views parse and delegate."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from finetunedb.events import EVENT_TYPES
from finetunedb.teams.scoping import parse_id

from .. import selectors
from ..services import deliveries, endpoints
from ..services.events import webhook_endpoint_ping


class EndpointOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    events = serializers.ListField(child=serializers.CharField())
    description = serializers.CharField()
    active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField(source="created_by.username", default=None)


class EndpointCreatedSerializer(EndpointOutputSerializer):
    secret = serializers.CharField(
        allow_null=True,
        help_text="The generated signing secret, shown this once; null when you sent your own.",
    )


class EndpointInputSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=2000, help_text="http(s); public addresses only.")
    events = serializers.ListField(
        child=serializers.CharField(max_length=60),
        max_length=len(EVENT_TYPES),
        help_text="Event types: " + ", ".join(EVENT_TYPES),
    )
    secret = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="whsec_ + base64 of 24-64 bytes; left out, one is generated and returned once.",
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)


class EndpointIdSerializer(serializers.Serializer):
    id = serializers.IntegerField(min_value=1)


class EndpointPatchSerializer(serializers.Serializer):
    active = serializers.BooleanField()


class AttemptSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    status_code = serializers.IntegerField(allow_null=True)
    duration_ms = serializers.IntegerField()
    response_head = serializers.CharField(help_text="The first 300 bytes of the answer.")
    error = serializers.CharField()
    manual = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class DeliveryOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    endpoint = serializers.IntegerField(source="endpoint_id")
    message_id = serializers.CharField(source="event.message_id")
    type = serializers.CharField(source="event.type")
    status = serializers.CharField()
    tries = serializers.IntegerField()
    next_try_at = serializers.DateTimeField(allow_null=True)
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField()
    created_at = serializers.DateTimeField()


class DeliveryDetailSerializer(DeliveryOutputSerializer):
    payload = serializers.JSONField(source="event.payload")
    attempts = AttemptSerializer(many=True)


def _body(request) -> dict:
    return request.data if isinstance(request.data, dict) else {}


class TeamWebhooksApi(APIView):
    @extend_schema(responses={200: EndpointOutputSerializer(many=True)})
    def get(self, request, team_id):
        team = selectors.webhook_team_get(request.user, team_id)
        rows = selectors.webhook_endpoint_list(team=team)
        return Response(EndpointOutputSerializer(rows, many=True).data)

    @extend_schema(request=EndpointInputSerializer, responses={201: EndpointCreatedSerializer})
    def post(self, request, team_id):
        team = selectors.webhook_team_get(request.user, team_id)
        data = EndpointInputSerializer(data=_body(request))
        data.is_valid(raise_exception=True)
        endpoint, secret = endpoints.webhook_endpoint_create(
            user=request.user, team=team, **data.validated_data
        )
        endpoint.secret = secret
        return Response(EndpointCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=EndpointIdSerializer, responses={204: None})
    def delete(self, request, team_id):
        team = selectors.webhook_team_get(request.user, team_id)
        endpoint_id = _body(request).get("id", request.query_params.get("id"))
        endpoints.webhook_endpoint_delete(user=request.user, team=team, endpoint_id=endpoint_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDetailApi(APIView):
    @extend_schema(request=EndpointPatchSerializer, responses={200: EndpointOutputSerializer})
    def patch(self, request, endpoint_id):
        endpoint = selectors.webhook_endpoint_get_for_user(request.user, endpoint_id)
        data = EndpointPatchSerializer(data=_body(request))
        data.is_valid(raise_exception=True)
        endpoint = endpoints.webhook_endpoint_set_active(
            user=request.user, endpoint=endpoint, active=data.validated_data["active"]
        )
        return Response(EndpointOutputSerializer(endpoint).data)


class WebhookPingApi(APIView):
    @extend_schema(request=None, responses={202: DeliveryOutputSerializer})
    def post(self, request, endpoint_id):
        endpoint = selectors.webhook_endpoint_get_for_user(request.user, endpoint_id)
        delivery = webhook_endpoint_ping(user=request.user, endpoint=endpoint)
        return Response(DeliveryOutputSerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class TeamWebhookDeliveriesApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("endpoint", int, description="Only this endpoint's.")],
        responses={200: DeliveryOutputSerializer(many=True)},
    )
    def get(self, request, team_id):
        team = selectors.webhook_team_get(request.user, team_id)
        endpoint_id = parse_id(request.query_params.get("endpoint"))
        rows = selectors.webhook_delivery_list(team=team, endpoint_id=endpoint_id)
        return Response(DeliveryOutputSerializer(rows, many=True).data)


class WebhookDeliveryDetailApi(APIView):
    @extend_schema(responses={200: DeliveryDetailSerializer})
    def get(self, request, delivery_id):
        delivery = selectors.webhook_delivery_get_for_user(request.user, delivery_id)
        delivery.attempts = selectors.webhook_attempt_list(delivery=delivery)
        return Response(DeliveryDetailSerializer(delivery).data)


class WebhookDeliveryRedeliverApi(APIView):
    @extend_schema(request=None, responses={202: DeliveryOutputSerializer})
    def post(self, request, delivery_id):
        delivery = selectors.webhook_delivery_get_for_user(request.user, delivery_id)
        delivery = deliveries.webhook_delivery_redeliver(user=request.user, delivery=delivery)
        return Response(DeliveryOutputSerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
