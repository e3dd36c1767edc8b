"""/api/v1/ — the public contract of DESIGN §6 and §8, composed from each app's ``api/urls.py``.

This module only composes: every route lives in its app's ``api/urls.py`` (the apps' modules
have no ``app_name``, so their names join the one ``api`` namespace: ``api:dataset-list``). The
schema and its docs page stay here because they describe all of them.
"""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

app_name = "api"

urlpatterns = [
    path("", include("finetunedb.teams.api.urls")),
    path("", include("datasets_app.api.urls")),
    path("", include("training.api.urls")),
    path("", include("evaluation.api.urls")),
    path("", include("capture.api.urls")),
    path("", include("annotation.api.urls")),
    path("", include("finetunedb.actions.api.urls")),
    path("", include("semantic.api.urls")),
    path("", include("webhooks.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
]
