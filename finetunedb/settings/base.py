"""Settings shared by every environment. Everything a deployment changes comes from the environment."""

import json
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from finetunedb.logs import log_format_choose
from finetunedb.storage_config import storage_backend

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Models and tokenizers never come from a hub at run time unless a deployment opts in.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

DATA_DIR = Path(os.environ.get("DATA_DIR", BASE_DIR / "var")).resolve()

SECRET_KEY = os.environ.get("SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_results",
    "finetunedb.teams",
    "finetunedb.actions",
    "datasets_app",
    "training",
    "evaluation",
    "capture",
    "annotation",
    "serving",
    "semantic",
    "webhooks",
]

MIDDLEWARE = [
    # Outermost: every answer, redirects and refusals included, carries its X-Request-ID.
    "finetunedb.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "datasets_app.uploads.UploadLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "finetunedb.middleware.SecurityHeadersMiddleware",
    "finetunedb.middleware.PageMethodsMiddleware",
    "finetunedb.middleware.DatabaseBusyMiddleware",
]

ROOT_URLCONF = "finetunedb.urls"
WSGI_APPLICATION = "finetunedb.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "finetunedb.teams.context_processors.current_team",
            ],
        },
    },
]

_default_db = f"sqlite:///{DATA_DIR / 'finetunedb.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(os.environ.get("DATABASE_URL", _default_db))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE takes the write lock at BEGIN, so two writers queue instead of failing with
        # "database is locked" when a read transaction tries to upgrade.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("DB_CONN_MAX_AGE", "60"))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Not a rule: its password_changed hook revokes the user's API tokens on every path.
    {"NAME": "finetunedb.teams.authentication.RevokeTokensOnPasswordChange"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploads, reports, exports, model folders: the local folder, or an S3-compatible store named by
# STORAGE_URL / AWS_STORAGE_BUCKET_NAME (finetunedb/storage_config.py, docs/deployment.md).
STORAGES = {
    "default": storage_backend(os.environ),
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = DATA_DIR / "media"
# Object-store housekeeping (docs/deployment.md, "Storage"). Each machine's caches of fetched
# folders (models, embeddings) stay under this many bytes, least recently used first (0: no limit).
FINETUNEDB_FETCH_CACHE_BYTES = int(
    os.environ.get("FINETUNEDB_FETCH_CACHE_BYTES", str(50 * 1024**3))
)
# storage_cleanup: an import's upload is deleted this many days after the import finished or
# failed (its retry needs it until then); nothing younger than the min age is ever deleted (a
# publish or an upload in progress), and a replaced model's old files go once it is that old.
FINETUNEDB_UPLOAD_RETENTION_DAYS = int(os.environ.get("FINETUNEDB_UPLOAD_RETENTION_DAYS", "7"))
FINETUNEDB_STORAGE_CLEANUP_MIN_AGE_S = int(
    os.environ.get("FINETUNEDB_STORAGE_CLEANUP_MIN_AGE_S", str(24 * 3600))
)

LOGIN_URL = "teams:login"
LOGIN_REDIRECT_URL = "teams:home"
LOGOUT_REDIRECT_URL = "teams:login"

# Sign-up is open in the embedded single-machine mode; a team deployment may close it.
FINETUNEDB_SIGNUP_OPEN = env_bool("FINETUNEDB_SIGNUP_OPEN", True)
# Django's admin at /admin/ (production: off unless enabled); optionally only from these
# client addresses (as the login throttle sees them, honouring FINETUNEDB_NUM_PROXIES).
FINETUNEDB_ADMIN_ENABLED = env_bool("FINETUNEDB_ADMIN_ENABLED", True)
FINETUNEDB_ADMIN_ALLOWED_IPS = env_list("FINETUNEDB_ADMIN_ALLOWED_IPS", "")
# Teams one user may create (the sign-up team included), so per-team quotas and job caps do not
# multiply by creating teams; the next one is refused with 409. 0 = unlimited.
FINETUNEDB_MAX_TEAMS_PER_USER = int(os.environ.get("FINETUNEDB_MAX_TEAMS_PER_USER", "10"))
# Invitations one team may send in 24 hours (bounds invitation e-mail); then 409. 0 = unlimited.
FINETUNEDB_MAX_INVITATIONS_PER_TEAM_PER_DAY = int(
    os.environ.get("FINETUNEDB_MAX_INVITATIONS_PER_TEAM_PER_DAY", "50")
)
# Invitation notices go through Django's e-mail backend; the console one prints them.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "finetunedb@localhost")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 10
FINETUNEDB_MAX_UPLOAD_BYTES = int(os.environ.get("FINETUNEDB_MAX_UPLOAD_BYTES", str(2 * 1024**3)))
# Imports a team may have queued or running at once; the next one is refused with 409.
FINETUNEDB_MAX_ACTIVE_IMPORTS_PER_TEAM = int(
    os.environ.get("FINETUNEDB_MAX_ACTIVE_IMPORTS_PER_TEAM", "3")
)
# Bytes a team may keep (uploads, error reports, training run folders, example content; see
# finetunedb/teams/quota.py); 0 = unlimited. Past it, uploads answer 413 and launches 409.
FINETUNEDB_TEAM_STORAGE_QUOTA_BYTES = int(
    os.environ.get("FINETUNEDB_TEAM_STORAGE_QUOTA_BYTES", str(20 * 1024**3))
)
# What an import may decode to (datasets_app/formats/errors.py Limits): one row; one whole file
# (text after gzip, Parquet rows as JSON; reading also stops at the team's quota room); gzip's
# output over its input once past the first MiB; blank lines. Past any: failed, nothing stored.
FINETUNEDB_MAX_DECODED_ROW_BYTES = int(
    os.environ.get("FINETUNEDB_MAX_DECODED_ROW_BYTES", str(8 * 1024**2))
)
FINETUNEDB_MAX_DECODED_BYTES = int(
    os.environ.get("FINETUNEDB_MAX_DECODED_BYTES", str(4 * FINETUNEDB_MAX_UPLOAD_BYTES))
)
FINETUNEDB_MAX_COMPRESSION_RATIO = int(os.environ.get("FINETUNEDB_MAX_COMPRESSION_RATIO", "100"))
FINETUNEDB_MAX_BLANK_LINES = int(os.environ.get("FINETUNEDB_MAX_BLANK_LINES", "100000"))
# Request bodies other than file uploads stay small; files stream to disk above this size.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# Capture (DESIGN §8). The logging proxy's upstreams, named by the administrator (JSON:
# {"openai": {"base_url": "https://api.openai.com/v1", "api_key": "sk-..."}}); callers pick a
# name with X-FinetuneDB-Upstream and can never give a URL.
# Webhook endpoints on private, loopback or link-local addresses (docs/webhooks.md): off, so a
# member cannot make the server call its own network; tests turn it on for their loopback receiver.
FINETUNEDB_WEBHOOKS_ALLOW_PRIVATE = env_bool("FINETUNEDB_WEBHOOKS_ALLOW_PRIVATE", False)
FINETUNEDB_UPSTREAMS = json.loads(os.environ.get("FINETUNEDB_UPSTREAMS", "") or "{}")
FINETUNEDB_PROXY_TIMEOUT_S = float(os.environ.get("FINETUNEDB_PROXY_TIMEOUT_S", "60"))
# Requests per minute per key (API token, ingest key, or signed-in user) on /proxy/v1/... and
# on /v1/...; counted in the database, so every web process shares them; 0 turns one off.
FINETUNEDB_PROXY_RATE_LIMIT_PER_MINUTE = int(
    os.environ.get("FINETUNEDB_PROXY_RATE_LIMIT_PER_MINUTE", "600")
)
FINETUNEDB_SERVING_RATE_LIMIT_PER_MINUTE = int(
    os.environ.get("FINETUNEDB_SERVING_RATE_LIMIT_PER_MINUTE", "120")
)
# POST /api/v1/logs/ bodies (1,000 logs at most per batch).
FINETUNEDB_LOG_BATCH_MAX_BYTES = int(
    os.environ.get("FINETUNEDB_LOG_BATCH_MAX_BYTES", str(DATA_UPLOAD_MAX_MEMORY_SIZE))
)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
DATA_UPLOAD_MAX_NUMBER_FILES = 1
FILE_UPLOAD_TEMP_DIR = str(DATA_DIR / "tmp")
(DATA_DIR / "tmp").mkdir(parents=True, exist_ok=True)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "finetunedb.teams.authentication.HashedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "finetunedb.pagination.CappedPageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "finetunedb.openapi.FinetuneDBAutoSchema",
    "EXCEPTION_HANDLER": "finetunedb.exceptions.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "finetunedb.parsers.StrictJSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_RATES": {"login": os.environ.get("FINETUNEDB_LOGIN_RATE", "10/min")},
    # Proxies in front of the app that append to X-Forwarded-For. 0: throttles key on the socket
    # address; leaving it unset would let a client pick its own address by sending the header.
    "NUM_PROXIES": int(os.environ.get("FINETUNEDB_NUM_PROXIES", "0")),
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # ?format= names an export format in this API, not a DRF renderer.
    "URL_FORMAT_OVERRIDE": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "FinetuneDB API",
    "DESCRIPTION": "Curate, version and train on chat fine-tuning data. Authenticate with "
    "`Authorization: Token <token>` (POST /api/v1/auth/token/ to get one).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "finetunedb.teams.models.Role.choices",
        "ExampleStatusEnum": "datasets_app.models.ExampleStatus.choices",
        "SplitEnum": "datasets_app.models.Split.choices",
    },
}

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = DATA_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_RESULT_BACKEND = "django-db"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ROUTES = {"training.*": {"queue": "training"}}
CELERY_TASK_DEFAULT_QUEUE = "default"
# Seconds a task of each kind may run (finetunedb/celery.py task_time_limits): past the soft
# limit its job ends failed with a message naming the limit; GRACE later the worker kills it.
FINETUNEDB_TASK_TIME_LIMITS_S = {
    "import": int(os.environ.get("FINETUNEDB_IMPORT_TIME_LIMIT_S", "1800")),
    "checks": int(os.environ.get("FINETUNEDB_CHECKS_TIME_LIMIT_S", "1800")),
    "dedup": int(os.environ.get("FINETUNEDB_DEDUP_TIME_LIMIT_S", "3600")),
    "recover": int(os.environ.get("FINETUNEDB_RECOVER_TIME_LIMIT_S", "300")),
    # above the pre-flight's 24 h training budget: a run it admits is not cut short
    "training": int(os.environ.get("FINETUNEDB_TRAINING_TIME_LIMIT_S", str(30 * 3600))),
    "evaluation": int(os.environ.get("FINETUNEDB_EVAL_TIME_LIMIT_S", "7200")),
    "playground": int(os.environ.get("FINETUNEDB_PLAYGROUND_TIME_LIMIT_S", "600")),
}
FINETUNEDB_TASK_TIME_LIMIT_GRACE_S = int(
    os.environ.get("FINETUNEDB_TASK_TIME_LIMIT_GRACE_S", "120")
)
# any task not given its own kind
CELERY_TASK_SOFT_TIME_LIMIT = FINETUNEDB_TASK_TIME_LIMITS_S["import"]
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + FINETUNEDB_TASK_TIME_LIMIT_GRACE_S
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Periodic work, for the one beat of a deployment: `make run` starts it inside its default
# worker (scripts/serve.sh, -B); elsewhere run one `celery beat`, or cron the commands named.
CELERY_BEAT_SCHEDULE = {
    # capture retention (Team.log_retention_days); or `manage.py delete_old_logs` from cron
    "capture-logs-retention": {"task": "capture.logs_retention_apply", "schedule": 3600.0},
    # webhook tries whose task was lost (a worker that died mid-try): docs/webhooks.md
    "webhooks-due-deliveries": {"task": "webhooks.webhook_deliveries_due_send", "schedule": 60.0},
    # the object store's unreferenced files (finetunedb/storage_cleanup.py); or cron
    # `manage.py storage_cleanup`
    "storage-cleanup": {"task": "storage.storage_cleanup", "schedule": 3600.0},
}

