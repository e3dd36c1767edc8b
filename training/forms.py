"""The "Train on this version" form, built from TrainConfig: defaults, help text, choices."""

from __future__ import annotations

from django import forms

from training.recipe.config import TrainConfig

from .hooks import launch_options
from .services.base_models import base_model_choices, hub_online

LIST_FIELDS = ("lora_target_modules",)


def _field(name: str, default, help_text: str, choices) -> forms.Field:
    if name in LIST_FIELDS:
        return forms.CharField(
            initial=", ".join(default), help_text=help_text + " Comma-separated."
        )
    if choices:
        return forms.ChoiceField(
            choices=[(c, c) for c in choices], initial=default, help_text=help_text
        )
    if isinstance(default, bool):
        return forms.BooleanField(required=False, initial=default, help_text=help_text)
    if isinstance(default, int):
        return forms.IntegerField(initial=default, help_text=help_text)
    if isinstance(default, float):
        return forms.FloatField(initial=default, help_text=help_text)
    return forms.CharField(initial=default, help_text=help_text)


class TrainForm(forms.Form):
    """Field types come from TrainConfig; bounds are checked once, by TrainConfig.from_dict,
    and its errors are put back on the field they name."""

    def __init__(self, *args, option_fields: dict | None = None, parent_models=(), **kwargs):
        super().__init__(*args, **kwargs)
        # Launch options the apps above registered (training.hooks): not hyperparameters.
        self.option_names = tuple(option_fields or ())
        helps, defaults = TrainConfig.help_texts(), TrainConfig.defaults()
        choices = {f: TrainConfig.__dataclass_fields__[f].metadata.get("choices") for f in defaults}
        self.fields["base_model"] = forms.ChoiceField(
            choices=base_model_choices(), help_text=helps["base_model"], required=False
        )
        if hub_online():
            self.fields["hub_model"] = forms.CharField(
                required=False, help_text="A Hugging Face hub id (org/name); overrides the choice."
            )
        self.fields["method"] = _field(
            "method", defaults["method"], helps["method"], choices["method"]
        )
        for name, default in defaults.items():
            if name not in ("base_model", "method"):
                self.fields[name] = _field(name, default, helps[name], choices[name])
        self.fields["start_from_model"] = forms.ChoiceField(
            required=False,
            choices=[("", "— none: start from the base model")]
            + [(str(m.pk), _parent_label(m)) for m in parent_models],
            help_text="dpo and orpo only: train on top of a finished SFT model of the team, "
            "trained on the same base model (lineage then names both versions).",
        )
        self.fields.update(option_fields or {})

    def request_arguments(self) -> dict:
        """``training_run_create`` keyword arguments from the cleaned data."""
        data = {k: v for k, v in self.cleaned_data.items() if k not in self.option_names}
        data.pop("start_from_model", None)
        base_model = data.pop("hub_model", "") or data.pop("base_model", "")
        data.pop("base_model", None)
        method = data.pop("method")
        for name in LIST_FIELDS:
            data[name] = [part.strip() for part in data[name].split(",") if part.strip()]
        return {"base_model": base_model, "method": method, "hyperparameters": data}

    def parent_arguments(self) -> dict:
        """``start_from_model`` for ``training_run_create`` when one was chosen (it checks it)."""
        chosen = self.cleaned_data.get("start_from_model")
        return {"start_from_model": int(chosen)} if chosen else {}

    def option_values(self) -> dict:
        """The launch options' values (``training_run_launch(options=...)``)."""
        return {name: self.cleaned_data.get(name) or None for name in self.option_names}

    def add_service_errors(self, errors: list[dict]) -> None:
        for error in errors:
            field = error["path"].removeprefix("hyperparameters.").split("[")[0]
            self.add_error(field if field in self.fields else None, error["message"])


def _parent_label(model) -> str:
    run = model.run
    return (
        f"model {model.pk} — {run.method} on {run.base_model}, "
        f"{run.version.dataset.name} v{run.version.number}"
    )


def launch_option_fields(*, user, version) -> dict:
    """The registered launch options' form fields for this caller and version."""
    fields = {}
    for name, option in launch_options().items():
        field = option.form_field(user=user, version=version) if option.form_field else None
        if field is not None:
            fields[name] = field
    return fields
