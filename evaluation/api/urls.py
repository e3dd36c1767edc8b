"""The evaluation API's routes (DESIGN §8): suites, their runs, a run's results and comparison.

Included by ``finetunedb/api_urls.py`` into the ``api`` namespace (``api:eval-suite-list``).
"""

from django.urls import path

from . import results, runs, suites
from .judging_urls import urlpatterns as judging_routes
from .pairwise_urls import urlpatterns as pairwise_routes

urlpatterns = [
    path("eval-suites/", suites.EvalSuiteListApi.as_view(), name="eval-suite-list"),
    path(
        "eval-suites/<int:suite_id>/",
        suites.EvalSuiteDetailApi.as_view(),
        name="eval-suite-detail",
    ),
    path(
        "eval-suites/<int:suite_id>/runs/",
        suites.EvalSuiteRunsApi.as_view(),
        name="eval-suite-runs",
    ),
    path("eval-runs/<int:eval_run_id>/", runs.EvalRunDetailApi.as_view(), name="eval-run-detail"),
    path(
        "eval-runs/<int:eval_run_id>/cancel/",
        runs.EvalRunCancelApi.as_view(),
        name="eval-run-cancel",
    ),
    path(
        "eval-runs/<int:eval_run_id>/results/",
        runs.EvalRunResultsApi.as_view(),
        name="eval-run-results",
    ),
    path(
        "eval-runs/<int:eval_run_id>/compare/",
        runs.EvalRunCompareApi.as_view(),
        name="eval-run-compare",
    ),
    path(
        "eval-results/<int:result_id>/nearest-training-examples/",
        results.EvalResultNearestTrainingExamplesApi.as_view(),
        name="eval-result-nearest",
    ),
]
urlpatterns += pairwise_routes + judging_routes