# "json": one JSON object per line (docs/deployment.md, "Logs"); "text": one escaped line per
# record for reading in a terminal. Either way user text cannot forge a line. gunicorn
# (finetunedb.logs.GunicornLogger) and the Celery worker (finetunedb/celery.py) use the same.
# Unset or "auto": text when the process writes to a terminal, JSON otherwise (deployments
# should say json explicitly); scripts/serve.sh (make run) defaults to text.
BAD_LOG_FORMAT = "FINETUNEDB_LOG_FORMAT={value!r}: use json, text or auto"
try:
    FINETUNEDB_LOG_FORMAT = log_format_choose(os.environ.get("FINETUNEDB_LOG_FORMAT"))
except ValueError:
    raise ImproperlyConfigured(
        BAD_LOG_FORMAT.format(value=os.environ.get("FINETUNEDB_LOG_FORMAT"))
    ) from None
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "finetunedb.logs.JsonFormatter"},
        "text": {"()": "finetunedb.logs.TextFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": FINETUNEDB_LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.request": {"level": "WARNING"}},
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Shared by every process on the machine (gunicorn workers, Celery), so throttles hold across them.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(DATA_DIR / "cache"),
    }
}

# --- training (docs/training.md) -------------------------------------------------------------
# Converted base models live in <models>/base, trained runs in <models>/runs/<id>.
FINETUNEDB_MODELS_DIR = Path(os.environ.get("FINETUNEDB_MODELS_DIR", DATA_DIR / "models")).resolve()
# Local Hugging Face folders an admin offers as base models, besides the bundled default.
FINETUNEDB_BASE_MODELS = env_list("FINETUNEDB_BASE_MODELS", "")
# Local sentence-embedding folders an admin offers besides the bundled all-MiniLM-L6-v2 (issue 22).
FINETUNEDB_EMBEDDING_MODELS = env_list("FINETUNEDB_EMBEDDING_MODELS", "")
# The worker's device: "" picks CUDA when present, else CPU.
FINETUNEDB_TRAINING_DEVICE = os.environ.get("FINETUNEDB_TRAINING_DEVICE", "")
# The training worker leaves room for the curator's work (imports, checks, pages) on the same
# machine: its processes run at this added niceness (0 to 19; 0 keeps the worker's priority)
# and torch uses this many CPU threads (default: every core but one, at least one).
_CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
FINETUNEDB_TRAINING_NICE = int(os.environ.get("FINETUNEDB_TRAINING_NICE", "10"))
FINETUNEDB_TRAINING_THREADS = int(
    os.environ.get("FINETUNEDB_TRAINING_THREADS", "").strip() or max(1, _CORES - 1)
)
BAD_TRAINING_NICE = "FINETUNEDB_TRAINING_NICE={value}: give a whole number from 0 to 19"
BAD_TRAINING_THREADS = (
    "FINETUNEDB_TRAINING_THREADS={value}: give a whole number of threads, 1 or more"
)
if not 0 <= FINETUNEDB_TRAINING_NICE <= 19:
    raise ImproperlyConfigured(BAD_TRAINING_NICE.format(value=FINETUNEDB_TRAINING_NICE))
