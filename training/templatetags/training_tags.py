"""Lineage on pages this app does not own: a version's runs and models, an example's models."""

from django import template

from finetunedb.teams.permissions import Action, role_allows
from finetunedb.teams.scoping import role_in_team

from .. import selectors

register = template.Library()


@register.inclusion_tag("training/_version_models.html", takes_context=True)
def version_training(context, version):
    """The version page's section: Train button, runs and models trained on it."""
    user = context["request"].user
    return {
        "version": version,
        "runs": selectors.runs_for_version(version)[:50],
        "can_train": role_allows(role_in_team(user, version.dataset.team_id), Action.TRAIN),
    }


@register.inclusion_tag("training/_models_cell.html")
def version_models_cell(version):
    """The history page's "models trained on it" cell."""
    return {"models": list(selectors.models_for_version(version)[:10])}


@register.inclusion_tag("training/_example_models.html")
def example_models(example):
    return {"models": list(selectors.models_for_example(example)[:50])}
