"""The page of one failed item's nearest training examples (from a failure to its causes)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from finetunedb.exceptions import ApplicationError

from .. import selectors
from ..services.nearest import METHODS, nearest_training_examples


@login_required
def result_nearest(request, result_id):
    result = selectors.eval_result_get_for_user(request.user, result_id)
    method = request.GET.get("method") or "ngram"
    report, error, status = None, None, 200
    try:
        report = nearest_training_examples(result=result, method=method)
    except ApplicationError as exc:
        error, status = exc.message, exc.status_code
    return render(
        request,
        "evaluation/nearest.html",
        {
            "result": result,
            "run": result.run,
            "report": report,
            "error": error,
            "method": method,
            "methods": METHODS,
        },
        status=status,
    )
