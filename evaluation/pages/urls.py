"""The evaluation pages' URL table (namespace ``evaluation``); the API's is ``api/urls.py``."""

from django.urls import path

from . import judging, lineage, nearest, pairwise, views

app_name = "evaluation"

urlpatterns = [
    path("evals/", views.suite_list, name="suites"),
    path("evals/suites/<int:suite_id>/", views.suite_detail, name="suite"),
    path("evals/runs/<int:eval_run_id>/", views.run_detail, name="run"),
    path("evals/runs/<int:eval_run_id>/cancel/", views.run_cancel, name="run-cancel"),
    path("evals/runs/<int:eval_run_id>/compare/", views.run_compare, name="compare"),
    path("evals/runs/<int:eval_run_id>/judge/", judging.judge_create, name="judge-create"),
    path("evals/results/<int:result_id>/nearest/", nearest.result_nearest, name="result-nearest"),
    path("versions/<int:version_id>/evals/", lineage.version_evals, name="version-evals"),
    path("models/<int:model_id>/evals/", views.model_evals, name="model-evals"),
    path(
        "evals/runs/<int:eval_run_id>/pairwise/",
        pairwise.review_create,
        name="pairwise-create",
    ),
    path("evals/reviews/<int:review_id>/", pairwise.review_queue, name="pairwise-queue"),
    path("evals/reviews/<int:review_id>/judge/", pairwise.review_judge, name="pairwise-judge"),
    path(
        "evals/reviews/<int:review_id>/results/",
        pairwise.review_results,
        name="pairwise-results",
    ),
    path(
        "evals/reviews/<int:review_id>/save-preferences/",
        pairwise.review_save_preferences,
        name="pairwise-save",
    ),
]
