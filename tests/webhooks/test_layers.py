"""Webhooks sit on the base layer only, and no app imports them: events reach them through
finetunedb/events.py's registry (docs/architecture.md, "Layers")."""

from __future__ import annotations

from pathlib import Path

from tests.test_layers import imported_modules

ROOT = Path(__file__).resolve().parents[2]
APPS = ("datasets_app", "training", "evaluation", "capture", "annotation", "serving", "semantic")


def test_it_keeps_webhooks_on_the_base_layer():
    found = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in sorted((ROOT / "webhooks").rglob("*.py"))
        for line, module in imported_modules(path)
        if module.split(".")[0] in APPS
    ]
    assert found == []


def test_it_keeps_every_app_and_the_base_free_of_webhooks():
    sources = [p for name in (*APPS, "finetunedb") for p in sorted((ROOT / name).rglob("*.py"))]
    composition = {ROOT / "finetunedb" / "urls.py", ROOT / "finetunedb" / "api_urls.py"}
    found = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in sources
        if path not in composition and "settings" not in path.parts
        for line, module in imported_modules(path)
        if module.split(".")[0] == "webhooks"
    ]
    assert found == []


def test_it_registers_the_webhooks_sink(db):
    from finetunedb.events import event_sinks_registered
    from webhooks.services.events import webhook_event_record

    assert webhook_event_record in event_sinks_registered()
