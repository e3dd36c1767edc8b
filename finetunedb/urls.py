from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("finetunedb.api_urls")),
    path("", include("finetunedb.teams.urls")),
    path("", include("datasets_app.urls")),
]
urlpatterns += [path("", include("training.urls"))]
