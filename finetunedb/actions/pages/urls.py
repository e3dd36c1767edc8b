from django.urls import path

from . import jobs

app_name = "actions"

urlpatterns = [
    path("actions/<int:job_id>/", jobs.action_job_page, name="job"),
]
