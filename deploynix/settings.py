"""Django settings. Every value comes from the environment through deploynix.env.

Modes (DEPLOYNIX_ENV): `development` (default; generates its own secret and encryption keys
under var/), `test` (same, used by `make test`) and `production` (refuses to start unless the
variables listed in .env.example are set, and passes `manage.py check --deploy`).
"""

from __future__ import annotations

import secrets
from importlib import metadata
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet
from redis import DriverInfo

from deploynix.broker import CONNECT_TIMEOUT_SECONDS as BROKER_CONNECT_TIMEOUT
from deploynix.broker import broker_kind
from deploynix.broker import heartbeat as broker_heartbeat
from deploynix.broker import transport_options as broker_transport_options
from deploynix.env import (
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_secret,
    env_str,
    env_url_or,
    require,
)
from deploynix.guards import check_deploy_roots, check_encryption_keys, check_production

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("DEPLOYNIX_VAR_DIR") or BASE_DIR / "var")
ENV = env_choice("DEPLOYNIX_ENV", ("development", "test", "production"), "development")
PRODUCTION = ENV == "production"


def _local_secret(filename: str, make) -> str:
    """Read a development-only secret from var/, creating it on first use."""
    path = VAR_DIR / filename
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


if PRODUCTION:
    _why = "required when DEPLOYNIX_ENV=production"
    SECRET_KEY = require("DEPLOYNIX_SECRET_KEY", env_secret("DEPLOYNIX_SECRET_KEY"), _why)
    _keys = require("DEPLOYNIX_ENCRYPTION_KEYS", env_secret("DEPLOYNIX_ENCRYPTION_KEYS"), _why)
    ALLOWED_HOSTS = env_list("DEPLOYNIX_ALLOWED_HOSTS")
    require("DEPLOYNIX_ALLOWED_HOSTS", ",".join(ALLOWED_HOSTS), _why)
    DATABASE_URL = require("DATABASE_URL", env_secret("DATABASE_URL"), _why)
    REDIS_URL = require("REDIS_URL", env_secret("REDIS_URL"), _why)
else:
    SECRET_KEY = env_secret("DEPLOYNIX_SECRET_KEY") or _local_secret(
        "secret_key", lambda: secrets.token_urlsafe(50)
    )
    _keys = env_secret("DEPLOYNIX_ENCRYPTION_KEYS") or _local_secret(
        "encryption.keys", lambda: Fernet.generate_key().decode()
    )
    ALLOWED_HOSTS = env_list("DEPLOYNIX_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
    DATABASE_URL = env_secret("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'deploynix.sqlite3'}"
    REDIS_URL = env_secret("REDIS_URL") or "redis://127.0.0.1:6379/0"

# Secrets at rest: a list so keys can rotate (first encrypts, all decrypt). Never derived
# from SECRET_KEY, so rotating the session key does not destroy stored secrets.
ENCRYPTION_KEYS = [k.strip() for k in _keys.split(",") if k.strip()]
check_encryption_keys(ENCRYPTION_KEYS)
DEBUG = env_bool("DEPLOYNIX_DEBUG", default=not PRODUCTION)
REDIS_PREFIX = env_str("DEPLOYNIX_REDIS_PREFIX", "deploynix")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "drf_spectacular",
    "django_otp",
    "django_otp.plugins.otp_static",
    "tenancy",
    "deploynix",
    "servers",
    "sites",
    "loadbalancers",
    "deployments",
    "schedules",
    "webhooks",
    "notifications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "deploynix.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tenancy.sessions.SessionActivityMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "deploynix.urls"
WSGI_APPLICATION = "deploynix.wsgi.application"
ASGI_APPLICATION = "deploynix.asgi.application"
AUTH_USER_MODEL = "deploynix.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

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
                "tenancy.context_processors.organizations",
            ],
        },
    },
]

