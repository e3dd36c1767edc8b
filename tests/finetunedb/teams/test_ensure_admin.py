from io import StringIO

from django.contrib.auth import get_user_model
from django.core.management import call_command

from finetunedb.teams.models import Membership


def test_it_creates_the_first_admin_once_and_prints_the_password(db):
    out = StringIO()
    call_command("ensure_admin", "--url", "http://127.0.0.1:9999/", stdout=out)
    text = out.getvalue()
    password = text.split("password: ")[1].split()[0]
    user = get_user_model().objects.get(username="admin")
    assert user.is_superuser and user.check_password(password)
    assert "http://127.0.0.1:9999/login/" in text
    assert Membership.objects.get(user=user).role == "owner"
    again = StringIO()
    call_command("ensure_admin", stdout=again)
    assert "password:" not in again.getvalue()
    assert get_user_model().objects.count() == 1
