"""Lineage on pages this app does not own: a version's runs and models, an example's models."""

import re

from django import template
from django.utils.safestring import mark_safe

from datasets_app.workspace.markdown import render_markdown
from finetunedb.teams.permissions import Action, role_allows
from finetunedb.teams.scoping import role_in_team

from .. import selectors
from ..eta import duration_text, run_eta_seconds
from ..recipe.artifacts import version_label

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


@register.filter
def version_title(version):
    """ "v2 (cleaned)": the version's number and, when it says more, its name."""
    return version_label(
        {"dataset_version_number": version.number, "dataset_version_name": version.name}
    )


@register.filter
def model_card_html(text):
    """The model card's markdown as sanitized HTML (raw HTML in it comes out escaped), its
    headings two levels down so they sit under the page's "Model card" heading."""
    html = str(render_markdown(text))
    html = re.sub(r"<(/?)h([1-4])>", lambda m: f"<{m[1]}h{int(m[2]) + 2}>", html)
    return mark_safe(html)  # noqa: S308 - nh3 output with heading tags renamed only


@register.simple_tag
def run_eta(run):
    """ "about 4 min left" from the run's measured step times; empty before the first step."""
    seconds = run_eta_seconds(run)
    # Nothing left but saving (the phase says so): no "about 1 s" while the model is written.
    return "" if seconds is None or seconds < 1 else f"{duration_text(seconds)} left"


@register.inclusion_tag("training/_playground_pick.html", takes_context=True)
def playground_pick_form(context, pick):
    """The form that saves a playground answer pair as a preference example, for curators of
    the model's team: the team's datasets to choose from."""
    from datasets_app.selectors import dataset_list_for_user

    user = context["request"].user
    team_id = pick.model.run.version.dataset.team_id
    can_curate = role_allows(role_in_team(user, team_id), Action.CURATE)
    datasets = dataset_list_for_user(user, team_id=team_id)[:200] if can_curate else []
    return {
        "pick": pick,
        "datasets": datasets,
        "can_curate": can_curate,
        "request": context["request"],
    }
