"""Production: every secret from the environment; refuses to start with a missing or weak one."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import SECRET_KEY, env_bool

MISSING_SECRET = (
    "SECRET_KEY must be set to a random string of at least 50 characters with at least 5 "
    "distinct characters (generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))')."
)

if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure"):
    raise ImproperlyConfigured(MISSING_SECRET)

DEBUG = False
FINETUNEDB_SIGNUP_OPEN = env_bool("FINETUNEDB_SIGNUP_OPEN", False)
# The admin is a second sign-in form and a powerful surface: off unless a deployment asks.
FINETUNEDB_ADMIN_ENABLED = env_bool("FINETUNEDB_ADMIN_ENABLED", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
