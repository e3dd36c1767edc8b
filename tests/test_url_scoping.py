"""Walk every URL pattern and prove an outsider can reach no object of another team.

A route with an id in its path must answer 404 (or 405 for a method it does not have) to a
user from another team for every method — never 2xx, 400, 403, 409, 412 or 428, which would say
"this exists". A new route with a path parameter this test does not know fails here until the
parameter is added to OBJECT_IDS, so no route escapes the check.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

METHODS = ["get", "post", "put", "patch", "delete"]
ALLOWED = {404, 405}
# Framework routes whose ids are not team objects.
SKIP_PREFIXES = ("admin/",)


def walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern


def routes_with_ids():
    out = []
    for route, pattern in walk(get_resolver().url_patterns):
        if route.startswith(SKIP_PREFIXES) or not pattern.pattern.converters:
            continue
        out.append((route, sorted(pattern.pattern.converters)))
    return out


ROUTES = routes_with_ids()


@pytest.fixture
def object_ids(team, dataset, example, owner):
    from datasets_app.models import DedupJob, ImportJob
    from datasets_app.services.versions import dataset_version_freeze, dataset_version_restore

    version = dataset_version_freeze(user=owner, dataset=dataset, name="v1")
    restore = dataset_version_restore(user=owner, version=version)

    job = ImportJob.objects.create(dataset=dataset, stored_name="0" * 32, has_error_report=True)
    dedup_job = DedupJob.objects.create(dataset=dataset, method="exact")
    run, model, playground = training_objects(version)
    return {
        "run_id": run.pk,
        "model_id": model.pk,
        "playground_id": playground.pk,
        "team_id": team.pk,
        "dataset_id": dataset.pk,
        "example_id": example.pk,
        "import_id": job.pk,
        "version_id": version.pk,
        "restore_id": restore.pk,
        "dedup_job_id": dedup_job.pk,
    }


def training_objects(version):
    from training.models import ModelArtifact, PlaygroundRequest, TrainingRun

    run = TrainingRun.objects.create(
        version=version, dataset_version_hash=version.content_hash, base_model="x", config={}
    )
    model = ModelArtifact.objects.create(
        run=run, path=f"runs/{run.pk}/model", weights_sha256="0" * 64
    )
    playground = PlaygroundRequest.objects.create(model=model, messages=[])
    return run, model, playground


def fill(route, ids):
    path = route
    for name, value in ids.items():
        path = path.replace(f"<int:{name}>", str(value))
    assert "<" not in path, (
        f"{route}: add its path parameter to the object_ids fixture of this test"
    )
    return "/" + path


def test_it_found_the_object_routes():
    names = {r for r, _ in ROUTES}
    assert "api/v1/examples/<int:example_id>/" in names
    assert "datasets/<int:dataset_id>/" in names


@pytest.mark.parametrize("route,params", ROUTES, ids=[r for r, _ in ROUTES])
def test_it_hides_every_object_route_from_an_outsider(
    route, params, object_ids, outsider, api_for, client
):
    path = fill(route, object_ids)
    if path.startswith("/api/"):
        caller = api_for(outsider)
        kwargs = {"format": "json", "HTTP_IF_MATCH": '"1"'}
    else:
        client.force_login(outsider)
        caller = client
        kwargs = {}
    seen = {}
    for method in METHODS:
        body = {
            "name": "x",
            "messages": [{"role": "user", "content": "x"}],
            "user": "charlie",
            "action": "archive",
            "ids": [object_ids["example_id"]],
        }
        response = (
            getattr(caller, method)(path, body, **kwargs) if method != "get" else caller.get(path)
        )
        seen[method] = response.status_code
    assert set(seen.values()) <= ALLOWED, f"{path}: {seen}"
    assert 404 in seen.values(), f"{path}: {seen}"


@pytest.mark.parametrize(
    "route,params",
    [r for r in ROUTES if r[0].startswith("api/")],
    ids=[r for r, _ in ROUTES if r.startswith("api/")],
)
def test_it_answers_401_to_anonymous_callers(route, params, object_ids, client):
    path = fill(route, object_ids)
    assert client.get(path).status_code == 401