# SQLite is the embedded default (`make run`): one file shared by daphne and a worker with 32
# threads, so it must queue writers instead of failing them with "database is locked".
SQLITE_BUSY_TIMEOUT_SECONDS = 30
SQLITE_OPTIONS = {
    # Every atomic() starts with BEGIN IMMEDIATE, taking the write lock up front. A deferred
    # transaction that reads and then writes (deployment_finish, _store_outcome) cannot wait
    # for a lock another writer holds: SQLite fails it at once, whatever the busy timeout. It
    # also stands in for select_for_update(), which SQLite ignores: writers take turns.
    "transaction_mode": "IMMEDIATE",
    # How long a writer waits for its turn (the Python driver's busy handler).
    "timeout": SQLITE_BUSY_TIMEOUT_SECONDS,
    # Per connection. WAL: readers (pages, log replays) never block the writer nor it them.
    # synchronous=NORMAL is durable in WAL mode across a process crash, and fsyncs far less.
    # foreign_keys=ON is what Django's own connection setup sets (it lifts it only while
    # migrating); repeated here so the list names every pragma the panel relies on.
    "init_command": (
        "PRAGMA journal_mode=WAL;"
        "PRAGMA synchronous=NORMAL;"
        f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000};"
        "PRAGMA foreign_keys=ON"
    ),
}


# Names this test run's databases (scripts/test.sh sets its pid): two runs at once on one
# machine (a developer's and CI's, or several) must not drop each other's test database.
TEST_RUN = env_str("DEPLOYNIX_TEST_RUN", "") or ""


def _test_name(name: str) -> str:
    return f"test_{TEST_RUN}_{name}" if TEST_RUN else f"test_{name}"


def _database(url: str) -> dict:
    database = dj_database_url.parse(url, conn_max_age=0)
    if database["ENGINE"] != "django.db.backends.sqlite3":
        database["TEST"] = {"NAME": _test_name(database["NAME"])}
        return database
    # Django's backend with a schema editor that keeps triggers through table rebuilds.
    database["ENGINE"] = "deploynix.sqlite"
    database["OPTIONS"] = {**SQLITE_OPTIONS, **database.get("OPTIONS", {})}
    name = database["NAME"]
    if name and name != ":memory:":
        # A file, not Django's in-memory default: the real daphne and worker processes that
        # tests start must open the same test database (tests/deployments/workers.py).
        path = Path(name)
        database["TEST"] = {"NAME": str(path.with_name(_test_name(path.name)))}
    return database


DATABASES = {"default": _database(DATABASE_URL)}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # a reused connection is checked first
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": f"{REDIS_PREFIX}:cache",
    }
}
RATELIMIT_USE_CACHE = "default"
# Account throttles (tenancy/throttle.py): failed log-ins per account and (generously, a team
# may share one NAT address) per address; sign-ups per address; reset e-mails per address/account.
LOGIN_RATE_LIMIT = env_str("DEPLOYNIX_LOGIN_RATE", "10/5m")
# Webhook deliveries (webhooks/limits.py): all of them per site and per client address (a git
# host sends every site's pushes from a few addresses), and bad signatures far more strictly.
WEBHOOK_RATE_SITE = env_str("DEPLOYNIX_WEBHOOK_RATE_SITE", "120/m")
WEBHOOK_RATE_IP = env_str("DEPLOYNIX_WEBHOOK_RATE_IP", "600/m")
WEBHOOK_BAD_SIGNATURE_RATE = env_str("DEPLOYNIX_WEBHOOK_BAD_SIGNATURE_RATE", "10/m")
LOGIN_IP_RATE_LIMIT = env_str("DEPLOYNIX_LOGIN_IP_RATE", "100/5m")
SIGNUP_RATE_LIMIT = env_str("DEPLOYNIX_SIGNUP_RATE", "10/h")
PASSWORD_RESET_RATE_LIMIT = env_str("DEPLOYNIX_PASSWORD_RESET_RATE", "5/h")
# When on, sign-up needs a pending invitation's link (tenancy/services/signup.py).
SIGNUP_INVITE_ONLY = env_bool("DEPLOYNIX_SIGNUP_INVITE_ONLY", False)

# redis-py names itself on every new connection (CLIENT SETINFO) with its version, which it
# reads from the package's metadata each time: ~2 ms of CPU per connection, and the channel
# layer opens new ones for each event loop (every async_to_sync send in the worker). Read once.
REDIS_DRIVER_INFO = DriverInfo(lib_version=metadata.version("redis"))

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [{
                "address": REDIS_URL,
                # Each socket's receive loop blocks on Redis for up to 5 s (channels_redis
                # brpop_timeout). redis-py's own 5 s default socket timeout ended that read
                # first, and daphne closed every idle socket with 1011 after ~5.3 s: the read
                # timeout must outlast the blocking read.
                "socket_timeout": 30,
                "socket_connect_timeout": 5,
                "socket_keepalive": True,
                "driver_info": REDIS_DRIVER_INFO,
            }],
            "prefix": f"{REDIS_PREFIX}:asgi",
            # Defaults (100 messages, 60 s) are too small for a burst of log batches.
            "capacity": 2000,
            "expiry": 30,
        },
    }
}