if FINETUNEDB_TRAINING_THREADS < 1:
    raise ImproperlyConfigured(BAD_TRAINING_THREADS.format(value=FINETUNEDB_TRAINING_THREADS))
# Processes per run: "auto" is one per visible CUDA GPU under torchrun when there are several,
# else in the worker itself; a number N forces N processes. docs/training.md "Several GPUs".
FINETUNEDB_TRAINING_PROCESSES = os.environ.get("FINETUNEDB_TRAINING_PROCESSES", "auto").strip()
BAD_TRAINING_PROCESSES = (
    "FINETUNEDB_TRAINING_PROCESSES={value!r}: use auto (one process per visible GPU) or a whole "
    "number of processes, 1 or more"
)
if not (
    FINETUNEDB_TRAINING_PROCESSES == "auto"
    or (FINETUNEDB_TRAINING_PROCESSES.isdigit() and int(FINETUNEDB_TRAINING_PROCESSES) >= 1)
):
    raise ImproperlyConfigured(BAD_TRAINING_PROCESSES.format(value=FINETUNEDB_TRAINING_PROCESSES))
FINETUNEDB_MAX_ACTIVE_RUNS_PER_TEAM = int(
    os.environ.get("FINETUNEDB_MAX_ACTIVE_RUNS_PER_TEAM", "3")
)
# Evaluation after training: held-out records scored, prompts generated side by side.
FINETUNEDB_EVAL_MAX_RECORDS = int(os.environ.get("FINETUNEDB_EVAL_MAX_RECORDS", "200"))
FINETUNEDB_EVAL_SAMPLES = int(os.environ.get("FINETUNEDB_EVAL_SAMPLES", "5"))
FINETUNEDB_EVAL_MAX_NEW_TOKENS = int(os.environ.get("FINETUNEDB_EVAL_MAX_NEW_TOKENS", "128"))
FINETUNEDB_PLAYGROUND_MAX_NEW_TOKENS = int(
    os.environ.get("FINETUNEDB_PLAYGROUND_MAX_NEW_TOKENS", "256")
)
# Generation runs on the training worker, token by token: bounded so an admin typo cannot hold
# the worker for hours (every name below: its allowed range).
GENERATION_BOUNDS = {
    "FINETUNEDB_EVAL_MAX_RECORDS": (1, 10_000),
    "FINETUNEDB_EVAL_SAMPLES": (0, 100),
    "FINETUNEDB_EVAL_MAX_NEW_TOKENS": (1, 4096),
    "FINETUNEDB_PLAYGROUND_MAX_NEW_TOKENS": (1, 4096),
}
BAD_GENERATION_BOUND = "{name}={value}: allowed {low}–{high}"
for _name, (_low, _high) in GENERATION_BOUNDS.items():
    if not _low <= globals()[_name] <= _high:
        raise ImproperlyConfigured(
            BAD_GENERATION_BOUND.format(name=_name, value=globals()[_name], low=_low, high=_high)
        )
# Hard gates on a launch (and again when the worker starts the run): the pre-flight's estimate
# of peak memory and of time must fit. Memory unset means derived on the machine that checks:
# 90 % of the GPU's memory when the run trains on CUDA, else half the RAM (cgroup limit
# included). docs/training.md "Budgets".
FINETUNEDB_TRAINING_MAX_MEMORY_BYTES = (
    int(os.environ["FINETUNEDB_TRAINING_MAX_MEMORY_BYTES"])
    if os.environ.get("FINETUNEDB_TRAINING_MAX_MEMORY_BYTES", "").strip()
    else None
)
FINETUNEDB_TRAINING_MAX_SECONDS = int(os.environ.get("FINETUNEDB_TRAINING_MAX_SECONDS", "86400"))
BAD_TRAINING_BUDGET = "{name}={value}: give a whole number above 0"
for _name in ("FINETUNEDB_TRAINING_MAX_MEMORY_BYTES", "FINETUNEDB_TRAINING_MAX_SECONDS"):
    if globals()[_name] is not None and globals()[_name] <= 0:
        raise ImproperlyConfigured(BAD_TRAINING_BUDGET.format(name=_name, value=globals()[_name]))
