"""The pages' URL table (namespace ``teams``); the API's is ``finetunedb/teams/api/urls.py``."""

from django.contrib.auth import views as auth_views
from django.urls import path

from . import members, teams

app_name = "teams"

urlpatterns = [
    path("", teams.home, name="home"),
    path("login/", teams.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("signup/", teams.signup, name="signup"),
    path(
        "password/",
        teams.PasswordChangeView.as_view(),
        name="password-change",
    ),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="teams/password_done.html"),
        name="password-done",
    ),
    path("teams/switch/", teams.team_switch, name="switch"),
    path("teams/new/", teams.team_create, name="create"),
    path("teams/<int:team_id>/members/", members.team_members, name="members"),
    path("teams/<int:team_id>/leave/", members.team_leave, name="leave"),
    path(
        "invitations/<int:invitation_id>/accept/",
        members.invitation_accept,
        name="invitation-accept",
    ),
    path(
        "invitations/<int:invitation_id>/decline/",
        members.invitation_decline,
        name="invitation-decline",
    ),
    path("tokens/", teams.tokens, name="tokens"),
]
