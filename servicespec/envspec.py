"""Every environment variable the backend reads, declared once.

This module is the single source of truth for configuration: Django settings read
through it, the entrypoints and ``scripts/validate_blueprint.py`` check an environment
against it, and ``.env.example`` and the README's table are generated from it
(``python -m remosphere.envdocs --write``).

It imports nothing but the standard library, so it works without Django configured and
inside the validator, which needs only PyYAML and jsonschema.

Error messages name variables and say what is expected; they never contain a value.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

WEB = "web"
WORKER = "worker"
SWEEP = "sweep"  # the cron job that re-enqueues emails left behind (see render.yaml)
AUTOSCALE = "autoscale"  # the cron job that scales the worker on its backlog (optional)
PROCESSES = (WEB, WORKER, SWEEP, AUTOSCALE)
ALL = PROCESSES

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$|^[^@\s<>]+@localhost$")
_RATE = re.compile(r"^([1-9][0-9]*)/([1-9][0-9]*)?(s|sec|second|m|min|minute|h|hour|d|day)s?$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_URL_PATH = re.compile(r"^([A-Za-z0-9._~-]+/)+$")
_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_-]{1,63})*$")


@dataclass(frozen=True)
class Var:
    """One environment variable.

    ``default`` applies outside production, and in production too unless the variable is
    ``required``; a required variable must be set in production. ``local_default``, when
    given, replaces ``default`` outside production (relaxed rate limits for a person
    trying things locally).
    """

    name: str
    help: str
    processes: tuple[str, ...]
    # string | url | int | bool | email | hostname | list | choice | rate | urlpath | ecdsa_key
    format: str = "string"
    default: str | None = None
    local_default: str | None = None
    required: bool = False
    secret: bool = False
    shared: bool = False  # every process that reads it must hold the same value
    schemes: tuple[str, ...] = ()  # url: schemes accepted everywhere
    local_schemes: tuple[str, ...] = ()  # url: schemes accepted outside production only
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    min_length: int | None = None  # string: the shortest value production accepts
    min_entropy_bits: int | None = None  # string: production refuses guessable values
    example: str = ""  # a placeholder for .env.example where the default says nothing
    set_by_render: bool = False

    def default_for(self, *, production: bool) -> str | None:
        if not production and self.local_default is not None:
            return self.local_default
        return self.default

    def help_for(self, *, production: bool) -> str:
        """The description, without what only applies locally when checking production."""
        if not production:
            return self.help
        return _LOCAL_NOTE.sub("", self.help).strip()

    def describe_format(self) -> str:
        if self.format == "url":
            return "URL (" + ", ".join(f"{s}://" for s in self.schemes) + ")"
        if self.format == "int":
            if self.minimum is not None and self.maximum is not None:
                return f"integer from {self.minimum} to {self.maximum}"
            return "integer" + (f" >= {self.minimum}" if self.minimum is not None else "")
        if self.format == "bool":
            return "boolean (true/false)"
        if self.format == "choice":
            return "one of " + ", ".join(self.choices)
        if self.format == "list":
            return "comma-separated list"
        if self.format == "rate":
            return "rate such as 10/minute or 10/5minutes (per second, minute, hour or day)"
        if self.format == "urlpath":
            return "URL path such as admin/ (no leading slash, one trailing slash)"
        if self.format == "ecdsa_key":
            return "ECDSA P-256 public key (base64, as SendGrid shows it)"
        return self.format


# Every address: where Render's proxy reaches a web instance (its network is its own).
EVERY_ADDRESS = "0.0.0.0"  # noqa: S104  # nosec B104

SPEC: tuple[Var, ...] = (
    # --- mode -------------------------------------------------------------------------
    Var(
        "RENDER",
        "Present in every Render service; turns production mode on.",
        ALL,
        format="bool",
        default="false",
        set_by_render=True,
    ),
    Var(
        "DJANGO_ENV",
        "`production` turns production mode on outside Render.",
        ALL,
        format="choice",
        choices=("development", "production"),
        default="development",
    ),
    # --- shared core ------------------------------------------------------------------
    Var(
        "SECRET_KEY",
        "Django's signing key. The worker signs the verification links the web checks, "
        "so both must hold the same value.",
        ALL,
        default="django-insecure-local-development-only-do-not-deploy",
        required=True,
        secret=True,
        shared=True,
        min_length=32,
        min_entropy_bits=96,
        example="generate with: python -c 'import secrets; print(secrets.token_urlsafe(50))'",
    ),
    Var(
        "DATABASE_URL",
        "PostgreSQL connection URL. Unset locally: SQLite in LOCAL_DATA_DIR.",
        ALL,
        format="url",
        schemes=("postgres", "postgresql"),
        local_schemes=("sqlite",),
        default="sqlite:///db.sqlite3",
        required=True,
        secret=True,
        shared=True,
        example="postgresql://user:password@127.0.0.1:5432/remosphere",
    ),
    Var(
        "REDIS_URL",
        "Redis URL: the Celery broker and the cache. Unset locally: a file-system broker "
        "in LOCAL_DATA_DIR and an in-process cache.",
        ALL,
        format="url",
        schemes=("redis", "rediss"),
        required=True,
        secret=True,
        shared=True,
        example="redis://127.0.0.1:6379/0",
    ),
    Var(
        "DATABASE_POOL_SIZE",
        "PostgreSQL connections one process keeps at most (psycopg's pool): a worker "
        "instance is one process whatever its concurrency, the web has WEB_CONCURRENCY. "
        "What the blueprint can open in all must fit the database's limit (C011).",
        ALL,
        format="int",
        minimum=1,
        default="4",
    ),
    Var(
        "LOG_LEVEL",
        "Level of the application's logs.",
        ALL,
        format="choice",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        default="INFO",
    ),
    Var(
        "LOCAL_DATA_DIR",
        "Local development only: where SQLite, the file-system broker and the emails "
        "(mail/) are kept, relative to the repository.",
        ALL,
        default="var",
    ),
    # --- web --------------------------------------------------------------------------
    Var(
        "ALLOWED_HOSTS",
        "Host names the web answers to, besides RENDER_EXTERNAL_HOSTNAME.",
        (WEB,),
        format="list",
        default="localhost,127.0.0.1,[::1]",
    ),
    Var(
        "RENDER_EXTERNAL_HOSTNAME",
        "The web service's onrender.com host name (web services only).",
        (WEB,),
        format="hostname",
        set_by_render=True,
    ),
    Var(
        "CORS_ALLOWED_ORIGINS",
        "Origins of the frontends allowed to call the API from a browser.",
        (WEB,),
        format="list",
        default="http://localhost:3000,http://localhost:5173",
    ),
    Var(
        "PORT",
        "Port the web listens on.",
        (WEB,),
        format="int",
        minimum=1,
        default="10000",
        set_by_render=True,
    ),
    Var(
        "WEB_BIND_HOST",
        "Address the web listens on: 0.0.0.0, which Render's proxy needs; the rehearsal "
        "(make up) sets 127.0.0.1, so an instance is reached only through its edge.",
        (WEB,),
        format="choice",
        choices=(EVERY_ADDRESS, "127.0.0.1", "::", "::1"),
        default=EVERY_ADDRESS,
    ),
    Var(
        "WEB_CONCURRENCY",
        "Gunicorn worker processes.",
        (WEB,),
        format="int",
        minimum=1,
        default="2",
    ),
    Var(
        "GUNICORN_THREADS",
        "Threads per Gunicorn worker process.",
        (WEB,),
        format="int",
        minimum=1,
        default="4",
    ),
    Var(
        "PASSWORD_HASHES_AT_ONCE",
        "Password hashes one web process computes at the same time; more requests wait "
        "their turn. Each Argon2id hash holds 19 MiB for about 30 ms of CPU, so hashing "
        "takes at most WEB_CONCURRENCY x this x 19 MiB (docs/SECURITY.md).",
        (WEB,),
        format="int",
        minimum=1,
        maximum=64,
        default="2",
    ),
    Var(
        "GUNICORN_TIMEOUT",
        "Seconds a request may take before Gunicorn restarts its worker.",
        (WEB,),
        format="int",
        minimum=1,
        default="30",
    ),
    Var(
        "GUNICORN_GRACEFUL_TIMEOUT",
        "Seconds Gunicorn gives in-flight requests after SIGTERM; below the web's "
        "maxShutdownDelaySeconds.",
        (WEB,),
        format="int",
        minimum=1,
        default="25",
    ),
    Var(
        "MIGRATE_ON_START",
        "Run migrations in the web entrypoint before Gunicorn starts, for plans without "
        "a pre-deploy command (free). Leave false where preDeployCommand migrates.",
        (WEB,),
        format="bool",
        default="false",
    ),
    Var(
        "THROTTLE_RATE_REGISTER",
        "Registrations one client address may make (shared by every web instance).",
        (WEB,),
        format="rate",
        local_default="1000/hour",
        default="10/hour",
    ),
    Var(
        "THROTTLE_RATE_LOGIN",
        "Login attempts one client address may make.",
        (WEB,),
        format="rate",
        local_default="1000/minute",
        default="10/minute",
    ),
    Var(
        "THROTTLE_RATE_RESEND",
        "Verification emails one client address may ask to be sent again.",
        (WEB,),
        format="rate",
        local_default="1000/hour",
        default="5/hour",
    ),
    Var(
        "THROTTLE_RATE_PASSWORD_RESET",
        "Password-reset emails one client address may ask for.",
        (WEB,),
        format="rate",
        default="5/hour",
        local_default="1000/hour",
    ),
    Var(
        "THROTTLE_RATE_LOGIN_ACCOUNT",
        "Login attempts (and email confirmations, which check a password) one account may "
        "take, from any number of addresses. Kept short: a stranger can lock the owner out "
        "for one window at most.",
        (WEB,),
        format="rate",
        local_default="1000/5minutes",
        default="10/5minutes",
    ),
    Var(
        "THROTTLE_IPV6_PREFIX",
        "Rate limits count an IPv6 client by this network prefix (one /64 is usually one "
        "home or one server).",
        (WEB,),
        format="int",
        minimum=32,
        maximum=128,
        default="64",
    ),
    Var(
        "NUM_PROXIES",
        "Proxies in front of the web that append the client's address to X-Forwarded-For "
        "(Render's load balancer: 1); rate limits count per that address.",
        (WEB,),
        format="int",
        minimum=0,
        default="1",
    ),
    Var(
        "EMAIL_VERIFICATION_MAX_AGE",
        "Seconds a verification link stays valid (the web checks it, the email says it).",
        (WEB, WORKER),
        format="int",
        minimum=60,
        default="259200",
        shared=True,
    ),
    Var(
        "PASSWORD_RESET_MAX_AGE",
        "Seconds a password-reset link stays valid (the web checks it, the email says it).",
        (WEB, WORKER),
        format="int",
        minimum=60,
        default="3600",
        shared=True,
    ),
    Var(
        "APP_URL",
        'The RemoSphere app people log in to; pages and emails link to it ("log in"). '
        "Unset: they say where without a link.",
        (WEB, WORKER),
        format="url",
        schemes=("https", "http"),
    ),
    Var(
        "AUTH_TOKEN_TTL",
        "Seconds an API token from POST /api/auth/login stays valid.",
        (WEB,),
        format="int",
        minimum=60,
        default="604800",
    ),
    Var(
        "ADMIN_ENABLED",
        "Serve Django's admin (its login is rate-limited like the API's).",
        (WEB,),
        format="bool",
        default="true",
    ),
    Var(
        "ADMIN_PATH",
        "Where the admin is served, when ADMIN_ENABLED; a path of your own keeps it away "
        "from scanners that try /admin/.",
        (WEB,),
        format="urlpath",
        default="admin/",
    ),
    # --- worker -----------------------------------------------------------------------
    Var(
        "SENDGRID_API_KEY",
        "SendGrid API key with Mail Send permission. Unset locally: emails are written "
        "as files to LOCAL_DATA_DIR/mail/ instead.",
        (WORKER,),
        required=True,
        secret=True,
        example="SG.xxxxxxxx",
    ),
    Var(
        "SENDGRID_API_HOST",
        "SendGrid API host; EU-pinned accounts use https://api.eu.sendgrid.com.",
        (WORKER,),
        format="url",
        schemes=("https", "http"),
        default="https://api.sendgrid.com",
    ),
    Var(
        "SENDGRID_TIMEOUT",
        "Seconds one send may take in total (connecting and answering) before it is "
        "retried later; it bounds every email task (servicespec/timeouts.py).",
        (WORKER,),
        format="int",
        minimum=1,
        default="10",
    ),
    Var(
        "DEFAULT_FROM_EMAIL",
        "Sender of every email (a sender verified in SendGrid).",
        (WORKER,),
        format="email",
        default="no-reply@remosphere.localhost",
        required=True,
        example="no-reply@example.com",
    ),
    Var(
        "EMAIL_VERIFICATION_URL",
        "Page the verification link opens; the token is added as ?token=. The web's own "
        "page (https://<web>/verify-email), or a frontend's that POSTs to "
        "/api/auth/verify-email.",
        (WORKER,),
        format="url",
        schemes=("https", "http"),
        default="http://localhost:10000/verify-email",
        required=True,
        example="https://app.example.com/verify-email",
    ),
    Var(
        "PASSWORD_RESET_URL",
        "Page the password-reset link opens; the token is added as ?token=. The web's own "
        "page (https://<web>/reset-password), or a frontend's that POSTs to "
        "/api/auth/password-reset/confirm.",
        (WORKER,),
        format="url",
        schemes=("https", "http"),
        default="http://localhost:10000/reset-password",
        required=True,
        example="https://app.example.com/reset-password",
    ),
    Var(
        "EMAIL_RETRY_BASE_SECONDS",
        "First wait before a failed send is retried; each retry doubles it (with jitter) "
        "up to 10 minutes.",
        (WORKER,),
        format="int",
        minimum=1,
        default="10",
    ),
    Var(
        "CELERY_WORKER_POOL",
        "How a worker instance runs tasks at once: threads (sending email is waiting on "
        "SendGrid, so many threads in one process; docs/BENCHMARKS.md), prefork "
        "(a process per task), solo (one at a time).",
        (WORKER,),
        format="choice",
        choices=("threads", "prefork", "solo"),
        default="threads",
    ),
    Var(
        "CELERY_WORKER_CONCURRENCY",
        "Tasks one worker instance runs at once (threads, or processes with prefork). "
        "32 threads keep 0.5 CPU busy at SendGrid latencies up to 300 ms.",
        (WORKER,),
        format="int",
        minimum=1,
        default="32",
    ),
    Var(
        "RENDER_INSTANCE_ID",
        "Unique per running instance; names the Celery node so instances never collide.",
        (WORKER,),
        set_by_render=True,
    ),
    Var(
        "WORKER_PROBE_SECONDS",
        "A worker that has taken nothing from its queue for this long puts a probe (a task "
        "that does nothing) into the queue when it is empty; one that takes nothing for "
        "three probes is reported alive but not consuming (operations/liveness.py).",
        (WORKER,),
        format="int",
        minimum=1,
        maximum=3600,
        default="30",
    ),
    Var(
        "WORKER_STALL_SECONDS",
        "A worker that has taken nothing from its queue for this long while there was "
        "something for it to take (a waiting email, or its own probe) and a thread free to "
        "take it, with Redis reachable, restarts itself: it logs why and exits with status "
        "70 after a warm shutdown, so Render starts a fresh instance. After a Redis outage "
        "the clock starts when Redis is back. Longer than the liveness window (3 x "
        "WORKER_PROBE_SECONDS plus a heartbeat), the shutdown budget and Celery's 30 s between "
        "reconnections (C003).",
        (WORKER,),
        format="int",
        minimum=5,
        maximum=86400,
        default="180",
    ),
    # --- operations (docs/OPERATIONS.md) --------------------------------------------------
    Var(
        "SENDGRID_WEBHOOK_PUBLIC_KEY",
        "The verification key of SendGrid's signed Event Webhook (Settings -> Mail Settings "
        "-> Event Webhook -> Signature Verification): the web checks every batch of delivery "
        "events against it (docs/OPERATIONS.md). Unset: POST /webhooks/sendgrid answers 404 "
        "and no email's fate is recorded.",
        (WEB,),
        format="ecdsa_key",
        example="MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE... (base64, one line)",
    ),
    Var(
        "METRICS_TOKEN",
        "The bearer token GET /metrics asks for (Prometheus' authorization credentials). "
        "Unset: /metrics answers 404.",
        (WEB,),
        secret=True,
        min_length=32,
        min_entropy_bits=96,
        example="generate with: python -c 'import secrets; print(secrets.token_urlsafe(32))'",
    ),
    Var(
        "PROMETHEUS_MULTIPROC_DIR",
        "Where Gunicorn's processes share the web's request metrics (prometheus-client's "
        "multiprocess mode). docker/web-entrypoint.sh makes a fresh one when unset.",
        (WEB,),
    ),
    Var(
        "RENDER_SERVICE_TYPE",
        "The service's type (web, worker, cron...); `manage.py doctor` checks the "
        "variables of that process.",
        ALL,
        set_by_render=True,
    ),
    # --- sweep ------------------------------------------------------------------------
    Var(
        "EMAIL_SWEEP_AFTER_SECONDS",
        "Seconds past its due time before the sweep enqueues a pending email again (its "
        "task was lost: the broker was down, or a worker died).",
        (SWEEP,),
        format="int",
        minimum=30,
        default="300",
    ),
    # --- autoscale ----------------------------------------------------------------------
    Var(
        "RENDER_API_KEY",
        "A Render API key (Account Settings -> API Keys) the autoscaler scales the worker "
        "with. Only the autoscaler's cron job holds it.",
        (AUTOSCALE,),
        required=True,
        secret=True,
        example="rnd_xxxxxxxx",
    ),
    Var(
        "RENDER_API_URL",
        "Render's public API.",
        (AUTOSCALE,),
        format="url",
        schemes=("https", "http"),
        default="https://api.render.com/v1",
    ),
    Var(
        "RENDER_API_TIMEOUT",
        "Seconds one call to Render's API may take before the run gives up (and changes nothing).",
        (AUTOSCALE,),
        format="int",
        minimum=1,
        default="10",
    ),
    Var(
        "AUTOSCALE_SERVICE_ID",
        "The worker's service id (srv-...); unset: found by AUTOSCALE_SERVICE_NAME.",
        (AUTOSCALE,),
    ),
    Var(
        "AUTOSCALE_SERVICE_NAME",
        "The worker's service name, used when AUTOSCALE_SERVICE_ID is unset.",
        (AUTOSCALE,),
        default="remosphere-worker",
    ),
    Var(
        "AUTOSCALE_TARGET_LATENCY_SECONDS",
        "The longest the oldest waiting email should wait; above it, instances are added.",
        (AUTOSCALE,),
        format="int",
        minimum=1,
        default="30",
    ),
    Var(
        "AUTOSCALE_DOWN_COOLDOWN_SECONDS",
        "How long the queue must stay under the target before one instance is removed "
        "(and again between removals).",
        (AUTOSCALE,),
        format="int",
        minimum=0,
        default="600",
    ),
    Var(
        "AUTOSCALE_MIN_INSTANCES",
        "The fewest worker instances.",
        (AUTOSCALE,),
        format="int",
        minimum=1,
        maximum=100,
        default="1",
    ),
    Var(
        "AUTOSCALE_MAX_INSTANCES",
        "The most worker instances (the connection budget, C011, counts this many).",
        (AUTOSCALE,),
        format="int",
        minimum=1,
        maximum=100,
        default="4",
    ),
    Var(
        "AUTOSCALE_DRY_RUN",
        "Log each decision without acting on it.",
        (AUTOSCALE,),
        format="bool",
        default="false",
    ),
    Var(
        "AUTOSCALE_INSTANCE_RATE",
        "Emails per second one worker instance is assumed to send until the autoscaler "
        "has measured it (it measures whenever the queue stays busy between two runs).",
        (AUTOSCALE,),
        format="int",
        minimum=1,
        default="50",
    ),
    Var(
        "CELERY_VISIBILITY_TIMEOUT",
        "Seconds before Redis hands an unacknowledged task to another worker; longer "
        "than any task and any retry countdown.",
        ALL,
        format="int",
        minimum=60,
        default="3600",
        shared=True,
    ),
)

BY_NAME: dict[str, Var] = {var.name: var for var in SPEC}


@dataclass(frozen=True)
class Problem:
    """A variable that is missing or malformed. ``message`` never holds its value."""

    name: str
    message: str

    def __str__(self) -> str:
        return f"{self.name}: {self.message}"


class EnvError(Exception):
    """The environment does not satisfy the spec; carries every problem at once."""

    def __init__(self, problems: Iterable[Problem], *, production: bool):
        self.problems = tuple(problems)
        self.production = production
        super().__init__(format_problems(self.problems, production=production))


def is_production(environ: Mapping[str, str]) -> bool:
    """Production mode: on Render (``RENDER`` set) or ``DJANGO_ENV=production``."""
    render = environ.get("RENDER", "").strip().lower()
    return render not in _FALSE or environ.get("DJANGO_ENV", "").strip() == "production"


def vars_for(process: str | None) -> tuple[Var, ...]:
    """The variables a process reads; ``None`` means every variable."""
    if process is None:
        return SPEC
    if process not in PROCESSES:
        raise ValueError(f"unknown process {process!r}; expected one of {', '.join(PROCESSES)}")
    return tuple(var for var in SPEC if process in var.processes)


def parse(var: Var, raw: str, *, production: bool) -> Any:
    """Convert one raw value; ``ValueError`` says what was expected, never the value."""
    value = raw.strip()
    if var.format == "string":
        if production and var.min_length and len(raw) < var.min_length:
            raise ValueError(f"expected at least {var.min_length} characters in production")
        if production and var.min_entropy_bits and entropy_bits(raw) < var.min_entropy_bits:
            raise ValueError(
                f"too guessable for production (repeated or few distinct characters; at least "
                f"{var.min_entropy_bits} bits of randomness needed). {_GENERATE_KEY}"
            )
        return raw
    if var.format == "int":
        try:
            number = int(value)
        except ValueError:
            raise ValueError(f"expected {var.describe_format()}") from None
        if var.minimum is not None and number < var.minimum:
            raise ValueError(f"expected {var.describe_format()}")
        if var.maximum is not None and number > var.maximum:
            raise ValueError(f"expected {var.describe_format()}")
        return number
    if var.format == "bool":
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise ValueError("expected a boolean: true or false")
    if var.format == "choice":
        if value not in var.choices:
            raise ValueError(f"expected {var.describe_format()}")
        return value
    if var.format == "list":
        return [item.strip() for item in value.split(",") if item.strip()]
    if var.format == "email":
        if not _EMAIL.match(value):
            raise ValueError("expected an email address such as no-reply@example.com")
        return value
    if var.format == "hostname":
        if not _HOSTNAME.match(value):
            raise ValueError("expected a host name such as example.onrender.com")
        return value
    if var.format == "url":
        return _parse_url(var, value, production=production)
    if var.format == "rate":
        if not _RATE.match(value):
            raise ValueError(f"expected a {var.describe_format()}")
        return value
    if var.format == "urlpath":
        if not _URL_PATH.match(value):
            raise ValueError(f"expected a {var.describe_format()}")
        return value
    if var.format == "ecdsa_key":
        return parse_p256_public_key(value)
    raise AssertionError(f"unknown format {var.format!r} for {var.name}")


# "Unset locally: ..." sentences of a description: not what production needs to hear.
_LOCAL_NOTE = re.compile(r"\s*Unset locally:[^.]*\.")

_GENERATE_KEY = "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"


def entropy_bits(value: str) -> float:
    """An upper estimate of the randomness in ``value``: its length times the Shannon
    entropy of its characters (Miller-Madow corrected). ``'a' * 32`` has none; 44 random
    base64 characters ~270."""
    if not value:
        return 0.0
    counts = [value.count(char) for char in set(value)]
    per_char = -sum(n / len(value) * math.log2(n / len(value)) for n in counts)
    # The plug-in estimate is biased low on short strings (32 random hex characters can
    # score under 96 bits); the Miller-Madow correction adds back (K - 1) / 2N nats/char.
    correction = (len(counts) - 1) / 2 * math.log2(math.e)
    return max(0.0, per_char * len(value) + correction)


# A P-256 public key as SubjectPublicKeyInfo (DER): this header, then the uncompressed point
# 0x04 || X || Y. The curve: y^2 = x^3 - 3x + b over the prime field p.
_P256_SPKI = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200")
_P256_P = 2**256 - 2**224 + 2**192 + 2**96 - 1
_P256_B = int("5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b", 16)


def parse_p256_public_key(value: str) -> str:
    """SendGrid's verification key, as the base64 of its DER form (what its library takes),
    from that base64 or a PEM block. Checked with the standard library alone: the shape of
    a P-256 key, and a point on the curve. ``ValueError`` never holds the value."""
    lines = [line.strip() for line in value.strip().splitlines()]
    body = "".join(line for line in lines if line and not line.startswith("-----"))
    expected = "expected an ECDSA P-256 public key in base64 (SendGrid's verification key)"
    try:
        der = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{expected}; it is not base64") from None
    if len(der) != len(_P256_SPKI) + 65 or not der.startswith(_P256_SPKI) or der[26] != 4:
        raise ValueError(f"{expected}; it is not a P-256 public key")
    x, y = int.from_bytes(der[27:59], "big"), int.from_bytes(der[59:], "big")
    if x >= _P256_P or y >= _P256_P or (y * y - x**3 + 3 * x - _P256_B) % _P256_P:
        raise ValueError(f"{expected}; it is not a point of the P-256 curve")
    return base64.b64encode(der).decode("ascii")


def parse_rate(rate: str) -> tuple[int, int]:
    """``"10/minute"`` -> ``(10, 60)``; ``"10/5min"`` -> ``(10, 300)``: requests per window
    of seconds. The one reader of the ``rate`` format (settings and the limiter use it)."""
    match = _RATE.match(rate.strip())
    if not match:
        raise ValueError(f"expected a rate such as 10/minute, not {rate!r}")
    count, multiple, unit = match.groups()
    return int(count), int(multiple or 1) * _UNIT_SECONDS[unit[0]]


def _parse_url(var: Var, value: str, *, production: bool) -> str:
    accepted = var.schemes if production else var.schemes + var.local_schemes
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise ValueError(f"expected a URL ({_schemes(accepted)})") from None
    if parts.scheme not in accepted:
        if parts.scheme in var.local_schemes:
            raise ValueError(
                f"{parts.scheme}:// is for local development only; "
                f"production needs {_schemes(var.schemes)}"
            )
        raise ValueError(f"expected a URL with scheme {_schemes(accepted)}")
    if parts.scheme not in var.local_schemes and not parts.hostname:
        raise ValueError(f"expected a URL with a host ({_schemes(accepted)})")
    return value


def _schemes(schemes: Iterable[str]) -> str:
    return ", ".join(f"{s}://" for s in schemes)


def check(
    environ: Mapping[str, str], process: str | None = None, *, production: bool | None = None
) -> list[Problem]:
    """Every problem with ``environ`` for ``process`` (``None``: what all processes need).

    In production a required variable must be set; everywhere a set variable must be
    well-formed. ``production`` (default: what ``environ`` says) picks the rules.
    """
    production = is_production(environ) if production is None else production
    problems = []
    for var in vars_for(None):
        needed = var.processes == ALL if process is None else process in var.processes
        raw = environ.get(var.name)
        if raw is None or raw == "":
            if production and var.required and needed:
                why = f"missing ({var.describe_format()}): {var.help_for(production=production)}"
                problems.append(Problem(var.name, why))
            continue
        try:
            parse(var, raw, production=production)
        except ValueError as error:
            problems.append(Problem(var.name, str(error)))
    return problems


def load(environ: Mapping[str, str], process: str | None = None) -> dict[str, Any]:
    """Typed values of every variable, defaults filled in; ``EnvError`` lists all problems.

    A required variable with no value in production is ``None`` only if another process
    needs it (``check`` already refused it for this one).
    """
    problems = check(environ, process)
    production = is_production(environ)
    if problems:
        raise EnvError(problems, production=production)
    values: dict[str, Any] = {}
    for var in SPEC:
        raw = environ.get(var.name) or None
        if raw is None and not (production and var.required):
            raw = var.default_for(production=production)
        values[var.name] = None if raw is None else parse(var, raw, production=production)
    return values


def format_problems(problems: Iterable[Problem], *, production: bool) -> str:
    """One message listing every problem, for people starting a process."""
    problems = list(problems)
    mode = "production" if production else "development"
    lines = [f"the environment is not ready ({mode} mode): {len(problems)} problem(s)"]
    lines += [f"  - {problem}" for problem in problems]
    lines.append(
        "Fix: set these in the service's environment (on Render: render.yaml, or the "
        "dashboard for secrets). Every variable: .env.example, README.md#environment-variables."
    )
    return "\n".join(lines)


def shell_defaults(environ: Mapping[str, str], process: str) -> str:
    """``export NAME=default`` for each unset, non-secret variable of ``process`` with a
    default, so a shell entrypoint uses the spec's defaults instead of repeating them."""
    production = is_production(environ)
    lines = []
    for var in vars_for(process):
        default = var.default_for(production=production)
        if environ.get(var.name) or default is None or var.secret:
            continue
        if production and var.required:
            continue
        lines.append(f"export {var.name}={shlex.quote(default)}")
    return "\n".join(lines)


USAGE = """usage: python -m servicespec.envspec check|defaults web|worker|sweep|autoscale
  check     exit 1 listing every missing or malformed variable of that process
  defaults  the same check, then print `export NAME=default` lines for the unset ones"""


def main(argv: list[str] | None = None) -> int:
    import os
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] not in ("check", "defaults") or args[1] not in PROCESSES:
        print(USAGE, file=sys.stderr)
        return 2
    problems = check(os.environ, args[1])
    if problems:
        print(format_problems(problems, production=is_production(os.environ)), file=sys.stderr)
        return 1
    if args[0] == "defaults":
        print(shell_defaults(os.environ, args[1]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
