#!/usr/bin/env bash
# A throwaway Redis (the production broker) for the test suite and the load benchmark, on
# 127.0.0.1 only, without persistence.
#   scripts/redis.sh start   installs the Debian package if needed, starts a private server,
#                            prints the CELERY_BROKER_URL to use
#   scripts/redis.sh stop    stops it and removes its files
set -euo pipefail

PORT="${FINETUNEDB_REDIS_PORT:-63799}"
DIR="${FINETUNEDB_REDIS_DIR:-/tmp/finetunedb-redis-$PORT}"
URL="redis://127.0.0.1:$PORT/0"

redis_bin() {
  if ! command -v redis-server >/dev/null 2>&1; then
    echo "Installing Redis (Debian package)…" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq redis-server >&2
    # The package may start a default server on 6379; this project does not use it.
    service redis-server stop >/dev/null 2>&1 || true
  fi
  command -v redis-server
}

alive() {
  [ -f "$DIR/redis.pid" ] && kill -0 "$(cat "$DIR/redis.pid")" 2>/dev/null
}

start() {
  local bin
  bin=$(redis_bin)
  if alive; then echo "$URL"; return; fi
  if redis-cli -h 127.0.0.1 -p "$PORT" ping >/dev/null 2>&1; then
    echo "Port $PORT is taken by another Redis; set FINETUNEDB_REDIS_PORT" >&2
    exit 1
  fi
  rm -rf "$DIR"
  mkdir -p "$DIR"
  "$bin" --bind 127.0.0.1 --port "$PORT" --dir "$DIR" --save "" --appendonly no \
    --protected-mode yes --daemonize yes --pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log"
  for _ in $(seq 1 100); do
    if redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null | grep -q PONG; then
      echo "$URL"; return
    fi
    sleep 0.1
  done
  echo "Redis did not start; see $DIR/redis.log" >&2
  exit 1
}

stop() {
  if alive; then
    local pid
    pid=$(cat "$DIR/redis.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$DIR"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
