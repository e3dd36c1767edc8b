"""The webhooks pages' URL table (namespace ``webhooks``); the API's is ``api/urls.py``."""

from django.urls import path

from . import webhooks

app_name = "webhooks"

urlpatterns = [
    path("teams/<int:team_id>/webhooks/", webhooks.team_webhooks, name="team"),
]
