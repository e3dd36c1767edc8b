"""Imported preference pairs get the pair rules stored, and an edit that fixes a pair clears them."""

import orjson
from django.core.files.uploadedfile import SimpleUploadedFile

from datasets_app.models import CheckResult, Example
from datasets_app.services.imports import import_job_create

ROWS = [
    {"prompt": "Capital of France?", "chosen": "Paris.", "rejected": "Paris."},
    {"prompt": "Capital of Spain?", "chosen": "Madrid.", "rejected": "Lisbon."},
    {"prompt": "Capital of Italy?", "chosen": "Rome.", "rejected": "   "},
]


def test_it_stores_pair_findings_for_imported_preference_rows(
    dataset, owner, django_capture_on_commit_callbacks
):
    data = b"\n".join(orjson.dumps(row) for row in ROWS)
    with django_capture_on_commit_callbacks(execute=True):
        import_job_create(
            user=owner, dataset=dataset, upload=SimpleUploadedFile("pairs.jsonl", data)
        )
    by_prompt = {
        e.current_revision.messages[0]["content"]: e
        for e in Example.objects.filter(dataset=dataset)
    }
    assert len(by_prompt) == 3

    def rules(prompt):
        return set(
            CheckResult.objects.filter(example=by_prompt[prompt]).values_list("rule_id", flat=True)
        )

    assert "preference_identical" in rules("Capital of France?")
    assert not {r for r in rules("Capital of Spain?") if r.startswith("preference_")}
    assert "preference_empty_side" in rules("Capital of Italy?")
