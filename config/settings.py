"""Switchboard settings. Every value that differs between machines comes from the environment.

Two modes, same code:
- embedded (REDIS_URL and the role URLs unset): SQLite file, in-process channel layer, Celery
  tasks run in the web process and periodic sweeps run on a scheduler thread started by the
  ASGI lifespan.
- distributed (REDIS_URL set): Redis is the Celery broker and result store, the Channels
  layer and the cache (CELERY_BROKER_URL, CACHE_URL, CHANNEL_LAYER_URL move one role each);
  web, worker and beat run as separate processes.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

from config import beat, env, redis_roles
from config.env import env_bool, env_list, env_numbers, env_proxy_ssl_header, storage_from_url
from config.observability import init_sentry, logging_config

BASE_DIR = Path(__file__).resolve().parent.parent


DEBUG = env_bool("DEBUG", False)
DATA_DIR = Path(os.environ.get("SWITCHBOARD_DATA_DIR", BASE_DIR / "var"))


def _install_secret_key() -> str:
    """Without SECRET_KEY, each install makes its own random key once and keeps it in the data
    folder: never a key published in this repository."""
    import secrets

    path = DATA_DIR / "secret_key"
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    try:
        # Exclusive create: of two processes starting at once, one writes and both read its key.
        with open(path, "x") as handle:
            handle.write(secrets.token_urlsafe(50))
        path.chmod(0o600)
    except FileExistsError:
        pass
    return path.read_text().strip()


SECRET_KEY = os.environ.get("SECRET_KEY") or _install_secret_key()
# How messages the product sends by itself (acknowledgement, survey) are signed in the thread
# and the API (sender.type "system").
PRODUCT_NAME = os.environ.get("PRODUCT_NAME", "Switchboard")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "channels",
    "accounts",
    "inbox",
    "tagging",
    "routing",
    "integrations",
    "reports",
    "workspace",
    "loadgen",
]

MIDDLEWARE = [
    "core.requestid.RequestIdMiddleware",  # first: every later log line carries the id
    "config.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.AgentTimeZoneMiddleware",  # the agent's own zone and language
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

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
                "workspace.context.notifications",
                "config.i18n_catalog.version",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'switchboard.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A bounded pool per process. Persistent per-thread connections leak under an ASGI server
    # (each request may run on another thread) until PostgreSQL refuses new clients.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": int(os.environ.get("DB_POOL_MAX_SIZE", "8")),
        # How long a request waits for a connection: past it, a dead database is a quick 503.
        # Providers give up after 3 s (Slack) or 10 s (GitHub) and must hear 503 before that.
        "timeout": float(os.environ.get("DB_POOL_TIMEOUT", "1.5")),
    }
    # A server that accepts the connection and never answers holds a new connection this long
    # (libpq's minimum; `?connect_timeout=` in DATABASE_URL wins), not libpq's 130 s.
    DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", 2)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # WAL lets the scheduler thread and requests read while one writes; IMMEDIATE takes the
    # write lock at BEGIN so concurrent writers wait (busy timeout) instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Tests get a file too, not Django's shared-cache memory database: there a reader meets
    # "table is locked" at once instead of waiting, which the embedded product never does.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Seconds a webhook door gives PostgreSQL (waiting for a connection, then each statement) before
# it answers 503: the pool's wait, so one setting bounds both. None with SQLite (no network).
INBOUND_DB_TIMEOUT = (
    DATABASES["default"]["OPTIONS"]["pool"]["timeout"]
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    else None
)

# --- Fast twins -------------------------------------------------------------------------------
# Each fast path mirrors a plain one and is chosen here, never by the database engine in code
# (core.fastpaths; docs/architecture.md, "Fast twins"). They need PostgreSQL's SQL: switched on
# with SQLite they refuse to run. The plain paths run everywhere.
ON_POSTGRESQL = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
# Webhook POSTs answered by the ASGI accept door before Django (inbox.intake.doors.asgi).
INBOUND_ASGI_DOOR = env_bool("INBOUND_ASGI_DOOR", ON_POSTGRESQL)
# Drains store runs of new messages set-wise (inbox.intake.receive_many).
INBOUND_SET_WISE = env_bool("INBOUND_SET_WISE", ON_POSTGRESQL)
# Outbox events and bulk audit rows written as one JSON document per batch (core.bulk).
BULK_JSON_INSERT = env_bool("BULK_JSON_INSERT", ON_POSTGRESQL)
# Report facts rebuilt in SQL (reports.facts) instead of conversation by conversation.
REPORTS_SQL_REBUILD = env_bool("REPORTS_SQL_REBUILD", ON_POSTGRESQL)

# --- Redis: broker, channel layer, cache ------------------------------------------------------
# REDIS_URL serves all three roles; CELERY_BROKER_URL, CACHE_URL and CHANNEL_LAYER_URL each send
# one role elsewhere. None of them set: embedded mode. Some set: every role needs a URL, either
# its own or REDIS_URL's (an in-process layer or cache in a mode with separate processes would
# lose live updates and rate counts without a word).
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL, CACHE_URL, CHANNEL_LAYER_URL, EMBEDDED = redis_roles.urls(REDIS_URL)
CACHES = redis_roles.caches(CACHE_URL)
CHANNEL_LAYERS = redis_roles.channel_layers(CHANNEL_LAYER_URL)
CELERY_RESULT_BACKEND = None if EMBEDDED else CELERY_BROKER_URL
if EMBEDDED:
    CELERY_BROKER_URL = "memory://"

# --- Celery ---------------------------------------------------------------------------------
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", EMBEDDED)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # workers log through LOGGING (LOG_FORMAT) too
# A broker outage must not hang a request that only wanted to enqueue: the stored work is
# picked up again by the periodic re-queue sweep.
# visibility_timeout: a task taken by a worker that vanished without acknowledging it (the whole
# worker killed; a killed pool process is re-queued at once) goes back to the queue after this.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600")),
}
# kombu looks for such abandoned tasks every unacked_restore_interval x unacked_restore_throttle
# seconds (100 s by default): every few seconds instead, one cheap sorted-set read.
CELERY_BROKER_TRANSPORT_OPTIONS["unacked_restore_throttle"] = 1
CELERY_BROKER_TRANSPORT_OPTIONS["unacked_restore_interval"] = max(
    1, min(10, CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] // 2)
)
# Worker processes run at this nice level (0 to 19; 0 leaves them be). On a box shared with the
# web processes, acknowledging a webhook or serving a page comes first: what is acknowledged is
# stored, and the workers catch up on whatever CPU is left.
WORKER_NICE = int(os.environ.get("WORKER_NICE", "10"))
SLA_SWEEP_SECONDS = float(os.environ.get("SLA_SWEEP_SECONDS", "30"))
CELERY_BEAT_SCHEDULE = beat.schedule(
    sla_sweep_seconds=SLA_SWEEP_SECONDS,
    tag_suggester_check_seconds=int(os.environ.get("TAG_SUGGESTER_CHECK_SECONDS", "3600")),
)
# Task modules outside the apps' own tasks.py (autodiscovery finds only those).
CELERY_IMPORTS = ("inbox.intake.tasks", "inbox.outbound.tasks", "config.tasks")
# Embedded mode only: run the beat schedule on a thread inside the web process.
EMBEDDED_SCHEDULER = env_bool("EMBEDDED_SCHEDULER", EMBEDDED)

# --- Auth -------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# ModelBackend behind the login lockout (accounts/lockout.py): every way to log in shares it.
AUTHENTICATION_BACKENDS = ["accounts.lockout.LockoutModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# A refused CSRF check answers in words (JSON for scripts), not Django's technical page.
CSRF_FAILURE_VIEW = "config.errors.csrf_failure"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# --- REST API -----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # Deeply nested JSON and over-long integers are a 400, not a 500 (core.safejson).
    "DEFAULT_PARSER_CLASSES": [
        "core.safejson.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api_errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Switchboard API",
    "DESCRIPTION": "The shared support inbox: conversations, messages, triage and reference data.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ConversationStatusEnum": "inbox.models.Status",
        # What agents set and filter on: every status but "blocked" (issue 21).
        "AgentStatusEnum": "inbox.models.AGENT_STATUSES",
        "InboundEventStatusEnum": "inbox.models.InboundEvent.Status",
        "ChannelKindEnum": "inbox.models.Channel.Kind",
        "MessageKindEnum": "inbox.models.Message.Kind",
        "AttachmentStateEnum": "inbox.models.Attachment.State",
        "SLAAlertKindEnum": "routing.models.SLAAlert.Kind",
    },
}

# --- Email ------------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = DATA_DIR / "outbox-mail"
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Switchboard <support@switchboard.local>")

# --- Static and media ---------------------------------------------------------------------------
STATIC_URL = "static/"
# The image collects static files into /app/staticfiles (Dockerfile); else the data folder.
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or DATA_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", DATA_DIR / "media"))
MEDIA_URL = "/media-not-served/"  # attachments are served by a permission-checked view only
# Hashed names (cached for a year by browsers), compressed copies and a manifest, made by
# `collectstatic`: on when a manifest is there (the image) or asked for. Without one (`make run`,
# the tests) the files are served from their folders under their own names: a manifest storage
# without its manifest would refuse to render every page.
STATIC_MANIFEST = env_bool(
    "STATIC_MANIFEST", not DEBUG and (STATIC_ROOT / "staticfiles.json").is_file()
)
STORAGE_URL = os.environ.get("STORAGE_URL", "")
STORAGES = {
    "default": storage_from_url(STORAGE_URL),
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_MANIFEST
        else "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST

# --- Limits ---------------------------------------------------------------------------------------
# Inbound events one drain task processes before handing over to a fresh task.
INBOUND_DRAIN_BATCH = int(os.environ.get("INBOUND_DRAIN_BATCH", "200"))
# Apply partitions (inbox.intake.partitions): drains of different partitions apply at the same
# time; one sender's messages stay in one partition, in order. 1: drains take turns.
INBOUND_PARTITIONS = int(os.environ.get("INBOUND_PARTITIONS", "4" if ON_POSTGRESQL else "1"))
INBOUND_MAX_BYTES = int(os.environ.get("INBOUND_MAX_BYTES", str(25 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = INBOUND_MAX_BYTES + 1024

LANGUAGE_CODE, TIME_ZONE, USE_I18N, USE_TZ = "en", "UTC", True, True
# The agent's User.language, else the browser's Accept-Language (docs/i18n.md).
LANGUAGES, LOCALE_PATHS = [("en", "English"), ("id", "Bahasa Indonesia")], [BASE_DIR / "locale"]

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
# HTTPS only (docs/operations.md, "Production environment"); off for `make run` and the tests.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
# The probes of a load balancer or of the compose healthcheck ask over plain HTTP inside.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS") or "0")
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)
# Only behind a proxy that sets this header on every request and drops it from clients'.
SECURE_PROXY_SSL_HEADER = env_proxy_ssl_header("SECURE_PROXY_SSL_HEADER")
# --- Observability (logs, metrics, errors) -------------------------------------------------------
# LOG_FORMAT=json: one JSON object per line; every line carries the request id (core.requestid).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain").strip().lower()
LOGGING = logging_config(LOG_FORMAT, os.environ.get("LOG_LEVEL", "INFO"))
# GET /metrics answers a bearer METRICS_TOKEN or METRICS_ALLOWED_ADDRESSES (IPs, networks).
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
METRICS_ALLOWED_ADDRESSES = env_list("METRICS_ALLOWED_ADDRESSES", "")
# Several processes (web workers, Celery pool): prometheus-client's multiprocess mode.
PROMETHEUS_MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
if SENTRY_DSN:
    init_sentry(SENTRY_DSN, os.environ.get("SENTRY_ENVIRONMENT") or None)

DATA_DIR.mkdir(parents=True, exist_ok=True)
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# --- Email out ------------------------------------------------------------------------------------
# Seconds before a stalled SMTP connection counts as a transient failure (retried with backoff).
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "30"))
# Auto-acknowledgements: at most one per contact per this many hours (Channel.config "auto_ack").
AUTO_ACK_WINDOW_HOURS = int(os.environ.get("AUTO_ACK_WINDOW_HOURS", "24"))
# django-anymail reads ESP base URLs from here (e.g. POSTMARK_API_URL), never from a channel.
ANYMAIL = {}
# --- Social and SMS channels (Meta, Telegram, Twilio, X) -----------------------------------------
# Provider API base URLs: tests point them at a local HTTP server; senders call nothing else.
META_GRAPH_BASE_URL = os.environ.get("META_GRAPH_BASE_URL", "https://graph.facebook.com")
META_GRAPH_API_VERSION = os.environ.get("META_GRAPH_API_VERSION", "v21.0")
TELEGRAM_API_BASE_URL = os.environ.get("TELEGRAM_API_BASE_URL", "https://api.telegram.org")
TWILIO_API_BASE_URL = os.environ.get("TWILIO_API_BASE_URL", "https://api.twilio.com")
X_API_BASE_URL = os.environ.get("X_API_BASE_URL", "https://api.x.com")
# The public base URL providers call (https://inbox.example.com): Twilio signs the URL it saw.
TWILIO_WEBHOOK_BASE_URL = os.environ.get("TWILIO_WEBHOOK_BASE_URL", "")
# Meta and WhatsApp accept free-form replies only this long after the customer's last message.
SOCIAL_REPLY_WINDOW_HOURS = int(os.environ.get("SOCIAL_REPLY_WINDOW_HOURS", "24"))
# --- Website live chat ----------------------------------------------------------------------------
CHAT_MAX_CHARS = int(os.environ.get("CHAT_MAX_CHARS", "5000"))
CHAT_RATE_LIMIT = int(os.environ.get("CHAT_RATE_LIMIT", "20"))  # messages per session per window
CHAT_RATE_WINDOW_SECONDS = int(os.environ.get("CHAT_RATE_WINDOW_SECONDS", "60"))
CHAT_TYPING_SECONDS = 2  # at most one visitor typing signal per session this often
CHAT_PRESENCE_SECONDS = 60  # a widget that has not pinged or polled for this long is away
# --- Email inbound (issue 3: raw mail, ESP inbound, IMAP polling) -------------------------------
REOPEN_WINDOW_DAYS = int(os.environ.get("REOPEN_WINDOW_DAYS", "7"))
EMAIL_MAX_DEPTH = int(os.environ.get("EMAIL_MAX_DEPTH", "20"))  # nested multiparts/rfc822
EMAIL_MAX_PARTS = int(os.environ.get("EMAIL_MAX_PARTS", "500"))
ATTACHMENT_MAX_BYTES = int(os.environ.get("ATTACHMENT_MAX_BYTES", str(20 * 1024 * 1024)))
ATTACHMENT_MAX_TOTAL_BYTES = int(
    os.environ.get("ATTACHMENT_MAX_TOTAL_BYTES", str(50 * 1024 * 1024))
)
# Customers' media (issue 21): hosts files are downloaded from, size cap, timeout, retries.
MEDIA_ALLOWED_HOSTS = env_list("MEDIA_ALLOWED_HOSTS", env.MEDIA_HOSTS)
MEDIA_DOWNLOAD = env.media_download(attachment_max=ATTACHMENT_MAX_BYTES)
IMAP_TIMEOUT_SECONDS = int(os.environ.get("IMAP_TIMEOUT_SECONDS", "30"))
IMAP_BATCH = int(os.environ.get("IMAP_BATCH", "200"))  # mails fetched per poll per channel
CELERY_BEAT_SCHEDULE["poll-imap"] = {
    "task": "inbox.tasks.poll_imap_channels",
    "schedule": timedelta(seconds=int(os.environ.get("IMAP_POLL_SECONDS", "60"))),
}
# ESP inbound through django-anymail (/webhooks/esp/<esp>/inbound/). Every ESP checks HTTP basic
# auth against ANYMAIL_WEBHOOK_SECRET ("user:password"); Mailgun also checks its signing key.
if "anymail" not in INSTALLED_APPS:
    INSTALLED_APPS.append("anymail")
ANYMAIL = {
    **globals().get("ANYMAIL", {}),
    **{
        key: os.environ[f"ANYMAIL_{key}"]
        for key in ("WEBHOOK_SECRET", "MAILGUN_WEBHOOK_SIGNING_KEY")
        if os.environ.get(f"ANYMAIL_{key}")
    },
}
# --- Agents' browser UI (issue 7) ----------------------------------------------------------------
# A Content-Security-Policy on every response: no inline script anywhere (config/csp.py).
MIDDLEWARE += ["config.csp.ContentSecurityPolicyMiddleware"]
LOGOUT_REDIRECT_URL = "login"
# --- Integrations (outbound webhooks) ---------------------------------------------------------
CELERY_BEAT_SCHEDULE["webhooks-due"] = {
    "task": "integrations.tasks.sweep_webhooks",
    "schedule": timedelta(seconds=30),
}
# Host names an admin allows webhooks to reach although they resolve to internal addresses.
WEBHOOK_ALLOWED_HOSTS = [h for h in os.environ.get("WEBHOOK_ALLOWED_HOSTS", "").split(",") if h]
# Fixed answers for webhook host names, consulted before DNS ({"host": ["ip", ...]}); for tests.
WEBHOOK_DNS_OVERRIDES: dict[str, list[str]] = {}
WEBHOOK_CONNECT_TIMEOUT = float(os.environ.get("WEBHOOK_CONNECT_TIMEOUT", "5"))
WEBHOOK_TIMEOUT = float(os.environ.get("WEBHOOK_TIMEOUT", "15"))
WEBHOOK_MAX_RESPONSE_BYTES = int(os.environ.get("WEBHOOK_MAX_RESPONSE_BYTES", "65536"))
# A claim older than this belongs to a worker that died mid-delivery (must exceed the timeout).
WEBHOOK_CLAIM_TIMEOUT = int(os.environ.get("WEBHOOK_CLAIM_TIMEOUT", "300"))
WEBHOOK_MAX_CONSECUTIVE_FAILURES = int(os.environ.get("WEBHOOK_MAX_CONSECUTIVE_FAILURES", "20"))

# --- Integrations (rate limits) ---------------------------------------------------------------
# Per API token, per signed-in user, failed API authentication per IP, login attempts per IP,
# failed logins per account (every address together), password reset requests per IP and per
# email address, and inbound webhooks per (channel, IP). Counted in the cache (Redis when
# configured). "N/s|m|h|d".
API_THROTTLE_RATES = {
    "token": os.environ.get("THROTTLE_TOKEN", "1200/min"),
    "user": os.environ.get("THROTTLE_USER", "2400/min"),
    "anon": os.environ.get("THROTTLE_ANON", "300/min"),
    "login": os.environ.get("THROTTLE_LOGIN", "30/min"),
    "login_failures": os.environ.get("THROTTLE_LOGIN_FAILURES", "10/h"),
    "password_reset": os.environ.get("THROTTLE_PASSWORD_RESET", "5/h"),
    # Providers post from few addresses at high rates: this guards against floods, not traffic.
    "inbound": os.environ.get("THROTTLE_INBOUND", "2000/s"),
}
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = [
    "integrations.throttles.TokenRateThrottle",
    "integrations.throttles.UserRateThrottle",
    "integrations.throttles.AnonRateThrottle",
]
MIDDLEWARE += ["integrations.throttles.RateLimitMiddleware"]
SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] = [
    "drf_spectacular.hooks.postprocess_schema_enums",
    "integrations.openapi.add_error_responses",
]
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update(
    {"WebhookDeliveryStatusEnum": "integrations.models.WebhookDelivery.Status"}
)
# --- Reports (issue 9) -----------------------------------------------------------------------------
# Days of reports are days in this zone; rollups are kept current from the outbox by a periodic task.
REPORTS_TIME_ZONE = os.environ.get("REPORTS_TIME_ZONE", TIME_ZONE)
REPORTS_REFRESH_SECONDS = float(os.environ.get("REPORTS_REFRESH_SECONDS", "60"))
CELERY_BEAT_SCHEDULE["report-rollups"] = {
    "task": "reports.tasks.refresh_rollups",
    "schedule": timedelta(seconds=REPORTS_REFRESH_SECONDS),
}
# work_mem for the percentile queries (PostgreSQL), so a long range sorts in memory.
REPORTS_SORT_MEMORY_MB = int(os.environ.get("REPORTS_SORT_MEMORY_MB", "64"))
# Medians and 90th percentiles over fewer values than this are exact; over more, read from the
# daily duration histograms (reports/histograms.py: within about 5 %).
REPORTS_EXACT_PERCENTILE_LIMIT = int(os.environ.get("REPORTS_EXACT_PERCENTILE_LIMIT", "20000"))
# The tag whose conversations' recurring phrases the reports list.
REPORTS_FEATURE_REQUEST_TAG = os.environ.get("REPORTS_FEATURE_REQUEST_TAG", "feature-request")
# Where a customer's browser reaches this site: survey links in mail and chat are built on it.
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# How long the signed URL of a file sent with a reply works (providers fetch it; issue 21).
OUTBOUND_FILE_URL_MAX_AGE = int(os.environ.get("OUTBOUND_FILE_URL_MAX_AGE", str(7 * 86400)))
# --- The learned tag suggester (issue 24) --------------------------------------------------------
# Off: no learned suggestions shown, no periodic retraining (rules' suggestions still show).
TAG_SUGGESTER_ENABLED = env_bool("TAG_SUGGESTER_ENABLED", True)
# The periodic task retrains once this many agents' tags and dismissals arrived since the model.
TAG_SUGGESTER_RETRAIN_AFTER = int(os.environ.get("TAG_SUGGESTER_RETRAIN_AFTER", "50"))
# The feature-request board groups requests at least this alike (0..1; ?threshold= per request).
FEATURE_REQUEST_SIMILARITY = float(os.environ.get("FEATURE_REQUEST_SIMILARITY", "0.4"))
# Incident spike alerts (issue 24): SPIKE_TAGS, SPIKE_WINDOW_MINUTES, ... (docs/spike-alerts.md).
SPIKE_TAGS = env_list("SPIKE_TAGS", "incident")
SPIKE = env_numbers("SPIKE_", WINDOW_MINUTES=60, BASELINE_WEEKS=4, MIN_COUNT=5, FACTOR=3.0)
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]["FeatureRequestStatusEnum"] = (
    "tagging.models.FeatureRequest.Status"
)
# The "Undo" after Resolve is offered this long; the satisfaction survey waits SURVEY_DELAY_SECONDS
# (at least the undo window, plus a margin for a late click) and goes only if still resolved.
RESOLVE_UNDO_SECONDS = int(os.environ.get("RESOLVE_UNDO_SECONDS", "5"))
SURVEY_DELAY_SECONDS = max(
    RESOLVE_UNDO_SECONDS, int(os.environ.get("SURVEY_DELAY_SECONDS", str(RESOLVE_UNDO_SECONDS + 5)))
)
# At most one survey (CSAT, NPS or CES) per customer in this many days; 0: no limit.
SURVEY_MIN_INTERVAL_DAYS = max(0, int(os.environ.get("SURVEY_MIN_INTERVAL_DAYS", "7")))
