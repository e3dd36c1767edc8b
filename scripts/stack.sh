#!/usr/bin/env bash
# The app as a team deploys it, on this machine, for the production tests and the load benchmark:
# PostgreSQL + Redis (scripts/postgres.sh, scripts/redis.sh), migrations, gunicorn with
# finetunedb.settings.production, and TWO Celery workers as separate processes (-Q default and
# -Q training). With STACK_MODE=embedded: the `make run` default instead (SQLite, filesystem
# broker, one worker on both queues). Loopback only.
# In production mode files go through an S3 API on loopback (moto's server, STORAGE_URL) and the
# web, each worker and the serving engine have a data folder of their own (DATA_DIR,
# DATA_DIR-default, DATA_DIR-training, DATA_DIR-serving): nothing is shared on disk, as with
# workers and the engine on other machines.
#   scripts/stack.sh start          starts everything; prints the path of an env file to source
#   scripts/stack.sh worker QUEUE   (re)starts the worker of QUEUE (default|training)
#   scripts/stack.sh stop           stops everything and removes its files
# The env file holds FINETUNEDB_URL, FINETUNEDB_USER, FINETUNEDB_PASSWORD, STACK_DIR, DATA_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

MODE="${STACK_MODE:-production}"
PORT="${STACK_PORT:-8765}"
DIR="${STACK_DIR:-/tmp/finetunedb-stack-$PORT}"
ENV_FILE="$DIR/stack.env"
PY=.venv/bin/python
export FINETUNEDB_PG_PORT="${FINETUNEDB_PG_PORT:-54339}" FINETUNEDB_REDIS_PORT="${FINETUNEDB_REDIS_PORT:-63799}"
export FINETUNEDB_PG_DIR="$DIR/pg" FINETUNEDB_REDIS_DIR="$DIR/redis"

ready_count() {  # how many times a worker's log says it is ready
  local n
  n=$(grep -c "ready\." "$1" 2>/dev/null)
  echo "${n:-0}"
}

start_worker() {  # $1: queue(s), $2: name
  local before
  before=$(ready_count "$DIR/$2.log")
  local data="$DATA_DIR"
  [ "$MODE" = production ] && data="$DATA_DIR-$2"
  # setsid: each worker is its own process group, so a test can kill -9 it with its pool child.
  DATA_DIR="$data" setsid .venv/bin/celery -A finetunedb worker -Q "$1" -n "$2@%h" --concurrency 1 --loglevel INFO \
    --pidfile "$DIR/$2.pid" >>"$DIR/$2.log" 2>&1 </dev/null &
  for _ in $(seq 1 300); do
    [ "$(ready_count "$DIR/$2.log")" -gt "$before" ] && return
    sleep 0.1
  done
  echo "worker $2 did not start; see $DIR/$2.log" >&2
  return 1
}

