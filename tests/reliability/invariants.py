"""What must hold after any fault, checked after every scenario (SECURITY.md §6.0).

``assert_invariants`` raises AssertionError listing every violation:

* no job of any registered kind (import, dedup, training run, evaluation, playground request,
  …: ``finetunedb.leases``) is running without a live lease;
* every dataset a scenario names is in its before or its complete after state;
* no duplicate rows: examples by content per dataset, entries per version, models per run;
* every version re-hashes, from its revisions' content, to its stored hash;
* every model points to an existing version whose hash matches its lineage;
* no stray temporary files: staging files of jobs not running, ``*.part`` files, ``.tmp-*``
  checkpoint or artifact folders, upload temp files.
"""

from __future__ import annotations

import time
from pathlib import Path

from django.db.models import Count, Q
from django.utils import timezone


def dataset_state(dataset_id: int) -> tuple[str, ...]:
    """The dataset's visible content: its non-archived examples' content hashes, sorted."""
    from datasets_app.models import Example, ExampleStatus

    return tuple(
        sorted(
            Example.objects.filter(dataset_id=dataset_id)
            .exclude(status=ExampleStatus.ARCHIVED)
            .values_list("content_hash", flat=True)
        )
    )


def _stuck_jobs(now) -> list[str]:
    from finetunedb.leases import kinds_registered

    problems = []
    for kind in kinds_registered():
        expired = {f"{kind.lease_expires_at}__isnull": True}, {f"{kind.lease_expires_at}__lt": now}
        stuck = kind.model.objects.filter(**{kind.status: kind.running}).filter(
            Q(**expired[0]) | Q(**expired[1])
        )
        problems += [
            f"{kind.name} {pk} running without a live lease"
            for pk in stuck.values_list("pk", flat=True)
        ]
    return problems


def _duplicates() -> list[str]:
    from datasets_app.models import Example, ExampleStatus, VersionEntry
    from training.models import ModelArtifact

    problems = []
    twice = (
        Example.objects.exclude(status=ExampleStatus.ARCHIVED)
        .values("dataset_id", "content_hash")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    problems += [
        f"dataset {r['dataset_id']}: {r['n']} examples of {r['content_hash'][:12]}" for r in twice
    ]
    entries = (
        VersionEntry.objects.values("version_id", "example_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    problems += [
        f"version {r['version_id']}: example {r['example_id']} {r['n']} times" for r in entries
    ]
    models = ModelArtifact.objects.values("run_id").annotate(n=Count("id")).filter(n__gt=1)
    problems += [f"run {r['run_id']}: {r['n']} models" for r in models]
    return problems


def _hashes() -> list[str]:
    from datasets_app.models import DatasetVersion
    from training.models import ModelArtifact
    from training.services.records import version_hash_recompute

    problems = []
    for version in DatasetVersion.objects.all():
        recomputed = version_hash_recompute(version)
        if not version.content_hash or recomputed != version.content_hash:
            problems.append(
                f"version {version.pk} hash {version.content_hash[:12]!r} != {recomputed[:12]}"
            )
    for model in ModelArtifact.objects.select_related("run__version"):
        version = model.run.version
        lineage = (model.manifest or {}).get("lineage", {})
        if version is None:
            problems.append(f"model {model.pk}: its version is gone")
        elif not (
            model.run.dataset_version_hash
            == version.content_hash
            == lineage.get("dataset_version_hash")
            and lineage.get("dataset_version_id") == version.pk
        ):
            problems.append(f"model {model.pk}: lineage does not match version {version.pk}")
    return problems


def _scan(root: Path, pattern: str) -> list[Path]:
    """``root.rglob(pattern)``, scanned again when a folder vanishes under it: a worker removes
    a finished run's checkpoints just after recording it (training/services/execute.py), and a
    check that runs as soon as the run reads "succeeded" can meet that removal half way."""
    for _ in range(20):
        try:
            return list(root.rglob(pattern))
        except FileNotFoundError:
            time.sleep(0.1)
    return list(root.rglob(pattern))


def _stray_files(data_dir: Path, models_dir: Path | None) -> list[str]:
    from datasets_app.models import ImportJob

    running = set(ImportJob.objects.filter(status="running").values_list("stored_name", flat=True))
    problems = [
        f"staging file {p.name}"
        for p in (data_dir / "staging").glob("*")
        if p.name.removesuffix(".jsonl") not in running
    ]
    roots = {data_dir} | ({models_dir} if models_dir else set())
    for root in roots:
        problems += [f"partial file {p}" for p in _scan(root, "*.part")]
        problems += [f"temp folder {p}" for p in _scan(root, ".tmp-*")]
    problems += [f"upload temp file {p.name}" for p in (data_dir / "tmp").glob("*")]
    return problems


def assert_invariants(
    *,
    data_dir: Path,
    models_dir: Path | None = None,
    states: dict[int, tuple[tuple[str, ...], tuple[str, ...]]] | None = None,
) -> None:
    """``states`` maps a dataset id to its (before, after) :func:`dataset_state`."""
    problems = _stuck_jobs(timezone.now())
    for dataset_id, (before, after) in (states or {}).items():
        now = dataset_state(dataset_id)
        if now not in (before, after):
            problems.append(
                f"dataset {dataset_id} has {len(now)} examples: neither its before "
                f"({len(before)}) nor its after ({len(after)}) state"
            )
    problems += _duplicates() + _hashes() + _stray_files(Path(data_dir), models_dir)
    assert not problems, "invariants violated:\n  " + "\n  ".join(problems)
