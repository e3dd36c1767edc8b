"""The serving pages' URL table (namespace ``served``); the OpenAI routes are ``api/urls.py``."""

from django.urls import path

from . import traffic

app_name = "served"

urlpatterns = [
    path("models/<int:model_id>/traffic/", traffic.model_traffic, name="traffic"),
]
