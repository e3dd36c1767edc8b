from django.urls import path

from . import transfer_views, views

app_name = "datasets"

urlpatterns = [
    path("datasets/", views.dataset_list, name="list"),
    path("datasets/new/", views.dataset_create, name="create"),
    path("datasets/<int:dataset_id>/", views.dataset_detail, name="detail"),
    path("datasets/<int:dataset_id>/examples/new/", views.example_new, name="example-new"),
    path("examples/<int:example_id>/", views.example_detail, name="example"),
    path("datasets/<int:dataset_id>/import/", transfer_views.import_new, name="import-new"),
    path("imports/<int:import_id>/", transfer_views.import_detail, name="import"),
    path("datasets/<int:dataset_id>/export/", transfer_views.export_form, name="export"),
]
