#!/usr/bin/env bash
# The whole suite: everything on SQLite, then the database-sensitive tests (marker `postgres`)
# again on a real PostgreSQL that this script starts on 127.0.0.1 and stops afterwards.
#   scripts/test.sh            both
#   scripts/test.sh postgres   only the PostgreSQL part
set -uo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
PY=.venv/bin/python
status=0

if [ "${1:-all}" != postgres ]; then
  echo "== ruff"
  .venv/bin/ruff check . || status=1
  echo "== tests on SQLite"
  scripts/browser-deps.sh || status=1
  $PY -m pytest -q -p no:randomly || status=1
fi

echo "== database-sensitive tests on PostgreSQL"
if url=$(scripts/postgres.sh start); then
  trap 'scripts/postgres.sh stop' EXIT
  DATABASE_URL="$url" $PY -m pytest -q -m postgres || status=1
else
  echo "could not start PostgreSQL" >&2
  status=1
fi
exit $status
