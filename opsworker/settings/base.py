"""Everything the portal can be configured with, read from the environment (see `.env.example`)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from opsworker import env

BASE_DIR = Path(__file__).resolve().parent.parent.parent

SECRET_KEY = env.string(
    "OPSWORKER_SECRET_KEY", "dev-insecure-key-change-me-0123456789abcdefghijklmnopqrstuvwxyz"
)
DEBUG = env.boolean("OPSWORKER_DEBUG", False)

# The domain under which organizations live: <slug>.<BASE_DOMAIN>. The public host (sign-in,
# "your organizations", platform admin) is BASE_DOMAIN itself.
BASE_DOMAIN = env.string("OPSWORKER_BASE_DOMAIN", "localhost")
PUBLIC_URL_SCHEME = env.string("OPSWORKER_URL_SCHEME", "http")
# Links default to the port `make run` binds (OPSWORKER_PORT), so printed and mailed links work.
PUBLIC_URL_PORT = env.string("OPSWORKER_URL_PORT", env.string("OPSWORKER_PORT", "8000"))
ALLOWED_HOSTS = env.string_list("OPSWORKER_ALLOWED_HOSTS", [BASE_DOMAIN, f".{BASE_DOMAIN}"])

# --- Applications -----------------------------------------------------------------------------
SHARED_APPS = [
    "django_tenants",
    "tenants",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_rq",
    "channels",
    # Composition: the demo commands (`ensure_demo`, `ensure_demo_cluster`) that set up every app.
    "opsworker.devtools",
]
TENANT_APPS = [
    # contenttypes lives in both, as django-tenants documents (per-schema content type ids).
    "django.contrib.contenttypes",
    "alerts",
    "clusters",
    "investigations",
    "notifications",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Organization"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_URLCONF = "opsworker.urls_public"
ROOT_URLCONF = "opsworker.urls"
AUTH_USER_MODEL = "tenants.User"

MIDDLEWARE = [
    # First: REMOTE_ADDR from X-Forwarded-For only when the peer is in OPSWORKER_TRUSTED_PROXIES.
    "opsworker.client_address.ClientAddressMiddleware",
    # Answers /healthz, /readyz and /metrics for any Host (probes and scrapers use IPs).
    "opsworker.health.HealthMiddleware",
    "opsworker.metrics.RequestMetricsMiddleware",
    # Content-Security-Policy on every dynamic answer; no-store on members' pages and the API.
    "opsworker.security_headers.SecurityHeadersMiddleware",
    "django_tenants.middleware.main.TenantMainMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "tenants.middleware.OrganizationAccessMiddleware",
    # After access is decided: records configuration changes made through the pages.
    "tenants.audit_middleware.ConfigurationAuditMiddleware",
]

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
                "tenants.context_processors.organization",
            ],
        },
    },
]

WSGI_APPLICATION = "opsworker.wsgi.application"
ASGI_APPLICATION = "opsworker.asgi.application"

# --- Database (PostgreSQL only: one schema per organization) ----------------------------------
_db = urlsplit(env.string("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/opsworker"))
DATABASES = {
    "default": {
        "ENGINE": "django_tenants.postgresql_backend",
        "NAME": _db.path.lstrip("/") or "opsworker",
        "USER": _db.username or "postgres",
        "PASSWORD": _db.password or "",
        "HOST": _db.hostname or "127.0.0.1",
        "PORT": str(_db.port or 5432),
        # Under ASGI every request runs in its own thread, so persistent per-thread connections pile
        # up until PostgreSQL refuses clients. The web process uses a bounded pool instead
        # (DATABASE_POOL_MAX_SIZE > 0); forking workers open one connection per job.
        "CONN_MAX_AGE": 0,
        "OPTIONS": {"connect_timeout": env.integer("DATABASE_CONNECT_TIMEOUT", 5, minimum=1)},
    }
}
DATABASE_POOL_MAX_SIZE = env.integer("DATABASE_POOL_MAX_SIZE", 0, minimum=0)
if DATABASE_POOL_MAX_SIZE:
    # Never combined with TENANT_LIMIT_SET_CALLS: a pooled connection may come back with another
    # tenant's search_path, so django-tenants must keep setting it on every cursor.
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": 1,
        "max_size": DATABASE_POOL_MAX_SIZE,
        "timeout": env.integer("DATABASE_POOL_TIMEOUT", 10, minimum=1),
    }
DATABASE_ROUTERS = ("django_tenants.routers.TenantSyncRouter",)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: queues, Channels layer, cache -----------------------------------------------------
REDIS_URL = env.string("REDIS_URL", "redis://127.0.0.1:6379/0")
REDIS_KEY_PREFIX = env.string("REDIS_KEY_PREFIX", "opsworker")

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": REDIS_KEY_PREFIX,
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            # channels_redis waits for the next message with a blocking BZPOPMIN of 5 s; redis-py 8's
            # default read timeout is also 5 s, so every quiet period ended in TimeoutError, a dead
            # consumer and a browser reconnect (fragments sent meanwhile were lost). Reads may
            # outlast the wait by a margin; a Redis that stopped answering is still noticed.
            "hosts": [{"address": REDIS_URL, "socket_timeout": 15, "socket_connect_timeout": 2}],
            "prefix": f"{REDIS_KEY_PREFIX}:ch",
            "capacity": 500,
            "expiry": 30,
        },
    }
}

# The three queues of DESIGN.md §1, plus `maintenance` for the sweeper and the scheduler's
# heartbeat: workers take it first (`rqworker maintenance investigations notifications default`), so
# a backlog of investigations never starves the recovery of lost ones. Job timeouts are generous
# defaults; investigations carry their own deadlines inside the job.
RQ_QUEUES = {
    name: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": timeout}
    for name, timeout in (
        ("maintenance", 120),
        ("investigations", 900),
        ("notifications", 120),
        ("default", 300),
    )
}
# Enqueue after the surrounding transaction commits, so a job never sees rows that roll back.
# Workers wait out a Redis outage instead of exiting (opsworker/rq_worker.py).
RQ = {"COMMIT_MODE": "on_db_commit", "WORKER_CLASS": "opsworker.rq_worker.ResilientWorker"}

# --- Auth -------------------------------------------------------------------------------------
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Host-only cookies: a session on acme.example never travels to other.example.
SESSION_COOKIE_DOMAIN = None
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.integer("OPSWORKER_SESSION_AGE_SECONDS", 60 * 60 * 12, minimum=300)
CSRF_COOKIE_SAMESITE = "Lax"

# --- I18N / time ------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

# --- Static files (vendored; no CDN) ----------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Security headers common to every environment ---------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# WebSockets are accepted only from a page on the host they connect to; list extra origins
# (scheme://host[:port]) here, e.g. a status page on another domain.
WEBSOCKET_ALLOWED_ORIGINS = env.string_list("OPSWORKER_WEBSOCKET_ALLOWED_ORIGINS", [])

# --- Logging: dotted event names with structured fields ---------------------------------------
LOG_LEVEL = env.string("OPSWORKER_LOG_LEVEL", "INFO")
LOG_FORMAT = env.string("OPSWORKER_LOG_FORMAT", "json")  # json | console
# The loggers of our own code (each module logs under its dotted name).
PROJECT_LOGGERS = ("opsworker", "tenants", "alerts", "investigations", "agent")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger", "message": "event"},
        },
        "console": {"()": "opsworker.logging.ConsoleFormatter"},
    },
    # Every record passes the scrubber: webhook/invitation tokens in paths, OAuth codes, bearer
    # credentials never reach the output (opsworker/logging.py).
    # A refused request (4xx) is logged by Django with a traceback; the line alone is enough.
    "filters": {
        "scrub_secrets": {"()": "opsworker.logging.SecretScrubbingFilter"},
        "no_traceback_for_refusals": {"()": "opsworker.logging.NoTracebackForRefusals"},
    },
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["no_traceback_for_refusals", "scrub_secrets"],
        }
    },
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
    "loggers": {
        # Django's and uvicorn's own handlers (which print paths unscrubbed) are replaced by the
        # root's: naming a logger here removes its handlers, and these propagate.
        "django": {"level": "INFO", "propagate": True},
        "django.server": {"level": "INFO", "propagate": True},
        "django.db.backends": {"level": "WARNING"},
        "rq.worker": {"level": "INFO"},
        "uvicorn": {"level": "INFO", "propagate": True},
        "uvicorn.error": {"level": "INFO", "propagate": True},
        "uvicorn.access": {"level": "WARNING", "propagate": True},
    },
}
# Error reports (debug page, mailed reports) scrub the same secrets from paths and frame variables.
DEFAULT_EXCEPTION_REPORTER = "opsworker.error_reports.SecretScrubbingExceptionReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "opsworker.error_reports.SecretScrubbingReporterFilter"

# --- Credentials at rest -----------------------------------------------------------------------
# Comma-separated Fernet keys (first encrypts). Empty: derived from SECRET_KEY (development only).
ENCRYPTION_KEYS = env.string_list("OPSWORKER_ENCRYPTION_KEYS", [])

# --- Alert ingestion --------------------------------------------------------------------------
WEBHOOK_MAX_BYTES = env.integer("OPSWORKER_WEBHOOK_MAX_BYTES", 1024 * 1024, minimum=1024)
WEBHOOK_MAX_DEPTH = env.integer("OPSWORKER_WEBHOOK_MAX_DEPTH", 64, minimum=4)
# Requests per minute per integration before 429; generous, an alert storm is when we matter most.
WEBHOOK_RATE_LIMIT_PER_MINUTE = env.integer("OPSWORKER_WEBHOOK_RATE_LIMIT_PER_MINUTE", 1200, minimum=1)
# Requests per minute from one client address with a token that matches no integration, before
# 429 (URL guessing); requests with a valid token are never counted.
WEBHOOK_UNKNOWN_TOKEN_LIMIT_PER_MINUTE = env.integer(
    "OPSWORKER_WEBHOOK_UNKNOWN_TOKEN_LIMIT_PER_MINUTE", 30, minimum=1
)
# Days raw webhook bodies are kept (signals are kept longer; see retention settings).
RAW_PAYLOAD_RETENTION_DAYS = env.integer("OPSWORKER_RAW_PAYLOAD_RETENTION_DAYS", 14, minimum=1)
# Days resolved signals are kept after their last delivery (firing ones and those a kept
# investigation refers to are never deleted), and days finished investigations are kept.
# Each organization may set its own (Settings → Organization).
SIGNAL_RETENTION_DAYS = env.integer("OPSWORKER_SIGNAL_RETENTION_DAYS", 180, minimum=1)
INVESTIGATION_RETENTION_DAYS = env.integer("OPSWORKER_INVESTIGATION_RETENTION_DAYS", 365, minimum=1)
# Directory of pre-loaded SNS signing certificates (air-gapped installs, tests); empty = fetch.
SNS_CERT_DIR = env.string("OPSWORKER_SNS_CERT_DIR", "")
# SNS subscription confirmations are sent by a job: seconds between its retries (SNS's token
# stays valid for three days; an admin can retry from the integration's page after that).
SNS_CONFIRM_RETRY_DELAYS = [
    int(delay)
    for delay in env.string_list("OPSWORKER_SNS_CONFIRM_RETRY_DELAYS", ["30", "120", "600", "1800", "3600"])
]
# Send confirmations to this base URL instead of the SubscribeURL's SNS host (an SNS VPC
# endpoint without private DNS, LocalStack); the SubscribeURL itself must still be an SNS one.
SNS_ENDPOINT_URL = env.string("OPSWORKER_SNS_ENDPOINT_URL", "")
# Any request body over this is refused by the ASGI layer before Django reads it.
MAX_REQUEST_BYTES = env.integer("OPSWORKER_MAX_REQUEST_BYTES", 4 * WEBHOOK_MAX_BYTES, minimum=64 * 1024)
# `python -m opsworker.serve` closes a connection whose request head takes longer than this, and
# answers 408 to a body that takes longer than this (slow clients must not hold connections).
HEADER_TIMEOUT_SECONDS = env.integer("OPSWORKER_HEADER_TIMEOUT_SECONDS", 10, minimum=1)
BODY_TIMEOUT_SECONDS = env.integer("OPSWORKER_BODY_TIMEOUT_SECONDS", 30, minimum=1)
# Django must not refuse a body before our own limit can answer 413 with a useful message.
DATA_UPLOAD_MAX_MEMORY_SIZE = WEBHOOK_MAX_BYTES + 1024
# The benchmark's baseline endpoint (one plain INSERT per alert); off unless benchmarking.
BENCH_BASELINE_ENDPOINT = env.boolean("OPSWORKER_BENCH_BASELINE_ENDPOINT", False)

# --- Cluster agents -------------------------------------------------------------------------
AGENT_HEARTBEAT_SECONDS = env.integer("OPSWORKER_AGENT_HEARTBEAT_SECONDS", 30, minimum=1)
# A cluster is "disconnected" after this many missed heartbeats.
AGENT_MISSED_HEARTBEATS = env.integer("OPSWORKER_AGENT_MISSED_HEARTBEATS", 3, minimum=1)
AGENT_POLL_WAIT_SECONDS = env.integer("OPSWORKER_AGENT_POLL_WAIT_SECONDS", 20, minimum=1)
AGENT_POLL_RECHECK_SECONDS = env.integer("OPSWORKER_AGENT_POLL_RECHECK_SECONDS", 10, minimum=1)
# A delivered but unanswered command is delivered again after this lease (an agent restart loses nothing).
AGENT_COMMAND_LEASE_SECONDS = env.integer("OPSWORKER_AGENT_COMMAND_LEASE_SECONDS", 30, minimum=0)
AGENT_COMMANDS_PER_POLL = env.integer("OPSWORKER_AGENT_COMMANDS_PER_POLL", 20, minimum=1)
AGENT_MAX_BODY_BYTES = env.integer("OPSWORKER_AGENT_MAX_BODY_BYTES", MAX_REQUEST_BYTES, minimum=65536)
AGENT_SQS_ENDPOINT_URL = env.string("OPSWORKER_AGENT_SQS_ENDPOINT_URL", "")

# --- Investigations ---------------------------------------------------------------------------
# Overall deadline of one investigation, and the longest wait for one batch of agent reads.
INVESTIGATION_DEADLINE_SECONDS = env.integer("OPSWORKER_INVESTIGATION_DEADLINE_SECONDS", 120, minimum=10)
INVESTIGATION_STEP_WAIT_SECONDS = env.integer("OPSWORKER_INVESTIGATION_STEP_WAIT_SECONDS", 20, minimum=1)
# A running investigation's lease: renewed by its worker every RENEW seconds; when it lapses (the
# worker died) the sweeper re-queues it, and fails it once MAX_ATTEMPTS workers were lost.
INVESTIGATION_LEASE_SECONDS = env.integer("OPSWORKER_INVESTIGATION_LEASE_SECONDS", 30, minimum=3)
INVESTIGATION_LEASE_RENEW_SECONDS = env.integer("OPSWORKER_INVESTIGATION_LEASE_RENEW_SECONDS", 10, minimum=1)
INVESTIGATION_MAX_ATTEMPTS = env.integer("OPSWORKER_INVESTIGATION_MAX_ATTEMPTS", 2, minimum=1)
# The sweeper (scheduler) runs this often and re-queues a pending investigation whose job is no
# longer in Redis once it has waited this long (Redis was down at commit, or restarted empty).
INVESTIGATION_SWEEP_SECONDS = env.integer("OPSWORKER_INVESTIGATION_SWEEP_SECONDS", 10, minimum=1)
INVESTIGATION_REQUEUE_AFTER_SECONDS = env.integer(
    "OPSWORKER_INVESTIGATION_REQUEUE_AFTER_SECONDS", 15, minimum=1
)

# --- Demo (make run only) -----------------------------------------------------------------------
# Where the demo's cluster simulator listens; empty disables "Fire a sample incident".
DEMO_SIMULATOR_URL = env.string("OPSWORKER_DEMO_SIMULATOR_URL", "")
# How the demo job reaches this portal's webhook (by IP, with the demo host name in the Host header).
DEMO_PORTAL_URL = env.string("OPSWORKER_DEMO_PORTAL_URL_INTERNAL", "http://127.0.0.1:8000")
DEMO_PORTAL_HOST = env.string("OPSWORKER_DEMO_PORTAL_HOST", "demo.localhost:8000")

# --- Slack (notifications) -------------------------------------------------------------
SLACK_CLIENT_ID = env.string("OPSWORKER_SLACK_CLIENT_ID", "")
SLACK_CLIENT_SECRET = env.string("OPSWORKER_SLACK_CLIENT_SECRET", "")
SLACK_SIGNING_SECRET = env.string("OPSWORKER_SLACK_SIGNING_SECRET", "")
SLACK_API_BASE_URL = env.string("OPSWORKER_SLACK_API_BASE_URL", "https://slack.com/api/")
SLACK_AUTHORIZE_URL = env.string("OPSWORKER_SLACK_AUTHORIZE_URL", "https://slack.com/oauth/v2/authorize")
# A 429's Retry-After up to this is waited inline; longer reschedules the job.
SLACK_RATE_LIMIT_MAX_WAIT_SECONDS = env.integer("OPSWORKER_SLACK_RATE_LIMIT_MAX_WAIT_SECONDS", 10, minimum=0)

# --- Mail (invitations): console unless OPSWORKER_EMAIL_HOST is set ----------------------------
EMAIL_HOST = env.string("OPSWORKER_EMAIL_HOST", "")
EMAIL_PORT = env.integer("OPSWORKER_EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env.string("OPSWORKER_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env.string("OPSWORKER_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env.boolean("OPSWORKER_EMAIL_USE_TLS", True)
EMAIL_USE_SSL = env.boolean("OPSWORKER_EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env.integer("OPSWORKER_EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env.string("OPSWORKER_EMAIL_FROM", f"OpsWorker <opsworker@{BASE_DOMAIN}>")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)

# --- Organization administration, sign-in security, API -----------------------------------------
# Sign-in throttling (tenants/security.py): failures allowed per account and per client address
# before each further attempt waits 2 s, 4 s, 8 s … up to SIGNIN_LOCKOUT_SECONDS.
SIGNIN_MAX_FAILURES = env.integer("OPSWORKER_SIGNIN_MAX_FAILURES", 5, minimum=1)
SIGNIN_ADDRESS_MAX_FAILURES = env.integer("OPSWORKER_SIGNIN_ADDRESS_MAX_FAILURES", 10, minimum=1)
# Reverse proxies whose X-Forwarded-For is believed (addresses or CIDR ranges); empty: none.
TRUSTED_PROXIES = env.string_list("OPSWORKER_TRUSTED_PROXIES", [])
SIGNIN_LOCKOUT_SECONDS = env.integer("OPSWORKER_SIGNIN_LOCKOUT_SECONDS", 900, minimum=60)
INVITATION_VALID_DAYS = env.integer("OPSWORKER_INVITATION_VALID_DAYS", 7, minimum=1)
AUDIT_RETENTION_DAYS = env.integer("OPSWORKER_AUDIT_RETENTION_DAYS", 365, minimum=1)
API_RATE_LIMIT_PER_MINUTE = env.integer("OPSWORKER_API_RATE_LIMIT_PER_MINUTE", 600, minimum=1)

# --- Product limits and behaviour -------------------------------------------------------------
READYZ_TIMEOUT_SECONDS = env.integer("OPSWORKER_READYZ_TIMEOUT_SECONDS", 2, minimum=1)
