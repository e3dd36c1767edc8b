from django import forms
from django.contrib.auth.forms import AuthenticationForm

from .login_throttle import ThrottledLoginMixin


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    """The sign-in form, refusing further attempts after repeated failures (login_throttle)."""


class SignupForm(forms.Form):
    username = forms.RegexField(
        regex=r"^[\w.@+-]{1,150}$",
        max_length=150,
        help_text="Letters, digits and @ . + - _ only.",
        error_messages={"invalid": "Use only letters, digits and @ . + - _"},
    )
    email = forms.EmailField(required=False)
    password = forms.CharField(widget=forms.PasswordInput, max_length=4096)


class TeamForm(forms.Form):
    name = forms.CharField(max_length=100, label="Team name")


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=100, label="Token name", help_text="e.g. 'upload script on laptop'"
    )


class MemberForm(forms.Form):
    user = forms.CharField(max_length=254, label="Username or email")
    # Least privilege by default: an invitation sent without looking at the role grants reading.
    role = forms.ChoiceField(choices=[], initial="viewer")

    def __init__(self, *args, **kwargs):
        from .models import Role

        super().__init__(*args, **kwargs)
        self.fields["role"].choices = Role.choices
