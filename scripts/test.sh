#!/usr/bin/env bash
# The whole suite: everything on SQLite, then the database-sensitive tests (marker `postgres`)
# again on a real PostgreSQL that this script starts on 127.0.0.1 and stops afterwards.
#   scripts/test.sh            both
#   scripts/test.sh postgres   only the PostgreSQL part
#   scripts/test.sh production only the production-stack part (see its block below)
set -uo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
PY=.venv/bin/python
status=0

if [ "${1:-all}" = all ]; then
  echo "== ruff"
  .venv/bin/ruff check . || status=1
  echo "== tests on SQLite"
  scripts/browser-deps.sh || status=1
  $PY -m pytest -q -p no:randomly || status=1
fi

# --- security gates (issue 9) ----------------------------------------------------------------
# SBOM: a CycloneDX file of every pinned runtime component, kept as a CI artifact.
# bandit: no high-severity finding in the app's code. schemathesis: the whole OpenAPI schema
# fuzzed against the app with two users of different teams as peers (object-level
# authorization, ignored auth, no server error), 20 examples per operation (about a minute).
if [ "${1:-all}" = all ]; then
  echo "== SBOM (CycloneDX) of the hash-pinned runtime lock -> test-artifacts/sbom.cdx.json"
  scripts/sbom.sh test-artifacts/sbom.cdx.json >/dev/null || status=1
  echo "== bandit (high severity)"
  .venv/bin/bandit -q -r finetunedb datasets_app training evaluation annotation capture serving semantic webhooks client/finetunedb_client -lll || status=1
  echo "== schemathesis against /api/v1/schema/"
  $PY -m tests.security.fuzz_api --max-examples 20 || status=1
fi

if [ "${1:-all}" != production ]; then
echo "== database-sensitive tests on PostgreSQL"
if url=$(scripts/postgres.sh start); then
  trap 'scripts/postgres.sh stop' EXIT
  DATABASE_URL="$url" $PY -m pytest -q -m postgres || status=1
else
  echo "could not start PostgreSQL" >&2
  status=1
fi
fi

# --- production stack (issue 10) -------------------------------------------------------------
# The app as a team runs it: PostgreSQL + Redis (Debian packages), gunicorn with
# finetunedb.settings.production, two Celery workers (-Q default, -Q training) as separate
# processes, all on 127.0.0.1 (scripts/stack.sh); the `production` tests talk to it over HTTP.
if [ "${1:-all}" != postgres ]; then
  echo "== integration tests against the production stack"
  tiny=$(mktemp -d /tmp/finetunedb-tiny-XXXXXX)
  trap 'scripts/stack.sh stop >/dev/null 2>&1; rm -rf "$tiny"; scripts/postgres.sh stop' EXIT
  if $PY -m tests.reliability.tiny_model "$tiny" >/dev/null 2>&1 &&
    env_file=$(FINETUNEDB_BASE_MODELS="$tiny" scripts/stack.sh start 2>/dev/null | tail -n 1); then
    # The stack's env names its database and broker; the suite itself keeps its test settings.
    (set -a && source "$env_file" && set +a &&
      $PY -m pytest -q -p no:randomly --ds=finetunedb.settings.test -m production tests/reliability) || status=1
  else
    echo "could not start the production stack" >&2
    status=1
  fi
fi
exit $status
