"""Create the first administrator on a fresh install and print its password once."""

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from finetunedb.teams.models import Team
from finetunedb.teams.services import team_create


class Command(BaseCommand):
    help = "If no user exists, create a superuser 'admin' with a generated password (printed once) and a team."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--url", default="http://127.0.0.1:8000/")

    def handle(self, *args, username, url, **options):
        User = get_user_model()
        if User.objects.exists():
            self.stdout.write(
                "Users exist already; log in with your account (or sign up at /signup/)."
            )
            return
        password = secrets.token_urlsafe(12)
        user = User.objects.create_superuser(username=username, email="", password=password)
        if not Team.objects.exists():
            team_create(user=user, name="My team")
        bar = "=" * 64
        self.stdout.write(
            f"\n{bar}\n  First start: log in at {url}login/\n"
            f"  username: {username}\n  password: {password}\n"
            f"  (shown once; change it under 'Password' after logging in)\n{bar}\n"
        )
