"""The LLM judge's comparison routes, appended to ``evaluation/api/urls.py`` (namespace ``api``)."""

from django.urls import path

from . import judging

urlpatterns = [
    path(
        "eval-runs/<int:eval_run_id>/judge/",
        judging.JudgedComparisonListApi.as_view(),
        name="eval-run-judge",
    ),
    path(
        "eval-runs/<int:eval_run_id>/judge/<int:comparison_id>/",
        judging.JudgedComparisonDetailApi.as_view(),
        name="judged-comparison",
    ),
]
