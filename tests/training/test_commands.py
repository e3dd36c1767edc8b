"""``manage.py ensure_base_model``: converts once, then answers at once."""

import time

from django.core.management import call_command

from training.recipe import base_models


def test_it_is_quick_when_the_bundled_model_is_already_prepared(settings, tmp_path, capsys):
    settings.FINETUNEDB_MODELS_DIR = tmp_path / "models"
    folder = tmp_path / "models" / "base" / base_models.BUNDLED_FOLDER
    folder.mkdir(parents=True)
    (folder / base_models.COMPLETE_MARKER).write_text("done\n")
    started = time.monotonic()
    call_command("ensure_base_model")
    assert time.monotonic() - started < 1
    assert str(folder) in capsys.readouterr().out
    assert sorted(p.name for p in folder.iterdir()) == [base_models.COMPLETE_MARKER]
