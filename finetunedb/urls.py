from django.conf import settings
from django.contrib import admin
from django.http import Http404
from django.urls import include, path

from finetunedb.teams.login_throttle import AdminLoginForm, admin_address_allowed

admin.site.login_form = AdminLoginForm
_admin_has_permission = admin.site.has_permission


def _admin_permission(request) -> bool:
    # Every admin view but login/logout asks this; outside the allowed addresses nobody passes.
    return admin_address_allowed(request) and _admin_has_permission(request)


admin.site.has_permission = _admin_permission


def admin_login(request, extra_context=None):
    """The admin's sign-in behind the same throttle as /login/, answering 429 when it refuses."""
    if not admin_address_allowed(request):
        raise Http404("Not found.")
    response = admin.site.login(request, extra_context)
    form = (getattr(response, "context_data", None) or {}).get("form")
    if getattr(form, "throttled", False):
        response.status_code = 429
    return response


urlpatterns = []
if settings.FINETUNEDB_ADMIN_ENABLED:
    urlpatterns += [
        path("admin/login/", admin_login),
        path("admin/", admin.site.urls),
    ]
urlpatterns += [
    path("api/v1/", include("finetunedb.api_urls")),
    path("proxy/v1/", include("capture.api.proxy_urls")),
    # OpenAI-compatible serving (DESIGN §8): the paths OpenAI clients call under their base URL.
    path("v1/", include("serving.api.urls")),
    path("", include("finetunedb.teams.pages.urls")),
    path("", include("datasets_app.pages.urls")),
    path("", include("training.pages.urls")),
    path("", include("evaluation.pages.urls")),
    path("", include("capture.pages.urls")),
    path("", include("serving.pages.urls")),
    path("", include("annotation.pages.urls")),
    path("", include("finetunedb.actions.pages.urls")),
    path("", include("semantic.pages.urls")),
    path("", include("webhooks.pages.urls")),
]