# Celery: JSON only, ids as arguments, the row in the database is the truth. The broker is
# Redis unless DEPLOYNIX_BROKER_URL names another (RabbitMQ: amqp://); the channel layer and the
# cache stay on Redis. Its transport options follow the deployment limits (below).
CELERY_BROKER_URL = env_secret("DEPLOYNIX_BROKER_URL") or REDIS_URL
BROKER_KIND = broker_kind(CELERY_BROKER_URL)
CELERY_BROKER_HEARTBEAT = broker_heartbeat(BROKER_KIND)
CELERY_BROKER_CONNECTION_TIMEOUT = BROKER_CONNECT_TIMEOUT
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Three queues. `deploy`: run_deployment. `control`: the periodic watchdog and schedules, on
# a worker of their own, so a deploy worker that is busy, dead or paused cannot hold up the
# task that frees its sites. `default`: the rest (notifications, server checks, reconcile).
CELERY_TASK_DEFAULT_QUEUE = "default"
CONTROL_QUEUE = "control"
CELERY_TASK_ROUTES = {
    "deployments.tasks.run_deployment": {"queue": "deploy"},
    "deployments.tasks.watchdog": {"queue": CONTROL_QUEUE},
    "deployments.tasks.gates_sweep": {"queue": CONTROL_QUEUE},
    "schedules.tasks.fire_due_schedules": {"queue": CONTROL_QUEUE},
}
# A worker outlives any broker outage and resumes by itself: retry for ever (Celery's default
# is to exit after 100 failed attempts, about 50 minutes), and survive a restart while tasks
# are unacknowledged, which Celery 5.7.0's own consumer does not (see deploynix/celery.py).
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_WORKER_CONSUMER = "deploynix.celery:BrokerRestartSafeConsumer"
# A deployment in progress keeps running through a broker outage (it needs the database and
# SSH, not Redis); Celery's alternative would cancel it mid-step to redeliver it.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ALWAYS_EAGER = False


def _beat_schedule(watchdog_seconds: int) -> dict:
    # Each app keeps its periodic tasks beside its tasks; these modules hold plain data only.
    from deployments.celery_schedule import beat_schedule as deployments_beat
    from schedules.beat import BEAT_SCHEDULE as schedules_beat

    return {**deployments_beat(watchdog_seconds), **schedules_beat}