start() {
  mkdir -p "$DIR"
  export DATA_DIR="$DIR/data" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
  export ALLOWED_HOSTS=127.0.0.1 FINETUNEDB_TRAINING_DEVICE="${FINETUNEDB_TRAINING_DEVICE:-cpu}"
  if [ "$MODE" = production ]; then
    export DJANGO_SETTINGS_MODULE=finetunedb.settings.production
    DATABASE_URL=$(scripts/postgres.sh start)
    CELERY_BROKER_URL=$(scripts/redis.sh start)
    SECRET_KEY=$($PY -c 'import secrets; print(secrets.token_urlsafe(50))')
    # Plain HTTP on loopback: a reverse proxy terminates TLS in a real deployment.
    export DATABASE_URL CELERY_BROKER_URL SECRET_KEY SECURE_SSL_REDIRECT=0
    start_s3
  else
    export DJANGO_SETTINGS_MODULE=finetunedb.settings.dev
    unset DATABASE_URL CELERY_BROKER_URL
    mkdir -p "$DATA_DIR/broker/queue" "$DATA_DIR/broker/processed" "$DATA_DIR/broker/control"
  fi
  local password
  password=$($PY -c 'import secrets; print(secrets.token_urlsafe(18))')
  {
    echo "export STACK_MODE=$MODE STACK_DIR=$DIR DATA_DIR=$DATA_DIR"
    echo "export DJANGO_SETTINGS_MODULE=$DJANGO_SETTINGS_MODULE ALLOWED_HOSTS=$ALLOWED_HOSTS"
    echo "export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 FINETUNEDB_TRAINING_DEVICE=$FINETUNEDB_TRAINING_DEVICE"
    echo "export FINETUNEDB_BASE_MODELS='${FINETUNEDB_BASE_MODELS:-}' FINETUNEDB_URL=http://127.0.0.1:$PORT"
    echo "export FINETUNEDB_USER=loadtester FINETUNEDB_PASSWORD=$password"
    if [ "$MODE" = production ]; then
      echo "export DATABASE_URL=$DATABASE_URL CELERY_BROKER_URL=$CELERY_BROKER_URL"
      # scripts/redis.sh and scripts/postgres.sh called from a test act on this stack's servers.
      echo "export FINETUNEDB_REDIS_PORT=$FINETUNEDB_REDIS_PORT FINETUNEDB_REDIS_DIR=$FINETUNEDB_REDIS_DIR"
      echo "export FINETUNEDB_PG_PORT=$FINETUNEDB_PG_PORT FINETUNEDB_PG_DIR=$FINETUNEDB_PG_DIR"
      echo "export SECRET_KEY=$SECRET_KEY SECURE_SSL_REDIRECT=0"
      echo "export STORAGE_URL='$STORAGE_URL' AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID"
      echo "export AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY AWS_DEFAULT_REGION=$AWS_DEFAULT_REGION"
    fi
  } >"$ENV_FILE"
  chmod 600 "$ENV_FILE"

  $PY manage.py migrate --noinput -v0
  $PY manage.py collectstatic --noinput -v0
  if [ "$MODE" = production ]; then
    # The deployment as it runs behind TLS (only loopback here turns the redirect off).
    SECURE_SSL_REDIRECT=1 $PY manage.py check --deploy --fail-level WARNING >/dev/null
  fi
  FINETUNEDB_PASSWORD=$password $PY manage.py shell -c "
import os
from django.contrib.auth import get_user_model
from finetunedb.teams.services import team_create
user = get_user_model().objects.create_user('loadtester', password=os.environ['FINETUNEDB_PASSWORD'])
team_create(user=user, name='Load')
"
  export FINETUNEDB_SERVING_URL="http://127.0.0.1:${STACK_SERVING_PORT:-$((PORT + 1))}"
  echo "export FINETUNEDB_SERVING_URL=$FINETUNEDB_SERVING_URL" >>"$ENV_FILE"
  setsid .venv/bin/gunicorn finetunedb.wsgi:application --bind "127.0.0.1:$PORT" \
    --workers "${WEB_WORKERS:-2}" --threads 4 --timeout 120 --pid "$DIR/web.pid" \
    --control-socket "$DIR/gunicorn.ctl" --logger-class finetunedb.logs.GunicornLogger --access-logfile - \
    >>"$DIR/web.log" 2>&1 </dev/null &
  # The serving engine (docs/serving.md): its own process group, loopback only; in production
  # mode on a machine of its own (DATA_DIR-serving): it fetches each fine-tune it serves from the
  # object store (STORAGE_URL) into its own cache, never from the training worker's folder.
  local serving_models="$DATA_DIR/models"
  [ "$MODE" = production ] && serving_models="$DATA_DIR-serving/models"
  FINETUNEDB_MODELS_DIR="$serving_models" setsid $PY -m serving.engine.server \
    --port "${STACK_SERVING_PORT:-$((PORT + 1))}" >>"$DIR/serving.log" 2>&1 </dev/null &
  echo $! >"$DIR/serving.pid"
  if [ "$MODE" = production ]; then
    start_worker default default
    start_worker training training
  else
    start_worker default,training embedded
  fi
  for _ in $(seq 1 300); do
    curl -fsS "http://127.0.0.1:$PORT/api/v1/schema/" -o /dev/null 2>/dev/null && break
    sleep 0.1
  done
  echo "$ENV_FILE"
}

stop_pid() {  # $1: pid file; the whole process group goes
  [ -f "$1" ] || return 0
  local pid
  pid=$(cat "$1")
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$1"
}

start_s3() {  # an S3 API on loopback (moto's server) and one bucket; exports STORAGE_URL
  local port="${STACK_S3_PORT:-$((PORT + 2))}"
  setsid .venv/bin/moto_server -H 127.0.0.1 -p "$port" >>"$DIR/s3.log" 2>&1 </dev/null &
  echo $! >"$DIR/s3.pid"
  for _ in $(seq 1 300); do
    curl -fsS "http://127.0.0.1:$port/" -o /dev/null 2>/dev/null && break
    sleep 0.1
  done
  export AWS_ACCESS_KEY_ID=stack AWS_SECRET_ACCESS_KEY=stack AWS_DEFAULT_REGION=us-east-1
  export STORAGE_URL="s3://finetunedb?endpoint_url=http://127.0.0.1:$port&region=us-east-1"
  $PY -c "import boto3; boto3.client('s3', endpoint_url='http://127.0.0.1:$port').create_bucket(Bucket='finetunedb')"
}

stop() {
  for name in web default training embedded serving s3; do stop_pid "$DIR/$name.pid"; done
  if [ -d "$DIR/pg" ]; then scripts/postgres.sh stop; fi
  if [ -d "$DIR/redis" ]; then scripts/redis.sh stop; fi
  rm -rf "$DIR"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  worker)
    # shellcheck disable=SC1090
    source "$ENV_FILE"
    stop_pid "$DIR/$2.pid"
    start_worker "$2" "$2"
    ;;
  *) echo "usage: $0 start|stop|worker QUEUE" >&2; exit 2 ;;
esac
