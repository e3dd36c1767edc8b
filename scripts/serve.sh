#!/usr/bin/env bash
# `make run`: the embedded default on one machine — SQLite under DATA_DIR, Celery's filesystem
# broker, two workers started alongside the web server and stopped with it: one for imports,
# checks and dedup (`default`), one for training, evaluation and the playground (`training`), so
# an hours-long run never holds up another team's import. The serving engine (serving/engine,
# docs/serving.md) runs beside them on 127.0.0.1:$SERVING_PORT; /v1/chat/completions forwards to it.
set -euo pipefail
cd "$(dirname "$0")/.."

export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-finetunedb.settings.dev}"
export DATA_DIR="${DATA_DIR:-$PWD/var}"
# A person reads this terminal: readable log lines unless asked for JSON (deployments set json).
export FINETUNEDB_LOG_FORMAT="${FINETUNEDB_LOG_FORMAT:-text}"
export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}" TRANSFORMERS_OFFLINE="${TRANSFORMERS_OFFLINE:-1}"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
PY=.venv/bin/python
SERVING_PORT="${SERVING_PORT:-8011}"
export FINETUNEDB_SERVING_URL="${FINETUNEDB_SERVING_URL:-http://127.0.0.1:$SERVING_PORT}"

mkdir -p "$DATA_DIR/broker/queue" "$DATA_DIR/broker/processed" "$DATA_DIR/broker/control" "$DATA_DIR/logs"
$PY manage.py migrate --noinput
$PY manage.py collectstatic --noinput -v0
$PY manage.py ensure_admin --url "http://$HOST:$PORT/"
# The bundled base model is converted once (about 25 s), so the first training does not wait.
$PY manage.py ensure_base_model

# -B: the periodic tasks (CELERY_BEAT_SCHEDULE: log retention, hourly) run in this one worker
# only; a second beat would run each of them twice.
.venv/bin/celery -A finetunedb worker -Q default --concurrency 1 --loglevel INFO -n default@%h \
  -B -s "$DATA_DIR/celerybeat-schedule" >"$DATA_DIR/logs/worker.log" 2>&1 &
WORKER=$!
.venv/bin/celery -A finetunedb worker -Q training --concurrency 1 --loglevel INFO -n training@%h \
  >"$DATA_DIR/logs/training-worker.log" 2>&1 &
TRAINING_WORKER=$!
FINETUNEDB_MODELS_DIR="${FINETUNEDB_MODELS_DIR:-$DATA_DIR/models}" $PY -m serving.engine.server \
  --port "$SERVING_PORT" --preload bundled:SmolLM2-135M-Instruct >"$DATA_DIR/logs/serving.log" 2>&1 &
SERVING=$!
cleanup() {
  kill "$WORKER" "$TRAINING_WORKER" "$SERVING" 2>/dev/null || true
  wait "$WORKER" "$TRAINING_WORKER" "$SERVING" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

echo "Workers started (pids $WORKER, $TRAINING_WORKER; logs: $DATA_DIR/logs/worker.log, training-worker.log)"
echo "Serving engine on 127.0.0.1:$SERVING_PORT (pid $SERVING; log: $DATA_DIR/logs/serving.log)"
echo "Serving FinetuneDB at http://$HOST:$PORT/  (Ctrl+C stops the server and the workers)"
.venv/bin/gunicorn finetunedb.wsgi:application --bind "$HOST:$PORT" --workers "${WEB_WORKERS:-2}" \
  --threads 4 --timeout 300 --access-logfile - --control-socket "$DATA_DIR/gunicorn.ctl" \
  --logger-class finetunedb.logs.GunicornLogger &
WEB=$!
trap 'kill $WEB 2>/dev/null || true; cleanup' EXIT INT TERM
wait "$WEB"