PASSWORD_HASHERS = (
    ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast tests only; never in production
    if ENV == "test"
    else ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
if not PRODUCTION:
    # WhiteNoise serves from the finders here, but warns on every request if the root is missing.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = not PRODUCTION

# Development prints mail to the console; production sends it (deploynix/guards.py).
EMAIL_BACKEND = env_str(
    "DEPLOYNIX_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env_str("DEPLOYNIX_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("DEPLOYNIX_EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("DEPLOYNIX_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env_secret("DEPLOYNIX_EMAIL_PASSWORD") or ""
EMAIL_USE_TLS = env_bool("DEPLOYNIX_EMAIL_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEPLOYNIX_FROM_EMAIL", "Deploynix <deploynix@localhost>")
# The port daphne listens on (scripts/run.sh); the public URL defaults to it, so links in
# invitations and webhook URLs point where the panel really answers.
PORT = env_int("DEPLOYNIX_PORT", 8000, minimum=1, maximum=65535)
PUBLIC_URL = env_url_or("DEPLOYNIX_PUBLIC_URL", f"http://127.0.0.1:{PORT}")

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Deploynix API",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "ENABLE_DJANGO_DEPLOY_CHECK": False,
    # Every operation documents the error answers it can give (400, 401, 403, 404, 413).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "tenancy.api.schema.document_error_responses",
    ],
    # Servers and deployments both have a `status` field; name their enums apart.
    "ENUM_NAME_OVERRIDES": {
        "ServerStatusEnum": "servers.models.ServerStatus",
        "DeploymentStatusEnum": "deployments.models.Status",
    },
}

# Transport limits (docs/security.md, "Transport"). Request bodies over these are refused with
# 413 before they are read (deploynix/bodylimit.py, deploynix/daphne_guard.py); Django's own
# form-data limit follows the same number.
MAX_BODY_BYTES = env_int("DEPLOYNIX_MAX_BODY_BYTES", 2_621_440, minimum=1024)
WEBHOOK_MAX_BODY_BYTES = env_int("DEPLOYNIX_WEBHOOK_MAX_BODY_BYTES", 1_048_576, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_BODY_BYTES
# Live sockets open at once per user and per organization (tenancy/socket_slots.py).
WS_MAX_PER_USER = env_int("DEPLOYNIX_WS_MAX_PER_USER", 20, minimum=1)
WS_MAX_PER_ORG = env_int("DEPLOYNIX_WS_MAX_PER_ORG", 200, minimum=1)

# Deployment behaviour (defaults that a site can override where noted).
DEPLOY_STEP_TIMEOUT = env_int("DEPLOYNIX_STEP_TIMEOUT", 900, minimum=1)
DEPLOY_TOTAL_TIMEOUT = env_int("DEPLOYNIX_DEPLOY_TIMEOUT", 3600, minimum=1)
DEPLOY_WATCHDOG_SECONDS = env_int("DEPLOYNIX_WATCHDOG_SECONDS", 90, minimum=5)
DEPLOY_MIN_FREE_MB = env_int("DEPLOYNIX_MIN_FREE_MB", 200, minimum=0)
# Stored log per deployment; past half of it each step keeps its last lines (deployments/log_cap.py)
DEPLOY_LOG_MAX_BYTES = env_int("DEPLOYNIX_LOG_MAX_BYTES", 10_000_000, minimum=200_000)
# Where sites may live on a server unless the server lists its own roots ("~": the SSH user's
# home). A deploy path must lie strictly under one of them (sites/services.py, and again on
# the server: deployments/pipeline/scripts/guard.sh).
DEPLOY_ROOTS = env_list("DEPLOYNIX_DEPLOY_ROOTS", ["/var/www", "~"])
check_deploy_roots(DEPLOY_ROOTS)

# Celery settings that follow from the deployment limits just above (the rest: # Celery).
# The watchdog's tick follows its window; its messages expire before the next tick.
CELERY_BEAT_SCHEDULE = _beat_schedule(DEPLOY_WATCHDOG_SECONDS)
# Time limits above the pipeline's own (its runner ends a deployment as timed_out after
# DEPLOY_TOTAL_TIMEOUT and records it): a backstop that only a prefork worker enforces. The
# threads pool that the deploy worker runs ignores both, silently (README.md, Processes).
_RUN_DEPLOYMENT_TIME_LIMIT = DEPLOY_TOTAL_TIMEOUT + 300
CELERY_TASK_ANNOTATIONS = {
    "deployments.tasks.run_deployment": {
        "soft_time_limit": DEPLOY_TOTAL_TIMEOUT + 120,
        "time_limit": _RUN_DEPLOYMENT_TIME_LIMIT,
    },
}
# run_deployment acks late: Redis must not hand its message to another worker while it runs
# (RabbitMQ has no such timeout: deploynix/broker.py).
CELERY_BROKER_TRANSPORT_OPTIONS = broker_transport_options(
    BROKER_KIND, redis_prefix=REDIS_PREFIX, visibility_timeout=_RUN_DEPLOYMENT_TIME_LIMIT + 300
)

# Notification webhooks may not reach loopback/private addresses (SSRF) unless allowed.
NOTIFICATIONS_BLOCK_PRIVATE_ADDRESSES = env_bool("DEPLOYNIX_NOTIFY_BLOCK_PRIVATE", PRODUCTION)

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the cookie-less meta tag; kept default
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

if PRODUCTION:
    check_production(allowed_hosts=ALLOWED_HOSTS, debug=DEBUG, email_backend=EMAIL_BACKEND)
    SECURE_SSL_REDIRECT = env_bool("DEPLOYNIX_SSL_REDIRECT", True)
    if env_bool("DEPLOYNIX_BEHIND_TLS_PROXY", True):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("DEPLOYNIX_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    CSRF_TRUSTED_ORIGINS = env_list("DEPLOYNIX_CSRF_TRUSTED_ORIGINS")
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("DEPLOYNIX_LOG_LEVEL", "INFO")},
    "loggers": {"asyncssh": {"level": "WARNING"}},
}
