from .selectors import team_list_for_user

SESSION_KEY = "current_team_id"


def current_team_for(request):
    """The team the user is working in: the one chosen in the switcher, else their first."""
    if not request.user.is_authenticated:
        return None, []
    teams = list(team_list_for_user(request.user))
    chosen = request.session.get(SESSION_KEY)
    current = next((t for t in teams if t.pk == chosen), None) or (teams[0] if teams else None)
    return current, teams


def current_team(request):
    if not hasattr(request, "_current_team"):
        request._current_team = current_team_for(request)
    current, teams = request._current_team
    return {"current_team": current, "my_teams": teams}
