"""preference_pairs_save: the canonical preference shape, duplicates skipped, all or nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from datasets_app.checks.preference import is_preference, split_pair
from datasets_app.models import CheckResult, DatasetReport, Example
from datasets_app.services.preferences import PreferencePair, preference_pairs_save
from finetunedb.exceptions import ApplicationError

PROMPT = [{"role": "user", "content": "What is 2+2?"}]


def pair(chosen="4", rejected="5", **metadata):
    return PreferencePair(
        prompt=PROMPT,
        chosen=[{"role": "assistant", "content": chosen}],
        rejected=[{"role": "assistant", "content": rejected}],
        metadata=metadata or {"picked_by": "alice"},
    )


def test_it_saves_the_shape_the_importers_produce(owner, dataset):
    saved = preference_pairs_save(user=owner, dataset=dataset, pairs=[pair()])
    assert saved.skipped_duplicates == 0
    example = Example.objects.get(pk=saved.created[0])
    content = {
        "messages": example.current_revision.messages,
        "metadata": example.current_revision.metadata,
    }
    assert is_preference(content)
    split = split_pair(content)
    assert split.prompt == PROMPT
    assert split.chosen == [{"role": "assistant", "content": "4"}]
    assert split.rejected == [{"role": "assistant", "content": "5"}]
    assert content["metadata"]["picked_by"] == "alice"


def test_it_skips_and_counts_duplicates_in_the_dataset_and_in_the_call(owner, dataset):
    preference_pairs_save(user=owner, dataset=dataset, pairs=[pair()])
    saved = preference_pairs_save(
        user=owner,
        dataset=dataset,
        pairs=[pair(), pair(rejected="six"), pair(rejected="six", picked_by="bob")],
    )
    # the same chosen with another rejected answer is another pair; metadata is not the pair
    assert len(saved.created) == 1
    assert saved.skipped_duplicates == 2
    assert Example.objects.filter(dataset=dataset).count() == 2


def test_it_refreshes_the_dataset_checks(owner, dataset, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        saved = preference_pairs_save(
            user=owner, dataset=dataset, pairs=[pair(chosen="same", rejected="same")]
        )
    assert CheckResult.objects.filter(example_id=saved.created[0]).exists()
    assert DatasetReport.objects.filter(dataset=dataset, requested_at__isnull=False).exists()


def test_it_stores_nothing_when_one_pair_is_invalid(owner, dataset):
    bad = PreferencePair(
        prompt=[{"role": "narrator", "content": "x"}],
        chosen=[{"role": "assistant", "content": "a"}],
        rejected=[{"role": "assistant", "content": "b"}],
    )
    with pytest.raises(ApplicationError) as caught:
        preference_pairs_save(user=owner, dataset=dataset, pairs=[pair(), bad])
    assert caught.value.errors[0]["path"].startswith("pairs[1].messages[0]")
    assert not Example.objects.filter(dataset=dataset).exists()


def test_it_refuses_annotators(teammate, dataset):
    with pytest.raises(PermissionDenied):
        preference_pairs_save(user=teammate, dataset=dataset, pairs=[pair()])
