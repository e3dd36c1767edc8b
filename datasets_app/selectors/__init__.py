"""The datasets app's reads, with team scoping: the one home of its queries.

Every page and API view of the app (``datasets_app/pages/``, ``datasets_app/api/``) reads
through these, and the training and evaluation pages reach versions through them too. A
``*_get_for_user`` resolves a bare id from the request for the caller (404 for another team's
row, 403 for a role without the action); the others read below a row the caller already reached
that way (a dataset's clusters, import jobs, versions). Views build no querysets of their own
(tests/test_views_build_no_querysets.py); new reads are keyword-only ``<entity>_<action>``.

One module per topic, everything re-exported here, so callers write ``selectors.<name>``:
``examples`` (datasets, the example list and its counts, revisions), ``review`` (the review
queue), ``imports``, ``dedup``, ``versions`` (versions and restores).
"""

from .dedup import (
    dedup_job_get_for_user,
    dedup_job_latest,
    duplicate_cluster_list,
)
from .examples import (
    EXAMPLE_ORDERINGS,
    ExampleCount,
    dataset_get_for_user,
    dataset_list_for_user,
    dataset_list_team_others,
    example_count,
    example_counts_by,
    example_get_for_user,
    example_list,
    example_messages_by_id,
    example_revision_get,
    example_revision_list,
    tag_names,
)
from .imports import (
    import_job_get_for_user,
    import_job_list,
)
from .review import (
    example_review_get,
    example_review_neighbours,
    example_review_pick,
    example_review_position,
    example_review_queue,
)
from .versions import (
    restore_get_for_user,
    restore_list,
    version_get_for_user,
    version_list,
)

__all__ = [
    "EXAMPLE_ORDERINGS",
    "ExampleCount",
    "dataset_get_for_user",
    "dataset_list_for_user",
    "dataset_list_team_others",
    "dedup_job_get_for_user",
    "dedup_job_latest",
    "duplicate_cluster_list",
    "example_count",
    "example_counts_by",
    "example_get_for_user",
    "example_list",
    "example_messages_by_id",
    "example_review_get",
    "example_review_neighbours",
    "example_review_pick",
    "example_review_position",
    "example_review_queue",
    "example_revision_get",
    "example_revision_list",
    "import_job_get_for_user",
    "import_job_list",
    "restore_get_for_user",
    "restore_list",
    "tag_names",
    "version_get_for_user",
    "version_list",
]
