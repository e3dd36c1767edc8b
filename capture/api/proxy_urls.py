"""The logging proxy's route, included at ``proxy/v1/`` by ``finetunedb/urls.py`` (DESIGN §8)."""

from django.urls import path

from . import proxy

app_name = "proxy"

urlpatterns = [
    path("chat/completions", proxy.ProxyChatCompletionsApi.as_view(), name="chat-completions"),
]
