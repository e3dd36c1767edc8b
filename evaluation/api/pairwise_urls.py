"""The pairwise review's API routes, appended to ``evaluation/api/urls.py`` (namespace ``api``)."""

from django.urls import path

from . import pairwise

REVIEW = "eval-runs/<int:eval_run_id>/pairwise/<int:review_id>/"

urlpatterns = [
    path(
        "eval-runs/<int:eval_run_id>/pairwise/",
        pairwise.PairwiseReviewListApi.as_view(),
        name="eval-run-pairwise",
    ),
    path(REVIEW, pairwise.PairwiseReviewDetailApi.as_view(), name="pairwise-review"),
    path(f"{REVIEW}next/", pairwise.PairwiseNextItemApi.as_view(), name="pairwise-next"),
    path(f"{REVIEW}judgments/", pairwise.PairwiseJudgmentsApi.as_view(), name="pairwise-judgments"),
    path(f"{REVIEW}results/", pairwise.PairwiseResultsApi.as_view(), name="pairwise-results"),
    path(
        f"{REVIEW}save-preferences/",
        pairwise.PairwiseSavePreferencesApi.as_view(),
        name="pairwise-save-preferences",
    ),
]
