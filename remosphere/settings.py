"""Django settings for RemoSphere.

Every value from the environment comes through ``servicespec.envspec`` (declared once
there). With no environment at all this runs locally: DEBUG on, SQLite, a file-system
broker and emails written as files (``LOCAL_DATA_DIR``). Production mode (``RENDER`` set, or
``DJANGO_ENV=production``) refuses to start while anything it needs is missing.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url

from remosphere import broker
from servicespec import endpoints, envspec, timeouts

BASE_DIR = Path(__file__).resolve().parent.parent
try:
    ENV = envspec.load(os.environ)
except envspec.EnvError as error:
    # A SystemExit with the message prints it without a traceback.
    raise SystemExit(str(error)) from None

PRODUCTION = envspec.is_production(os.environ)
DEBUG = not PRODUCTION


def _signing_key(raw: str) -> str:
    """Django's deploy check wants 50 characters; Render's ``generateValue`` gives 44
    (256 random bits, base64). A shorter key is stretched with SHA-256, which keeps its
    entropy; web and worker derive the same key from the same value."""
    if len(raw) >= 50:
        return raw
    return hashlib.sha256(f"remosphere-signing-key:{raw}".encode()).hexdigest()


SECRET_KEY = _signing_key(ENV["SECRET_KEY"])
# Local development keeps its SQLite database, file-system broker and emails here.
LOCAL_DATA_DIR = BASE_DIR / ENV["LOCAL_DATA_DIR"]

# --- applications --------------------------------------------------------------------
INSTALLED_APPS = [
    "remosphere.apps.AdminConfig",  # Django's admin, with a rate-limited login
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "authentication",
    "emails",
    "operations",
]

MIDDLEWARE = [
    "operations.metrics.RequestMetricsMiddleware",  # first: it times every answer
    # Health checks reach an instance at its own address: answered before the host check.
    "remosphere.health.HostFreeHealthChecks",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "remosphere.middleware.NoStoreMiddleware",
]

ROOT_URLCONF = "remosphere.urls"
WSGI_APPLICATION = "remosphere.wsgi.application"
AUTH_USER_MODEL = "authentication.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "remosphere.context_processors.product",
            ],
        },
    },
]

# --- hosts and HTTP --------------------------------------------------------------------
ALLOWED_HOSTS = list(ENV["ALLOWED_HOSTS"])
if ENV["RENDER_EXTERNAL_HOSTNAME"]:
    ALLOWED_HOSTS.append(ENV["RENDER_EXTERNAL_HOSTNAME"])
CORS_ALLOWED_ORIGINS = ENV["CORS_ALLOWED_ORIGINS"]
# The admin (the one page with sessions and CSRF) is served from the Render host name.
CSRF_TRUSTED_ORIGINS = (
    [f"https://{ENV['RENDER_EXTERNAL_HOSTNAME']}"] if ENV["RENDER_EXTERNAL_HOSTNAME"] else []
)
# Bodies are small JSON documents; anything larger is refused (413) before it is parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024
X_FRAME_OPTIONS = "DENY"
# Render's health check reaches the container over plain HTTP on its private network, so
# these are never redirected to HTTPS (the redirect is on in production, below).
SECURE_REDIRECT_EXEMPT = [f"^{re.escape(p.lstrip('/'))}$" for p in endpoints.HEALTH_CHECK_PATHS]

# --- security in production (python manage.py check --deploy: no warnings) --------------
if PRODUCTION:
    # Render terminates TLS and forwards the original scheme in X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# --- database --------------------------------------------------------------------------
DATABASES = {"default": dj_database_url.parse(ENV["DATABASE_URL"])}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["NAME"] = str(LOCAL_DATA_DIR / DATABASES["default"]["NAME"])
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
else:
    # psycopg's pool, one per process: the worker's threads (and the web's) share at most
    # DATABASE_POOL_SIZE connections, and a task or a request gives its connection back
    # when it ends, so the blueprint's total fits the database's limit (validator C011).
    # Each connection is checked before it is handed out (CONN_HEALTH_CHECKS): one that
    # PostgreSQL dropped (a restart, a failover) is replaced, not used.
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps them instead
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"]["OPTIONS"] = {
        "connect_timeout": timeouts.DATABASE_TIMEOUT_SECONDS,
        "pool": {
            "min_size": 1,
            "max_size": ENV["DATABASE_POOL_SIZE"],
            "timeout": timeouts.DATABASE_TIMEOUT_SECONDS,  # waiting for a free connection
            "max_idle": 300,
        },
    }

REDIS_URL = ENV["REDIS_URL"]

# --- cache -----------------------------------------------------------------------------
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "remosphere",
            # A Redis that does not answer holds a request about 5 s at most; a silenced
            # pooled connection is pinged before use, a failed command tried on a fresh one.
            "OPTIONS": broker.CACHE_OPTIONS,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- passwords -------------------------------------------------------------------------
# Argon2id first (remosphere/hashers.py); PBKDF2, Django's former default, so the hashes
# made before keep verifying, each re-made with Argon2id at its owner's next login.
PASSWORD_HASHERS = [
    "remosphere.hashers.Argon2idPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
PASSWORD_HASHES_AT_ONCE = ENV["PASSWORD_HASHES_AT_ONCE"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- internationalisation ----------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- static files (WhiteNoise) -------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- REST framework and OpenAPI ----------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["knox.auth.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["remosphere.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "remosphere.exceptions.exception_handler",
    "UNAUTHENTICATED_USER": None,
    # Rate limits per client address, counted atomically in the cache (Redis), so every
    # web instance shares them; a view opts in with throttle_scope (remosphere/ratelimit.py).
    "DEFAULT_THROTTLE_CLASSES": ["remosphere.throttling.ScopedRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "register": ENV["THROTTLE_RATE_REGISTER"],
        "login": ENV["THROTTLE_RATE_LOGIN"],
        "resend": ENV["THROTTLE_RATE_RESEND"],
        "password_reset": ENV["THROTTLE_RATE_PASSWORD_RESET"],
    },
    # The client address is the last one the proxies in front of the web add to
    # X-Forwarded-For (Render's load balancer: one).
    "NUM_PROXIES": ENV["NUM_PROXIES"],
}
# Per account, from any address: logins and email confirmations (both check a password).
THROTTLE_RATE_LOGIN_ACCOUNT = ENV["THROTTLE_RATE_LOGIN_ACCOUNT"]
THROTTLE_IPV6_PREFIX = ENV["THROTTLE_IPV6_PREFIX"]
# API tokens: one per login, stored hashed, expiring; a password change ends them all.
REST_KNOX = {"TOKEN_TTL": timedelta(seconds=ENV["AUTH_TOKEN_TTL"]), "AUTO_REFRESH": False}
# The admin, if served, and where (remosphere/urls.py).
ADMIN_ENABLED = ENV["ADMIN_ENABLED"]
ADMIN_PATH = ENV["ADMIN_PATH"]
SPECTACULAR_SETTINGS = {
    "TITLE": "RemoSphere API",
    "DESCRIPTION": (
        "Registration and email verification. Authenticate with the token from "
        "POST /api/auth/login: `Authorization: Token <token>`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- email -----------------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = ENV["DEFAULT_FROM_EMAIL"]
SENDGRID_API_KEY = ENV["SENDGRID_API_KEY"]
SENDGRID_API_HOST = ENV["SENDGRID_API_HOST"]
SENDGRID_TIMEOUT = ENV["SENDGRID_TIMEOUT"]
# Without a SendGrid key (only possible outside production) mail goes through Django's
# file backend so a person can open it; see emails/sending.py.
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = LOCAL_DATA_DIR / "mail"
EMAIL_VERIFICATION_URL = ENV["EMAIL_VERIFICATION_URL"]
EMAIL_VERIFICATION_MAX_AGE = ENV["EMAIL_VERIFICATION_MAX_AGE"]
PASSWORD_RESET_URL = ENV["PASSWORD_RESET_URL"]
PASSWORD_RESET_MAX_AGE = ENV["PASSWORD_RESET_MAX_AGE"]
# The app people log in to, for "log in" links on pages and in emails (optional).
APP_URL = ENV["APP_URL"]
PRODUCT_NAME = "RemoSphere"

# --- Celery ------------------------------------------------------------------------------------
# Read by remosphere/celery.py (namespace CELERY_).
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT = "remosphere.broker:Transport"  # kombu's, one client reused
    # Bounded sockets (docs/RELIABILITY.md, "A broker that goes quiet"): a command waits
    # at most socket_timeout for Redis; kombu drops a BRPOP whose reply is overdue by
    # health_check_interval (a half-open connection: detected within about 1 + 2 x 10 s);
    # TCP keepalive finds a dead peer on an idle pooled connection within 15 + 3 x 5 s.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": ENV["CELERY_VISIBILITY_TIMEOUT"],
        **broker.SOCKET_OPTIONS,
    }
else:
    # Local development without a Redis server: kombu's file-system transport.
    CELERY_BROKER_URL = "filesystem://localhost/"
    _BROKER_DIR = LOCAL_DATA_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_BROKER_DIR / "queue"),
        "data_folder_out": str(_BROKER_DIR / "queue"),
        "processed_folder": str(_BROKER_DIR / "processed"),
        # kombu's default is ./control, which would litter the working directory.
        "control_folder": str(_BROKER_DIR / "control"),
        "store_processed": False,
    }
    for _folder in ("queue", "processed", "control"):
        (_BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_POOL = ENV["CELERY_WORKER_POOL"]
CELERY_WORKER_CONCURRENCY = ENV["CELERY_WORKER_CONCURRENCY"]
# On a lost broker connection, let the tasks running finish: each finishes within its
# budget and records its outcome in PostgreSQL; its message, never acknowledged, comes back
# later and finds the row done. Cancelling one mid-send (prefork can; threads cannot)
# would open the one window for a duplicate email.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# Enforced by the prefork pool only; every pool is bounded by the I/O timeouts instead
# (servicespec/timeouts.py), these are a backstop past them.
CELERY_TASK_SOFT_TIME_LIMIT, CELERY_TASK_TIME_LIMIT = timeouts.celery_time_limits(
    ENV["SENDGRID_TIMEOUT"]
)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Nothing reads task results: no result backend, nothing stored.
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_DEFAULT_QUEUE = "remosphere"
# Email retries: exponential backoff with jitter from this base, capped below the
# visibility timeout so a waiting retry is never handed to a second worker.
EMAIL_RETRY_BASE_SECONDS = ENV["EMAIL_RETRY_BASE_SECONDS"]
EMAIL_RETRY_MAX_SECONDS = timeouts.EMAIL_RETRY_MAX_SECONDS
# The sweep (docker/sweep-entrypoint.sh) enqueues pending emails this overdue again.
EMAIL_SWEEP_AFTER_SECONDS = ENV["EMAIL_SWEEP_AFTER_SECONDS"]

# --- operating the worker (docs/OPERATIONS.md) ----------------------------------------------
WORKER_PROBE_SECONDS = ENV["WORKER_PROBE_SECONDS"]  # operations/liveness.py
WORKER_STALL_SECONDS = ENV["WORKER_STALL_SECONDS"]  # operations/stall.py
METRICS_TOKEN = ENV["METRICS_TOKEN"]  # operations/metrics.py
SENDGRID_WEBHOOK_PUBLIC_KEY = ENV["SENDGRID_WEBHOOK_PUBLIC_KEY"]  # emails/webhooks.py
PROMETHEUS_MULTIPROC_DIR = ENV["PROMETHEUS_MULTIPROC_DIR"]  # read by prometheus-client too
RENDER_SERVICE_TYPE = ENV["RENDER_SERVICE_TYPE"]  # operations/doctor.py

# --- the autoscaler (operations/autoscaler.py) ---------------------------------------------
RENDER_API_KEY = ENV["RENDER_API_KEY"]
RENDER_API_URL = ENV["RENDER_API_URL"]
RENDER_API_TIMEOUT = ENV["RENDER_API_TIMEOUT"]
AUTOSCALE_SERVICE_ID = ENV["AUTOSCALE_SERVICE_ID"]
AUTOSCALE_SERVICE_NAME = ENV["AUTOSCALE_SERVICE_NAME"]
AUTOSCALE_TARGET_LATENCY_SECONDS = ENV["AUTOSCALE_TARGET_LATENCY_SECONDS"]
AUTOSCALE_DOWN_COOLDOWN_SECONDS = ENV["AUTOSCALE_DOWN_COOLDOWN_SECONDS"]
AUTOSCALE_MIN_INSTANCES = ENV["AUTOSCALE_MIN_INSTANCES"]
AUTOSCALE_MAX_INSTANCES = ENV["AUTOSCALE_MAX_INSTANCES"]
AUTOSCALE_DRY_RUN = ENV["AUTOSCALE_DRY_RUN"]
AUTOSCALE_INSTANCE_RATE = ENV["AUTOSCALE_INSTANCE_RATE"]

# --- logging -------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # No log line may carry a secret, a token or a password, at any level: the filter
    # masks them in every record, the SendGrid client's DEBUG output included.
    "filters": {"redact": {"()": "remosphere.logredact.RedactFilter"}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": sys.stdout,
            "formatter": "plain",
            "filters": ["redact"],
        }
    },
    "root": {"handlers": ["stdout"], "level": ENV["LOG_LEVEL"]},
    # Django's own console handler would print every line a second time.
    "loggers": {"django": {"handlers": ["stdout"], "level": "INFO", "propagate": False}},
}
