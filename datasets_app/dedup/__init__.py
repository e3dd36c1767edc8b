"""Exact and near-duplicate detection, clusters and contamination checks (DESIGN §3). Pure."""

from datasets_app.dedup.clusters import (
    Cluster,
    KeeperCandidate,
    build_clusters,
    choose_keeper,
    exact_clusters,
)
from datasets_app.dedup.contamination import Overlap, contamination
from datasets_app.dedup.near import DEFAULT_THRESHOLD, DuplicatePair, near_duplicate_pairs
from datasets_app.dedup.text import (
    FIELDS,
    exact_key,
    example_exact_key,
    example_text,
    normalize_text,
)

__all__ = [
    "DEFAULT_THRESHOLD",
    "FIELDS",
    "Cluster",
    "DuplicatePair",
    "KeeperCandidate",
    "Overlap",
    "build_clusters",
    "choose_keeper",
    "contamination",
    "exact_clusters",
    "exact_key",
    "example_exact_key",
    "example_text",
    "near_duplicate_pairs",
    "normalize_text",
]
