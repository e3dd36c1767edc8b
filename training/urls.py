from django.urls import path

from . import views

app_name = "training"

urlpatterns = [
    path("versions/<int:version_id>/train/", views.train_form, name="train"),
    path("versions/<int:version_id>/preview/", views.version_preview, name="preview"),
    path("runs/<int:run_id>/", views.run_detail, name="run"),
    path("runs/<int:run_id>/cancel/", views.run_cancel, name="run-cancel"),
    path("models/<int:model_id>/", views.model_detail, name="model"),
    path("models/<int:model_id>/compare/", views.model_compare_page, name="model-compare"),
]
