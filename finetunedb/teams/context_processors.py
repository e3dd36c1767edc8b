from .selectors import team_default_id_for_user, team_list_for_user

SESSION_KEY = "current_team_id"


def current_team_for(request):
    """The team the user is working in: the one chosen in this session's switcher, else the one
    they last chose or created (selectors.team_default_id_for_user). Never the first by name: a
    team someone else named "AAA" and got the user into must not receive their next upload."""
    if not request.user.is_authenticated:
        return None, []
    teams = list(team_list_for_user(request.user))
    by_id = {t.pk: t for t in teams}
    current = by_id.get(request.session.get(SESSION_KEY))
    if current is None and teams:
        current = by_id.get(team_default_id_for_user(request.user))
    return current, teams


def current_team(request):
    if not hasattr(request, "_current_team"):
        request._current_team = current_team_for(request)
    current, teams = request._current_team
    return {"current_team": current, "my_teams": teams}
