"""The /api/v1/ routes of webhooks (DESIGN §8), names in the ``api`` namespace."""

from django.urls import path

from . import webhooks

urlpatterns = [
    path("teams/<int:team_id>/webhooks/", webhooks.TeamWebhooksApi.as_view(), name="team-webhooks"),
    path(
        "teams/<int:team_id>/webhooks/deliveries/",
        webhooks.TeamWebhookDeliveriesApi.as_view(),
        name="team-webhook-deliveries",
    ),
    path("webhooks/<int:endpoint_id>/", webhooks.WebhookDetailApi.as_view(), name="webhook-detail"),
    path(
        "webhooks/<int:endpoint_id>/ping/", webhooks.WebhookPingApi.as_view(), name="webhook-ping"
    ),
    path(
        "webhook-deliveries/<int:delivery_id>/",
        webhooks.WebhookDeliveryDetailApi.as_view(),
        name="webhook-delivery-detail",
    ),
    path(
        "webhook-deliveries/<int:delivery_id>/redeliver/",
        webhooks.WebhookDeliveryRedeliverApi.as_view(),
        name="webhook-delivery-redeliver",
    ),
]
