"""The Celery app. Tasks receive an id and call one service (DESIGN §4)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "finetunedb.settings.dev")

app = Celery("finetunedb")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
