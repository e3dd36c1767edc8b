"""The status page of an action job: progress while it runs (polled by static/js/actions.js,
or refreshed by the page itself without JavaScript), the result page when it is done."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET

from ..models import ActionStatus
from ..selectors import action_job_get_for_user
from ..services import action_job_status

REFRESH_S = 2


@login_required
@require_GET
def action_job_page(request, job_id):
    job = action_job_get_for_user(request.user, job_id)
    safe = url_has_allowed_host_and_scheme(job.result_url, allowed_hosts={request.get_host()})
    if job.status == ActionStatus.SUCCEEDED and job.result_url and safe:
        note = (job.result or {}).get("message")
        if note:
            messages.success(request, note)
        return redirect(job.result_url)
    return render(
        request,
        "actions/job.html",
        {"job": job, "status": action_job_status(job), "refresh_s": REFRESH_S},
    )
