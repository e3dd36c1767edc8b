"""Pages for signing in, teams, members and API tokens. Views parse and delegate."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from finetunedb.exceptions import ApplicationError

from .. import selectors, services
from ..context_processors import SESSION_KEY
from ..forms import LoginForm, SignupForm, TeamForm, TokenForm
from ..home_panels import home_panels_context

SIGNUP_CLOSED = "Sign-up is closed on this server. Ask an administrator for an account."
TOKENS_REVOKED = "Password changed. {n} API token(s) revoked: scripts using them now get 401."


class LoginView(auth_views.LoginView):
    template_name = "teams/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "signup_open": settings.FINETUNEDB_SIGNUP_OPEN,
        }

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.throttled:
            response.status_code = 429
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change (the session stays signed in via update_session_auth_hash),
    which also revokes the user's API tokens: a stolen token must not outlive the password."""

    template_name = "teams/password_change.html"
    success_url = reverse_lazy("teams:password-done")

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "active_tokens": services.api_token_count_active(user=self.request.user),
        }

    def form_valid(self, form):
        with transaction.atomic():
            revoked = services.api_token_count_active(user=self.request.user)
            response = super().form_valid(form)
            services.api_tokens_revoke_all(user=self.request.user)
        messages.success(request=self.request, message=TOKENS_REVOKED.format(n=revoked))
        return response


def signup(request):
    if not settings.FINETUNEDB_SIGNUP_OPEN:
        return render(request, "teams/signup.html", {"closed": SIGNUP_CLOSED}, status=403)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_signup(**form.cleaned_data)
        except ApplicationError as exc:
            for error in exc.errors:
                form.add_error(
                    error["path"] if error["path"] in form.fields else None, error["message"]
                )
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("teams:home")
    return render(request, "teams/signup.html", {"form": form})


@login_required
def home(request):
    panels = home_panels_context(user=request.user, team=_current_team(request))
    return render(
        request,
        "teams/home.html",
        {
            **panels,
            "team_form": TeamForm(),
            "invitations": selectors.invitation_list_for_user(request.user),
        },
    )


def _current_team(request):
    from ..context_processors import current_team

    return current_team(request)["current_team"]


@login_required
@require_POST
def team_switch(request):
    team = selectors.team_get_for_user(request.user, request.POST.get("team"))
    if team is None:
        raise Http404("Not found.")
    request.session[SESSION_KEY] = team.pk
    services.membership_select(user=request.user, team=team)
    return redirect(safe_next(request, request.POST.get("next")))


def safe_next(request, target, default="teams:home"):
    """``target`` when it is a URL of this site (per ``url_has_allowed_host_and_scheme``), else
    ``default``: a ``next`` from a form or a 404 page's path must not send anyone elsewhere."""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@login_required
@require_POST
def team_create(request):
    form = TeamForm(request.POST)
    if form.is_valid():
        try:
            team = services.team_create(user=request.user, name=form.cleaned_data["name"])
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect("teams:home")
        request.session[SESSION_KEY] = team.pk
        messages.success(request, f"Team “{team.name}” created. You are its owner.")
    else:
        messages.error(request, "A team needs a name.")
    return redirect("teams:home")


@login_required
def tokens(request):
    form = TokenForm(request.POST or None)
    new_token = new_token_name = None
    if request.method == "POST":
        if request.POST.get("revoke"):
            try:
                services.api_token_revoke(user=request.user, token_id=request.POST["revoke"])
                messages.success(request, "Token revoked. Scripts using it now get 401.")
            except ApplicationError as exc:
                messages.error(request, exc.message)
            return redirect("teams:tokens")
        if form.is_valid():
            token, new_token = services.api_token_create(
                user=request.user, name=form.cleaned_data["name"]
            )
            new_token_name = token.name
            form = TokenForm()
    user_tokens = selectors.api_token_list_for_user(user=request.user)
    return render(
        request,
        "teams/tokens.html",
        {
            "form": form,
            "tokens": user_tokens,
            "new_token": new_token,
            "new_token_name": new_token_name,
        },
    )
