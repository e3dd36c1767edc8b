"""The semantic layer's pages (namespace ``semantic``)."""

from django.urls import path

from . import views

app_name = "semantic"

urlpatterns = [
    path("datasets/<int:dataset_id>/semantic/", views.semantic_search, name="search"),
    path("datasets/<int:dataset_id>/semantic/embed/", views.embeddings_start, name="embed"),
    path("datasets/<int:dataset_id>/topics/", views.topics, name="topics"),
]
