from django.contrib.auth import views as auth_views
from django.urls import path

from . import member_views, views

app_name = "teams"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("signup/", views.signup, name="signup"),
    path(
        "password/",
        views.PasswordChangeView.as_view(),
        name="password-change",
    ),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="teams/password_done.html"),
        name="password-done",
    ),
    path("teams/switch/", views.team_switch, name="switch"),
    path("teams/new/", views.team_create, name="create"),
    path("teams/<int:team_id>/members/", member_views.team_members, name="members"),
    path("teams/<int:team_id>/leave/", member_views.team_leave, name="leave"),
    path(
        "invitations/<int:invitation_id>/accept/",
        member_views.invitation_accept,
        name="invitation-accept",
    ),
    path(
        "invitations/<int:invitation_id>/decline/",
        member_views.invitation_decline,
        name="invitation-decline",
    ),
    path("tokens/", views.tokens, name="tokens"),
]
