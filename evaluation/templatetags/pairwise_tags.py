"""What the compare page may offer for a blind review (its view is shared; the one check lives
here so the button shows only to those whose click would not answer 403)."""

from django import template

from finetunedb.teams.permissions import Action, role_allows
from finetunedb.teams.scoping import role_in_team

register = template.Library()


@register.simple_tag
def can_start_review(user, run) -> bool:
    """Whether ``user`` may start a blind review of ``run`` (curators and up)."""
    return role_allows(role_in_team(user, run.suite.team_id), Action.CURATE)


@register.simple_tag
def can_judge_review(user, run) -> bool:
    """Whether ``user`` may judge a blind review of ``run`` (annotators and up)."""
    return role_allows(role_in_team(user, run.suite.team_id), Action.ANNOTATE)


@register.simple_tag
def reviews_between(run, against) -> list:
    """The blind reviews of these two runs (either way round), for links to their queue."""
    from ..pairwise_selectors import pairwise_reviews_for_run

    return [
        r for r in pairwise_reviews_for_run(run) if {r.run_id, r.against_id} == {run.pk, against.pk}
    ]
