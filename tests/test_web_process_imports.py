"""A web process never loads torch: starting Django and loading every URL stays light.

torch and transformers cost ~230 MB and seconds per process; only the workers that train,
evaluate or generate need them. An eager import in an app's ready() or a package ``__init__``
(training/services/__init__.py once re-exported every service) fails here.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_it_starts_django_and_loads_every_url_without_torch():
    code = (
        "import os, sys\n"
        "os.environ['DJANGO_SETTINGS_MODULE'] = 'finetunedb.settings.test'\n"
        "import django; django.setup()\n"
        "from django.urls import get_resolver\n"
        "get_resolver().url_patterns\n"
        "print(sorted(m for m in ('torch', 'transformers', 'peft') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"
