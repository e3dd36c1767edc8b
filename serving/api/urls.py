"""The OpenAI-compatible routes, mounted at /v1/ by finetunedb/urls.py (DESIGN §8)."""

from django.urls import path

from . import views

app_name = "serving"

urlpatterns = [
    path("models", views.models_list, name="models"),
    path("chat/completions", views.chat_completions, name="chat-completions"),
]
