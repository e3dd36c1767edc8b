"""The project package. Importing it loads nothing, so ``finetunedb.faults`` (used by the
training recipe) stays importable without Django or Celery
(tests/training/recipe/test_no_django.py). The Celery app is loaded by the teams app's ready()
when Django starts, by every ``tasks`` module, and by ``celery -A finetunedb`` (which finds
``finetunedb.celery.app``).
"""
