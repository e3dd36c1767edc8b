import json

from django import forms

from .models import ExampleStatus

MESSAGES_JSON_INVALID = (
    'Not valid JSON: {error}. Paste a list like [{{"role": "user", "content": "…"}}, …].'
)


class DatasetForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=20_000
    )


class ExampleForm(forms.Form):
    """A single-turn example, or a whole conversation as JSON in the advanced field."""

    system = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label="System prompt"
    )
    user = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False, label="User")
    assistant = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}), required=False, label="Assistant"
    )
    messages_json = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8}),
        required=False,
        label="Or the whole conversation as JSON",
        help_text='A list of messages, e.g. [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]',
    )
    status = forms.ChoiceField(choices=ExampleStatus.choices, initial=ExampleStatus.DRAFT)
    tags = forms.CharField(required=False, help_text="Comma-separated.", max_length=2000)

    def clean(self):
        data = super().clean()
        raw = (data.get("messages_json") or "").strip()
        if raw:
            try:
                data["messages"] = json.loads(raw)
            except (ValueError, RecursionError) as exc:
                self.add_error("messages_json", MESSAGES_JSON_INVALID.format(error=exc))
        else:
            messages = []
            if data.get("system", "").strip():
                messages.append({"role": "system", "content": data["system"]})
            if data.get("user", "").strip():
                messages.append({"role": "user", "content": data["user"]})
            if data.get("assistant", "").strip():
                messages.append({"role": "assistant", "content": data["assistant"]})
            if not messages:
                raise forms.ValidationError("Write at least a user turn and an assistant turn.")
            data["messages"] = messages
        data["tag_list"] = [t.strip() for t in (data.get("tags") or "").split(",") if t.strip()]
        return data
