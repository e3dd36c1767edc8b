#!/usr/bin/env bash
# A throwaway PostgreSQL for the test suite, on 127.0.0.1 only.
#   scripts/postgres.sh start   installs the Debian package if needed, starts a private cluster,
#                               prints the DATABASE_URL to use
#   scripts/postgres.sh stop    stops it and removes its files
set -euo pipefail

PORT="${FINETUNEDB_PG_PORT:-54329}"
DIR="${FINETUNEDB_PG_DIR:-/tmp/finetunedb-pg-$PORT}"
URL="postgres://postgres@127.0.0.1:$PORT/finetunedb"

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_bin() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$bin" ]; then
    echo "Installing PostgreSQL (Debian package)…" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
    # The package starts a default cluster on 5432; this project does not use it.
    service postgresql stop >/dev/null 2>&1 || true
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  echo "$bin"
}

# pgvector for the server version found, built from the Debian archive's source by
# scripts/pgvector.sh (Debian 12 has no package for it). Best effort: where the build cannot run
# (no network, not root) the app falls back to exact search on the float16 matrix files, so a
# failure is a warning, not a failure of this script.
ensure_pgvector() {
  local bin="$1" major
  major=$(basename "$(dirname "$bin")")
  if [ -f "/usr/share/postgresql/$major/extension/vector.control" ]; then return; fi
  "$(dirname "$0")/pgvector.sh" "$major" >&2 ||
    echo "pgvector: not installed for PostgreSQL $major; semantic search uses exact search" >&2
}

start() {
  local bin
  bin=$(pg_bin)
  ensure_pgvector "$bin"
  if [ -f "$DIR/data/postmaster.pid" ] && as_postgres "$bin/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
    echo "$URL"; return
  fi
  rm -rf "$DIR"
  mkdir -p "$DIR"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$DIR"; fi
  as_postgres "$bin/initdb" -D "$DIR/data" -U postgres -A trust -E UTF8 --no-locale >/dev/null
  as_postgres "$bin/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null
  as_postgres "$bin/createdb" -h 127.0.0.1 -p "$PORT" -U postgres finetunedb
  echo "$URL"
}

stop() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$bin" ] && [ -d "$DIR/data" ]; then
    as_postgres "$bin/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$DIR"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
