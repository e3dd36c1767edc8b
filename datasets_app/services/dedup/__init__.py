"""Duplicates in the app: the dedup job and its stored clusters, the curator's resolve actions,
and the contamination check between two datasets. The algorithms are the pure
:mod:`datasets_app.dedup`."""

from .contamination import dataset_contamination
from .jobs import (
    dedup_job_create,
    dedup_job_run,
    dedup_jobs_recover,
    excluded_pairs_for_dataset,
)
from .resolve import RESOLVE_ACTIONS, duplicate_clusters_resolve

__all__ = [
    "RESOLVE_ACTIONS",
    "dataset_contamination",
    "dedup_job_create",
    "dedup_job_run",
    "dedup_jobs_recover",
    "duplicate_clusters_resolve",
    "excluded_pairs_for_dataset",
]
