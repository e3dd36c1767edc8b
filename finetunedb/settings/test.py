"""Settings for the test suite: fast hashing, eager tasks, a throwaway data folder."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="finetunedb-test-"))
# The suite asserts JSON records whether or not it runs at a terminal (base picks text there).
os.environ.setdefault("FINETUNEDB_LOG_FORMAT", "json")

from .base import *  # noqa: E402,F403
from .base import REST_FRAMEWORK  # noqa: E402

SECRET_KEY = "test-only-secret-key-not-for-production-use-0123456789abcdef"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = "memory://"
CELERY_BROKER_TRANSPORT_OPTIONS = {}
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"login": "1000/min"}}
# Every API response of the test run is scanned for leaks (tests/security/leakscan.py).
MIDDLEWARE = [*MIDDLEWARE, "tests.security.leakscan.ResponseLeakMiddleware"]  # noqa: F405
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
TEST_DATA_DIR = Path(os.environ["DATA_DIR"])
(TEST_DATA_DIR / "static").mkdir(parents=True, exist_ok=True)

from .base import DATABASES  # noqa: E402

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not shared-cache memory: shared cache uses table locks that ignore the busy
    # timeout, so concurrency tests would fail for a reason production never has.
    DATABASES["default"]["TEST"] = {"NAME": str(TEST_DATA_DIR / "test.sqlite3")}
