"""The permission matrix: which role may do what. The one place roles are interpreted.

| action              | owner | admin | curator | annotator | viewer |
|---------------------|:-----:|:-----:|:-------:|:---------:|:------:|
| read                |   ✓   |   ✓   |    ✓    |     ✓     |   ✓    |
| annotate (create/edit examples, status, tags, rating, notes) | ✓ | ✓ | ✓ | ✓ | – |
| curate (delete examples, bulk actions, dedup, split, checks' fixes) | ✓ | ✓ | ✓ | – | – |
| import              |   ✓   |   ✓   |    ✓    |     –     |   –    |
| export              |   ✓   |   ✓   |    ✓    |     –     |   –    |
| manage datasets (create, rename, settings) | ✓ | ✓ | ✓ | – | – |
| delete datasets     |   ✓   |   ✓   |    –    |     –     |   –    |
| freeze versions     |   ✓   |   ✓   |    ✓    |     –     |   –    |
| train               |   ✓   |   ✓   |    ✓    |     –     |   –    |
| manage members      |   ✓   |   ✓   |    –    |     –     |   –    |
| manage team (rename, delete) | ✓ | – | – | – | – |

Admins manage members but cannot grant or remove the owner role; only an owner can.
"""

from enum import StrEnum

from .models import Role


class Action(StrEnum):
    READ = "read"
    ANNOTATE = "annotate"
    CURATE = "curate"
    IMPORT = "import"
    EXPORT = "export"
    MANAGE_DATASETS = "manage_datasets"
    DELETE_DATASETS = "delete_datasets"
    FREEZE = "freeze"
    TRAIN = "train"
    MANAGE_MEMBERS = "manage_members"
    MANAGE_TEAM = "manage_team"


_ALL = {Role.OWNER, Role.ADMIN, Role.CURATOR, Role.ANNOTATOR, Role.VIEWER}
_WRITERS = {Role.OWNER, Role.ADMIN, Role.CURATOR, Role.ANNOTATOR}
_CURATORS = {Role.OWNER, Role.ADMIN, Role.CURATOR}
_ADMINS = {Role.OWNER, Role.ADMIN}

MATRIX: dict[Action, frozenset[str]] = {
    Action.READ: frozenset(_ALL),
    Action.ANNOTATE: frozenset(_WRITERS),
    Action.CURATE: frozenset(_CURATORS),
    Action.IMPORT: frozenset(_CURATORS),
    Action.EXPORT: frozenset(_CURATORS),
    Action.MANAGE_DATASETS: frozenset(_CURATORS),
    Action.DELETE_DATASETS: frozenset(_ADMINS),
    Action.FREEZE: frozenset(_CURATORS),
    Action.TRAIN: frozenset(_CURATORS),
    Action.MANAGE_MEMBERS: frozenset(_ADMINS),
    Action.MANAGE_TEAM: frozenset({Role.OWNER}),
}


def role_allows(role: str | None, action: Action) -> bool:
    return role is not None and role in MATRIX[action]
