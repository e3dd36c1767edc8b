"""``{% served_lineage log %}``: on a served call's log page, the model that answered it and
its training run, dataset version and training examples, each a link."""

from django import template

from ..traffic import served_log_model

register = template.Library()


@register.inclusion_tag("serving/_log_lineage.html", takes_context=True)
def served_lineage(context, log):
    request = context.get("request")
    user = getattr(request, "user", None)
    model = served_log_model(user, log) if user is not None else None
    return {"served_model": model}
