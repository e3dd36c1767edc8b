"""Prepare the bundled base model (convert its GGUF file once) so the first run does not wait.

Idempotent and quick once done: the converted folder carries a completion marker.
"""

import time

from django.core.management.base import BaseCommand, CommandError

from training.recipe.base_models import BaseModelError, ensure_bundled_model
from training.services.base_models import base_cache_dir


class Command(BaseCommand):
    help = "Convert the bundled SmolLM2 base model into DATA_DIR/models/base (once)."

    def handle(self, *args, **options):
        started = time.monotonic()
        try:
            path = ensure_bundled_model(base_cache_dir())
        except BaseModelError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Bundled base model ready at {path} ({time.monotonic() - started:.1f} s)"
        )
