"""DigitScan's one settings module: every value comes from the environment or an embedded default.

A fresh clone runs with no servers at all (SQLite, a SQLite-file Celery queue and local files, all
under ``var/``); the same code runs at scale when the environment names real services:

==========================  =====================================  =====================================
concern                     embedded default                       at scale
==========================  =====================================  =====================================
database                    ``var/db.sqlite3``                     ``DATABASE_URL`` (PostgreSQL)
broker                      ``var/broker.sqlite3``                 ``CELERY_BROKER_URL`` (Redis)
files                       ``var/media``                          ``DIGITSCAN_STORAGE=s3`` + ``AWS_*``
secret key                  generated into ``var/secret_key``      ``SECRET_KEY`` (required, DEBUG off)
==========================  =====================================  =====================================

Every variable read here is listed in ``deploy/env.example`` with its meaning.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from web.uploads import limits

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use 1/0, true/false, yes/no, on/off)")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    try:
        return int(value) if value else default
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer") from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    return [v.strip() for v in value.split(",") if v.strip()] if value else default


# Everything the embedded defaults write (database, queue, files, secret) lives under one folder.
VAR_DIR = Path(env_str("DIGITSCAN_VAR_DIR", str(BASE_DIR / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

# --- security -------------------------------------------------------------------------------------
DEBUG = env_bool("DJANGO_DEBUG", True)


def _secret_key() -> str:
    """``SECRET_KEY`` from the environment; with DEBUG on, one generated once and kept in ``var/``."""
    key = env_str("SECRET_KEY")
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DJANGO_DEBUG is off")
    path = VAR_DIR / "secret_key"
    if not path.exists():
        # Written once so that sessions survive restarts; 0600 because it signs sessions.
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
# Behind a TLS-terminating proxy: trust its X-Forwarded-Proto, redirect plain HTTP, and tell browsers so.
if env_bool("DJANGO_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 3600)

# --- applications ---------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "web.accounts.axes_app.AxesConfig",  # django-axes, under a translatable name
    "django_celery_beat",
    "web.registry",
    "web.uploads",
    "web.accounts",
]

MIDDLEWARE = [
    # Outermost: every error under /api/ in the API's JSON shape, whoever answered it (web/http_errors.py).
    "web.http_errors.ApiErrorMiddleware",
    # 503 + Retry-After while the database is unreachable, whichever layer met it (web/outage.py): inside
    # ApiErrorMiddleware, so that its exception handling sees our answer, not the exception.
    "web.outage.DatabaseOutageMiddleware",
    # Before anything reads the body: a request announced over the limit is refused from its headers.
    "web.http_errors.BodyLimitMiddleware",
    # Keeps a multipart body's part headers: a file name that is not UTF-8 is said so (uploads/filenames.py).
    "web.uploads.filenames.FileNameMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",  # the page's language (LANGUAGES, below)
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Answers a locked-out sign-in (web/accounts/lockout.py): after every other middleware, as axes asks.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "web.urls"
WSGI_APPLICATION = "web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "web" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # sqlite connections are cheap; persistent ones lock
    # Web and worker processes write the same file: WAL lets readers go on while one writes, IMMEDIATE
    # takes the write lock up front (no upgrade deadlocks), and the timeout waits for it instead of
    # failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- files ----------------------------------------------------------------------------------------
MEDIA_ROOT = Path(env_str("DIGITSCAN_MEDIA_ROOT", str(VAR_DIR / "media")))
# No public MEDIA_URL: every stored file is served by a view that checks its owner (web.uploads.views).
STORAGE_BACKEND = env_str("DIGITSCAN_STORAGE", "local")
if STORAGE_BACKEND == "s3":
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_str("AWS_STORAGE_BUCKET_NAME", "digitscan"),
            "endpoint_url": env_str("AWS_S3_ENDPOINT_URL") or None,
            "region_name": env_str("AWS_S3_REGION_NAME") or None,
            "access_key": env_str("AWS_ACCESS_KEY_ID") or None,
            "secret_key": env_str("AWS_SECRET_ACCESS_KEY") or None,
            # Private objects: the owner-checking view streams them; nothing is publicly readable.
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": True,
        },
    }
elif STORAGE_BACKEND == "local":
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        # No explicit location: it follows MEDIA_ROOT, which tests point at a temporary folder.
        "OPTIONS": {"allow_overwrite": True},
    }
else:
    raise ImproperlyConfigured(f"DIGITSCAN_STORAGE={STORAGE_BACKEND!r}: use 'local' or 's3'")

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "web" / "static"]
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- uploads (the defaults and why: web/uploads/limits.py) ----------------------------------------
DIGITSCAN_MAX_UPLOAD_BYTES = env_int("DIGITSCAN_MAX_UPLOAD_BYTES", limits.MAX_UPLOAD_BYTES)
DIGITSCAN_MAX_PIXELS = env_int("DIGITSCAN_MAX_PIXELS", limits.MAX_PIXELS)
DIGITSCAN_MAX_REQUEST_BYTES = env_int("DIGITSCAN_MAX_REQUEST_BYTES", limits.MAX_REQUEST_BYTES)
# Django's own caps: form fields held in memory (not files) and how many there may be.
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200
# The checkpoint registered as the first ModelVersion when none exists (tests point it at a tiny one).
DIGITSCAN_DEFAULT_CHECKPOINT = env_str("DIGITSCAN_DEFAULT_CHECKPOINT", "")

# The study's results committed with the code (docs/results/benchmark, docs/results/ablation): what the
# Experiments page shows until a benchmark or ablation has run here.
DIGITSCAN_COMMITTED_RESULTS = BASE_DIR / "docs" / "results"

# --- accounts -------------------------------------------------------------------------------------
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "history"
LOGOUT_REDIRECT_URL = "upload"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Languages (docs/web.md, "Languages"): the header's switch (a cookie, kept a year), else the browser's
# (zh-CN, zh → zh-hans), else English. Names in their own language: what a reader looks for in the switch.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "web" / "locale"]  # django.po and the compiled .mo, both committed
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- API ------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Integrators send "Authorization: Token <key>" (a key from /accounts/token/ or POST /api/v1/token/);
    # the site's own pages use the session. No HTTP Basic: it sends the password with every request.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First: a bad key is answered 401 with "WWW-Authenticate: Token" (the first class says how).
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Uploads per client (web/uploads/throttles.py); every other request per client, generously (a
    # result page polls once a second). Counted in the shared cache; over the rate: 429 + Retry-After.
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "uploads": env_str("DIGITSCAN_UPLOAD_RATE", "30/minute"),
        "site_feedback": env_str("DIGITSCAN_FEEDBACK_RATE", "10/hour"),
        "anon": env_str("DIGITSCAN_API_RATE", "600/minute"),
        "user": env_str("DIGITSCAN_API_RATE", "600/minute"),
    },
    # Proxies in front that append to X-Forwarded-For (nginx in docker-compose.yml: 1); 0 = none, the
    # client's own address is used and the header ignored (a client could forge it).
    "NUM_PROXIES": env_int("DIGITSCAN_NUM_PROXIES", 0),
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "web.uploads.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "DigitScan API",
    "DESCRIPTION": "Upload a photo or scan of handwritten digits; poll for the digits read, line by line.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # /api/docs/ loads Swagger UI from the site's own static files (drf-spectacular-sidecar), not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Request bodies as components of their own: an uploaded file is then "format: binary" (a file
    # picker in /api/docs/), not the "uri" that a file field is in an answer.
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- cache: throttle counts shared by every web process ------------------------------------------
# Redis at scale (DIGITSCAN_CACHE_URL, e.g. redis://redis:6379/1); files under var/ embedded.
if env_str("DIGITSCAN_CACHE_URL"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": env_str("DIGITSCAN_CACHE_URL")}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": str(VAR_DIR / "cache")}}

# --- sign-in lock-out (django-axes): repeated wrong passwords for one user from one address ---------
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env_int("DIGITSCAN_LOGIN_FAILURES", 5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("DIGITSCAN_LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "web.accounts.lockout.locked_out"
AXES_IPWARE_PROXY_COUNT = REST_FRAMEWORK["NUM_PROXIES"] or None
AXES_VERBOSE = False

# --- Celery (read by web/celery.py through the CELERY_ namespace) ---------------------------------
# The embedded queue is one SQLite file, read through kombu's SQLAlchemy transport as web/broker.py adapts
# it (a message is claimed and deleted in one transaction, so concurrent producers and consumers never lose
# or share one). Not kombu's filesystem transport: its exchange files corrupt under concurrent writers.
BROKER_DB = VAR_DIR / "broker.sqlite3"
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", f"sqlite:///{BROKER_DB}")
if CELERY_BROKER_URL.startswith("sqlite://"):
    CELERY_BROKER_TRANSPORT = "web.broker:Transport"
    # No fanout exchange on it, so no remote control (celery inspect/control need Redis).
    CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
else:
    # Redis redelivers an unacknowledged message after this many seconds (a worker host that vanished);
    # it must exceed the longest task, or a slow task would be delivered twice.
    _visibility = env_int("CELERY_VISIBILITY_TIMEOUT", 3600)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": _visibility,
        # Workers sweep for such messages every few seconds (kombu's default is every ~100 s), so a
        # message is back in the queue soon after its visibility timeout; the sweep is one cheap query.
        "unacked_restore_interval": min(10, max(1, _visibility // 4)),
        "unacked_restore_throttle": 1,
    }
# Results go to the database rows, never to a Celery result backend.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True  # a message is acknowledged after the task ran, so a dead worker's returns
CELERY_TASK_REJECT_ON_WORKER_LOST = True  # ...and a killed child process re-queues it at once
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # a busy process does not sit on messages another could run
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 30)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 60)
CELERY_TASK_DEFAULT_QUEUE = "inference"
CELERY_TASK_ROUTES = {
    "worker.tasks.recognize": {"queue": "inference"},
    "worker.tasks.reap_stuck_uploads": {"queue": "inference"},
    # On the inference queue: the training worker is the one busy with (or dead under) the run it reaps.
    "worker.tasks.reap_stuck_runs": {"queue": "inference"},
    "worker.tasks.train_model": {"queue": "training"},
    "worker.tasks.retrain_periodically": {"queue": "training"},
    "worker.tasks.run_benchmark": {"queue": "training"},
    "worker.tasks.run_ablation": {"queue": "training"},
    "worker.tasks.benchmark_periodically": {"queue": "training"},
    "worker.tasks.ablate_periodically": {"queue": "training"},
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    # The upload sweeper (web/uploads/delivery.py): re-sends what a dead worker or the broker lost.
    "reap-stuck-uploads": {"task": "worker.tasks.reap_stuck_uploads",
                           "schedule": float(env_int("DIGITSCAN_SWEEP_EVERY_S", 10))},
    "reap-stuck-runs": {"task": "worker.tasks.reap_stuck_runs", "schedule": 60.0},
}

# How many times one upload may be delivered to a worker before it is failed for good (a poison image
# that kills its process would otherwise be redelivered forever).
DIGITSCAN_MAX_ATTEMPTS = env_int("DIGITSCAN_MAX_ATTEMPTS", 3)
# Delivery (docs/web.md, "Delivery guarantees"). A reading process writes the upload's heartbeat every
# DIGITSCAN_HEARTBEAT_S; beat runs the sweeper every DIGITSCAN_SWEEP_EVERY_S (above). A running upload whose
# heartbeat was DIGITSCAN_STALE_AFTER_S old at two sweeps in a row lost its worker (it died with the whole
# worker, whose message Redis would only redeliver after CELERY_VISIBILITY_TIMEOUT): it is queued again,
# within STALE + 2 × SWEEP (35 s by default) of its last heartbeat. A queued upload whose message went
# out DIGITSCAN_LOST_AFTER_S ago and is no longer waiting in the queue is sent again, and one whose message
# never went out (broker down) at the first sweep once the broker is back. Duplicates do nothing.
DIGITSCAN_HEARTBEAT_S = env_int("DIGITSCAN_HEARTBEAT_S", 5)
DIGITSCAN_SWEEP_EVERY_S = env_int("DIGITSCAN_SWEEP_EVERY_S", 10)
DIGITSCAN_STALE_AFTER_S = env_int("DIGITSCAN_STALE_AFTER_S", 15)
DIGITSCAN_LOST_AFTER_S = env_int("DIGITSCAN_LOST_AFTER_S", 20)
# A reading that cannot reach the database (refused, reset) is retried with backoff (1, 2, 4, 8, 8… s)
# for this long, and neither counts an attempt nor reads the image twice (the retry carries the result).
DIGITSCAN_DB_RETRY_FOR_S = env_int("DIGITSCAN_DB_RETRY_FOR_S", 180)
# A retrain stops after this long; it must stay under CELERY_VISIBILITY_TIMEOUT, or Redis would hand the
# still-running job to another worker (retrains are acknowledged late, so that a dead worker's returns).
DIGITSCAN_TRAIN_TIME_LIMIT_S = env_int("DIGITSCAN_TRAIN_TIME_LIMIT_S", 3000)
# A benchmark or ablation stops after this long (all six ablation studies take about half a day on 2 cores).
# They are acknowledged on receipt and never delivered twice, so this need not stay under the visibility
# timeout; a run whose worker died is found by its heartbeat instead (DIGITSCAN_RUN_STALE_AFTER_S).
DIGITSCAN_STUDY_TIME_LIMIT_S = env_int("DIGITSCAN_STUDY_TIME_LIMIT_S", 48 * 3600)
# A running benchmark or ablation whose worker has not reported for this long is failed by the reaper
# (reap_stuck_runs), which frees its kind for a new run. A working one reports at least once a minute or
# so (every second while a torch model trains; the longest silent step, the SVM fit, takes about a minute).
DIGITSCAN_RUN_STALE_AFTER_S = env_int("DIGITSCAN_RUN_STALE_AFTER_S", 1800)
# Torch threads per worker process; 0 = cores // processes, so that processes × threads ≤ cores.
DIGITSCAN_TORCH_THREADS = env_int("DIGITSCAN_TORCH_THREADS", 0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Every line starts with its time (UTC, as TIME_ZONE), like gunicorn's and start.sh's own lines.
    "formatters": {"timed": {"format": "%(asctime)s %(levelname)s [%(processName)s %(process)d] %(name)s: "
                                       "%(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "timed"}},
    "root": {"handlers": ["console"], "level": env_str("DIGITSCAN_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
