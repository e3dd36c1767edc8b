"""The embedded default that `make run` serves: SQLite, filesystem broker, one machine.

DEBUG stays off (a real WSGI server with WhiteNoise serves static files). The secret key is
generated once and kept under DATA_DIR so sessions survive restarts.
"""

import secrets

from .base import *  # noqa: F403
from .base import DATA_DIR

if not SECRET_KEY:  # noqa: F405
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    _key_file = DATA_DIR / "secret_key"
    if not _key_file.exists():
        _key_file.write_text(secrets.token_urlsafe(50))
        _key_file.chmod(0o600)
    SECRET_KEY = _key_file.read_text().strip()
