"""Typed results: one dataclass per object the API returns.

Each has the fields the API documents; ``raw`` keeps the whole body, and a field the server
added after this client was written is still readable as an attribute (``run.some_new_field``)
through ``raw``. Times are ISO 8601 strings as the API sends them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T", bound="Resource")


@dataclass
class Resource:
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls: type[T], body: dict, client=None) -> T:
        names = {f.name for f in dataclasses.fields(cls) if f.init} - {"raw", "_client"}
        obj = cls(raw=body, **{k: v for k, v in body.items() if k in names})
        obj._client = client
        return obj

    def __getattr__(self, name: str) -> Any:
        # only called when normal lookup fails: fields the server added later
        raw = self.__dict__.get("raw") or {}
        if name in raw:
            return raw[name]
        raise AttributeError(f"{type(self).__name__} has no field {name!r}")

    def to_dict(self) -> dict:
        return dict(self.raw)


@dataclass
class Me(Resource):
    id: int = 0
    username: str = ""


@dataclass
class Team(Resource):
    id: int = 0
    name: str = ""
    my_role: str = ""
    member_count: int = 0
    created_at: str | None = None
    storage: dict = field(default_factory=dict)


@dataclass
class Member(Resource):
    user_id: int = 0
    username: str = ""
    role: str = ""
    joined_at: str | None = None


@dataclass
class Invitation(Resource):
    id: int = 0
    role: str = ""
    team: Any = None  # {id, name} in your own invitations
    invited_as: str | None = None
    invited_by: str | None = None
    created_at: str | None = None
    expires_at: str | None = None


@dataclass
class Dataset(Resource):
    id: int = 0
    team: int = 0
    name: str = ""
    description: str = ""
    settings: dict = field(default_factory=dict)
    example_count: int | None = None
    created_at: str | None = None
    updated_at: str | None = None


@dataclass
class Example(Resource):
    id: int = 0
    dataset: int = 0
    messages: list = field(default_factory=list)
    tools: list | None = None
    metadata: dict = field(default_factory=dict)
    content_hash: str = ""
    status: str = ""
    split: str = ""
    tags: list = field(default_factory=list)
    checks: list = field(default_factory=list)
    rating: int | None = None
    notes: str = ""
    source_format: str = ""
    source_log: int | None = None
    revision: int = 0
    content_revision: int = 0
    created_at: str | None = None
    updated_at: str | None = None


@dataclass
class DuplicateCluster(Resource):
    id: int = 0
    method: str = ""
    fields: str = ""
    threshold: float = 0.0
    similarity_min: float = 0.0
    similarity_max: float = 0.0
    size: int = 0
    job: int | None = None
    members: list = field(default_factory=list)


@dataclass
class Version(Resource):
    id: int = 0
    dataset: int = 0
    number: int = 0
    name: str = ""
    notes: str = ""
    parent: int | None = None
    content_hash: str = ""
    counts: dict = field(default_factory=dict)
    total: int = 0
    stats: dict = field(default_factory=dict)
    check_report: dict = field(default_factory=dict)
    forced: bool = False
    force_reason: str = ""
    created_by: str | None = None
    created_at: str | None = None


@dataclass
class Restore(Resource):
    id: int = 0
    dataset: int = 0
    version: int = 0
    counts: dict = field(default_factory=dict)
    created_by: str | None = None
    created_at: str | None = None
    undone_at: str | None = None


@dataclass
class ModelSummary(Resource):
    id: int = 0
    run: int = 0
    version: int = 0
    base_model: str = ""
    method: str = ""
    weights_sha256: str = ""
    eval_status: str = ""
    created_at: str | None = None


@dataclass
class Model(Resource):
    id: int = 0
    run: int = 0
    lineage: dict = field(default_factory=dict)
    base_model: str = ""
    method: str = ""
    config: dict = field(default_factory=dict)
    weights_sha256: str = ""
    manifest: dict = field(default_factory=dict)
    model_card: str = ""
    eval_status: str = ""
    eval_results: dict = field(default_factory=dict)
    eval_error: str = ""
    files: list = field(default_factory=list)
    created_at: str | None = None


@dataclass
class EvalSuite(Resource):
    id: int = 0
    team: int = 0
    name: str = ""
    description: str = ""
    version: int = 0
    dataset: int = 0
    version_hash: str = ""
    split: str = ""
    evaluators: list = field(default_factory=list)
    item_count: int = 0
    created_by: str | None = None
    created_at: str | None = None


@dataclass
class EvalResult(Resource):
    id: int = 0
    position: int = 0
    example: int = 0
    revision: int = 0
    split: str = ""
    reference: str | None = None
    output: str = ""
    scores: dict = field(default_factory=dict)


@dataclass
class IngestKey(Resource):
    id: int = 0
    name: str = ""
    prefix: str = ""
    key: str | None = None  # only in the answer that created it
    created_at: str | None = None
    created_by: str | None = None
    last_used_at: str | None = None
    revoked_at: str | None = None


@dataclass
class CaptureRule(Resource):
    id: int = 0
    dataset: int = 0
    filter: dict = field(default_factory=dict)
    sample_rate: float = 1.0
    status: str = ""
    applied_count: int = 0
    created_at: str | None = None


@dataclass
class Log(Resource):
    id: int = 0
    team: int = 0
    model: str = ""
    messages: list = field(default_factory=list)
    tools: list | None = None
    response: Any = None
    error: Any = None
    tags: list = field(default_factory=list)
    metadata: dict = field(default_factory=dict)
    latency_ms: int | None = None
    usage: dict = field(default_factory=dict)
    trace_id: str = ""
    timestamp: str | None = None
    created_at: str | None = None
    source: str = ""
    content_hash: str = ""
    feedback: dict | None = None


@dataclass
class LogsAccepted(Resource):
    accepted: int = 0
    ids: list = field(default_factory=list)
    rejected: list = field(default_factory=list)
    replayed: bool = False  # the server had stored this batch already (Idempotency-Key)


@dataclass
class FromLogsResult(Resource):
    created: int = 0
    ids: list = field(default_factory=list)
    skipped_duplicates: int = 0
    skipped_without_response: int = 0


@dataclass
class SplitResult(Resource):
    examples: int = 0
    counts: dict = field(default_factory=dict)
    strata: dict = field(default_factory=dict)
    changed: int = 0
    locked: int = 0
    grouped: int = 0


@dataclass
class ResolveResult(Resource):
    action: str = ""
    clusters_resolved: int = 0
    archived: int = 0
    tagged: int = 0
    pairs: int = 0
