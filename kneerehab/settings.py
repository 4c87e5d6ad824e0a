"""Settings for kneerehab, read from the environment (django-environ).

With no environment at all the service runs in its embedded mode: a SQLite
file and a filesystem Celery broker inside the project folder. The scaled mode
sets DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL (Redis).
"""
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

from kneerehab.keys import is_real_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env is optional; real deployments pass variables directly.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# Sessions, CSRF tokens and JWTs are signed with SECRET_KEY: whoever knows it can sign in as anyone.
# The development key is public (it is in this file), so it is only ever used with DEBUG on; with DEBUG
# off (the default, and every deployment) the service refuses to start without a real key. Unless the
# environment sets one, a key file is read: `make run` makes one of the clone's own (.secret-key).
DEVELOPMENT_SECRET_KEY = "django-insecure-kneerehab-development-key-change-me-0123456789abcdef"  # noqa: S105
SECRET_KEY_FILE = Path(env("SECRET_KEY_FILE", default=str(BASE_DIR / ".secret-key")))
SECRET_KEY = (
    env("SECRET_KEY", default="")
    or (SECRET_KEY_FILE.read_text().strip() if SECRET_KEY_FILE.is_file() else "")
    or (DEVELOPMENT_SECRET_KEY if DEBUG else "")
)
if not DEBUG and not is_real_secret_key(SECRET_KEY):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a long random value when DEBUG is off (it is missing, the public "
        "development key, or too short: at least 50 characters, 5 of them different). Make one with: "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    # third party
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "simple_history",
    "axes",
    # project
    "kneerehab.users",
    "kneerehab.ops",
    "kneerehab.notifications",
    "kneerehab.audit",
    "kneerehab.web",
    "kneerehab.demo",
    "conditions",
    "plans",
    "tracker",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "kneerehab.middleware.ApiBodySizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "kneerehab.middleware.CommonMiddleware",  # no slash-appending redirects under /api/
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "kneerehab.users.sessions.SessionTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "kneerehab.audit.middleware.AuditMiddleware",
    "kneerehab.middleware.NoStoreHealthDataMiddleware",
    # Axes last, as its documentation asks, so that it sees the authenticated user.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kneerehab.urls"
WSGI_APPLICATION = "kneerehab.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "kneerehab" / "templates"],
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

# --- Database -------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one SQLite file in the embedded mode: WAL lets
    # readers run beside a writer, IMMEDIATE takes the write lock up front so
    # concurrent writers wait (timeout) instead of failing with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "users.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# --- Internationalisation -------------------------------------------------
LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "kneerehab" / "static",
    # Chart.js and htmx, pinned in package-lock.json and installed by `npm ci` (make does it).
    ("vendor/chart.js", BASE_DIR / "node_modules" / "chart.js" / "dist"),
    ("vendor/htmx.org", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
]
# Uploaded exercise media. The embedded default keeps them on the local disk (MEDIA_ROOT, never served as
# static files: the API checks who may see each one). MEDIA_STORAGE=s3 stores them in S3-compatible object
# storage through django-storages; the bucket stays private and the API hands out URLs signed for
# MEDIA_SIGNED_URL_SECONDS (README, "Exercise media").
MEDIA_ROOT = env("MEDIA_ROOT", default=str(BASE_DIR / "media"))
MEDIA_URL = "/media-files-are-served-by-the-api/"
MEDIA_STORAGE = env("MEDIA_STORAGE", default="filesystem")
if MEDIA_STORAGE == "s3":
    _DEFAULT_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("MEDIA_S3_BUCKET"),
            "endpoint_url": env("MEDIA_S3_ENDPOINT_URL", default=None),
            "region_name": env("MEDIA_S3_REGION", default=None),
            "access_key": env("MEDIA_S3_ACCESS_KEY_ID", default=None),
            "secret_key": env("MEDIA_S3_SECRET_ACCESS_KEY", default=None),
            "default_acl": "private",
            "querystring_auth": True,
            "signature_version": "s3v4",
            "querystring_expire": env.int("MEDIA_SIGNED_URL_SECONDS", default=60),
            "file_overwrite": False,
        },
    }
    MEDIA_SIGNED_URL_SECONDS = env.int("MEDIA_SIGNED_URL_SECONDS", default=60)
else:
    _DEFAULT_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    MEDIA_SIGNED_URL_SECONDS = 0
MEDIA_IMAGE_MAX_BYTES = env.int("MEDIA_IMAGE_MAX_BYTES", default=10 * 1024 * 1024)
MEDIA_IMAGE_MAX_PIXELS = env.int("MEDIA_IMAGE_MAX_PIXELS", default=40_000_000)
MEDIA_VIDEO_MAX_BYTES = env.int("MEDIA_VIDEO_MAX_BYTES", default=50 * 1024 * 1024)
MEDIA_VIDEO_MAX_SECONDS = env.int("MEDIA_VIDEO_MAX_SECONDS", default=120)

STORAGES = {
    "default": _DEFAULT_STORAGE,
    "staticfiles": {
        "BACKEND": env(
            "STATICFILES_BACKEND",
            default="whitenoise.storage.CompressedStaticFilesStorage",
        )
    },
}

# --- Request limits -------------------------------------------------------
# The API accepts small JSON documents only; larger bodies get a 413.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=64 * 1024)
# ... nested at most this deep (arrays and objects); deeper documents get a 400.
API_MAX_JSON_DEPTH = env.int("API_MAX_JSON_DEPTH", default=32)
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)
# Media uploads (multipart POSTs to an API path ending in /media/) may be as large as the largest video.
API_MAX_UPLOAD_BYTES = MEDIA_VIDEO_MAX_BYTES + 1024 * 1024

# --- Proxies --------------------------------------------------------------
# How many proxies of our own stand in front of the web processes (each appends to X-Forwarded-For).
# 0: clients connect directly; their address is the socket's, and X-Forwarded-For is ignored. Behind
# the TLS-terminating proxy the README recommends: 1. Too high a number lets clients choose their
# address (and so escape rate limits and lockouts); too low counts everyone as the proxy.
NUM_PROXIES = env.int("NUM_PROXIES", default=0)

# --- REST framework -------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # simplejwt's, refusing tokens issued before a password change or a deactivation.
        "kneerehab.users.tokens.VersionedJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "kneerehab.pagination.StandardPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "kneerehab.filters.CappedSearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # A JSON API: form and multipart bodies get a 415 (and the schema documents JSON only).
    "DEFAULT_PARSER_CLASSES": ["kneerehab.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "kneerehab.errors.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "kneerehab.throttling.AnonRateThrottle",
        "kneerehab.throttling.UserWriteRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("THROTTLE_ANON", default="120/minute"),
        "user_write": env("THROTTLE_USER_WRITE", default="120/minute"),
        "login": env("THROTTLE_LOGIN", default="20/minute"),
    },
    # DRF's own reading of X-Forwarded-For follows the same trusted-proxy count (kneerehab.proxies).
    "NUM_PROXIES": NUM_PROXIES,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=14)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    # Tokens carry the account's token version (kneerehab/users/tokens.py).
    "TOKEN_OBTAIN_SERIALIZER": "kneerehab.users.tokens.TokenObtainPairSerializer",
    "TOKEN_REFRESH_SERIALIZER": "kneerehab.users.tokens.TokenRefreshSerializer",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "kneerehab API",
    "DESCRIPTION": (
        "Home rehabilitation plans for pain behind the knee: plans, daily check-ins "
        "with symptom screening, exercise logs, reminders and progress. "
        "Screening prompts support, and never replace, a clinician's judgement."
    ),
    "VERSION": "1.0.0",
    # Swagger UI from the pinned drf-spectacular-sidecar package, served with the app's static files.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # The error answers every operation can give (400/401/403/404/429/503, 413/415 with a body), once for all.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "kneerehab.schema.document_error_responses",
    ],
    # One schema name for the phase keys, used by several fields (phase, current_phase, from/to_phase).
    "ENUM_NAME_OVERRIDES": {
        "PhaseKeyEnum": "conditions.models.PhaseKey",
        # Screening levels, alert states and swelling grades appear in several tracker components.
        "PromptLevelEnum": "tracker.models.PromptLevel",
        "AlertStatusEnum": "tracker.models.AlertStatus",
        "SwellingEnum": "tracker.models.Swelling",
        "PlanStatusEnum": "plans.models.PlanStatus",
    },
}

# The schema and the interactive docs (kneerehab.api_docs): signed-in users only unless this is on.
API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", default=False)

# --- Content-Security-Policy (django-csp) -----------------------------------
# On every response. Scripts, styles, fonts and data come from our own origin only (htmx, Chart.js,
# Swagger UI are static files); no inline script or style, no plugins, no framing, forms post to us.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}

# --- Login protection (django-axes) ---------------------------------------
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_LOCKOUT_CALLABLE = "kneerehab.users.lockout.lockout_response"
# Per account, whatever the address (kneerehab.users.lockout): past this many recent failures each attempt
# waits, from 2 s after the last failure, doubling with each further one, up to the cool-off time.
AXES_HANDLER = "kneerehab.users.lockout.LockoutHandler"
AXES_USERNAME_FAILURE_LIMIT = env.int("AXES_USERNAME_FAILURE_LIMIT", default=20)
AXES_USERNAME_BACKOFF_SECONDS = env.float("AXES_USERNAME_BACKOFF_SECONDS", default=2.0)
# The client's address as throttles and the audit trail see it (NUM_PROXIES), never a client-sent header.
AXES_CLIENT_IP_CALLABLE = "kneerehab.proxies.client_ip"

# --- Celery ---------------------------------------------------------------
CELERY_FILESYSTEM_BROKER_DIR = Path(
    env("CELERY_FILESYSTEM_BROKER_DIR", default=str(BASE_DIR / ".celery-broker"))
)
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
FILESYSTEM_BROKER = CELERY_BROKER_URL.startswith("filesystem://")
if FILESYSTEM_BROKER:
    # kombu's filesystem transport: producers and consumers exchange message files
    # through one shared folder, so no broker server is needed on one machine. Ours
    # writes each message under a temporary name and renames it into place.
    CELERY_BROKER_TRANSPORT = "kneerehab.filesystem_broker:Transport"
    for sub in ("queue", "processed", "control"):
        (CELERY_FILESYSTEM_BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_FILESYSTEM_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_FILESYSTEM_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_FILESYSTEM_BROKER_DIR / "processed"),
        # Broadcast (remote control) files; kombu would otherwise write them to ./control.
        "control_folder": str(CELERY_FILESYSTEM_BROKER_DIR / "control"),
        "store_processed": False,
        # This transport has no event loop: a worker whose prefetch window is full, or whose
        # queues are empty, sleeps this long before it looks again (kombu's default is 1 s,
        # which capped the worker near one task per second). Each look is one directory listing.
        "polling_interval": env.float("CELERY_FILESYSTEM_POLLING_INTERVAL", default=0.05),
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 3600,
        # A worker serving several queues takes them in the order given (urgent, scheduled, bulk),
        # not round robin.
        "queue_order_strategy": "priority",
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing happens in request threads (after commit): with the broker down it
# must give up quickly; the outbox rows stay pending and the sweeper sends them.
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
# The base of the queue names (kneerehab.urgent, kneerehab.scheduled, kneerehab.bulk; see kneerehab/celery.py).
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="kneerehab")
# Each queue with an exchange and routing key of its own name, as Celery creates them for a routed queue.
CELERY_TASK_QUEUES = [
    Queue(name, Exchange(name), routing_key=name)
    for name in [f"{CELERY_TASK_DEFAULT_QUEUE}.{kind}" for kind in ("urgent", "scheduled", "bulk")]
    # The one queue of every task before the split; the bulk worker drains what is left in it.
    + [CELERY_TASK_DEFAULT_QUEUE]
]
CELERY_TASK_ROUTES = ("kneerehab.celery.route_task",)
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
if FILESYSTEM_BROKER:
    # The filesystem transport deletes a message file when a worker takes it, so late
    # acknowledgement cannot bring a message back after a crash; it would only keep the
    # prefetch window full while tasks run. Acknowledge on start and let a worker hold a few
    # messages ahead. What a lost message leaves undone, the rows redo: a delivery stays
    # pending for the outbox sweeper, a reminder claim expires, a progression stays due.
    CELERY_TASK_ACKS_LATE = False
    CELERY_WORKER_PREFETCH_MULTIPLIER = env.int("CELERY_WORKER_PREFETCH_MULTIPLIER", default=8)
else:
    # Redis hands an unacknowledged message out again (after the visibility timeout), so a
    # task a killed worker was running is redone; one message ahead per process keeps a
    # long bulk task from holding back the queue behind it.
    CELERY_TASK_ACKS_LATE = True
    CELERY_WORKER_PREFETCH_MULTIPLIER = env.int("CELERY_WORKER_PREFETCH_MULTIPLIER", default=1)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# --- Cache ----------------------------------------------------------------
# Rate-limit counters live here, so every web process must share it (one per process would let each
# allow the whole limit): CACHE_URL names one (e.g. redis://host:6379/1); otherwise a Redis broker's
# server serves, under its own key prefix; the embedded mode keeps one per process, in memory.
if env("CACHE_URL", default=""):
    CACHES = {"default": env.cache_url("CACHE_URL")}
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CELERY_BROKER_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CACHES["default"].setdefault("KEY_PREFIX", "kneerehab-cache")
if CACHES["default"]["BACKEND"].endswith("RedisCache"):
    # A cache that stops answering must not hold requests (the throttles then let them through).
    CACHES["default"].setdefault("OPTIONS", {}).update({"socket_connect_timeout": 1, "socket_timeout": 1})

# How long /healthz waits for the broker before reporting it down.
BROKER_HEALTH_TIMEOUT_SECONDS = env.float("BROKER_HEALTH_TIMEOUT_SECONDS", default=2.0)
# /healthz says "degraded" when the newest worker heartbeat (beat sends one a minute) or beat's last
# run is older than these, or when an urgent email or push has been waiting longer than the last.
HEALTH_WORKER_MAX_AGE_SECONDS = env.int("HEALTH_WORKER_MAX_AGE_SECONDS", default=180)
HEALTH_BEAT_MAX_AGE_SECONDS = env.int("HEALTH_BEAT_MAX_AGE_SECONDS", default=180)
HEALTH_URGENT_DELIVERY_MAX_AGE_SECONDS = env.int("HEALTH_URGENT_DELIVERY_MAX_AGE_SECONDS", default=120)
# Beat saves each periodic task's last run as soon as it sends it (not every 3 minutes), so /healthz
# can tell when beat last ran.
CELERY_BEAT_SYNC_EVERY = 1
# /healthz names the failing part, the broker's transport and the last worker heartbeat to staff only,
# unless this is on (for a monitoring probe that cannot sign in, on a private network).
HEALTHZ_DETAILS = env.bool("HEALTHZ_DETAILS", default=False)
# Periodic work; beat (DatabaseScheduler) stores these rows and triggers them.
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {
        "task": "kneerehab.ops.tasks.record_worker_heartbeat",
        "schedule": env.float("HEARTBEAT_INTERVAL_SECONDS", default=60.0),
    },
    "notification-outbox": {
        "task": "kneerehab.notifications.tasks.sweep_notification_outbox",
        "schedule": env.float("NOTIFICATION_SWEEP_INTERVAL_SECONDS", default=60.0),
    },
    "reminder-dispatch": {
        "task": "plans.tasks.dispatch_reminders",
        "schedule": env.float("REMINDER_DISPATCH_INTERVAL_SECONDS", default=60.0),
    },
    "alert-escalation": {
        "task": "tracker.tasks.escalate_overdue_alerts",
        "schedule": 60.0,
    },
    "progression-sweep": {
        "task": "plans.tasks.evaluate_due_progressions",
        "schedule": env.float("PROGRESSION_SWEEP_INTERVAL_SECONDS", default=15.0),
        # A sweep still waiting when the next is sent is dropped: one catches up with all that is due.
        "options": {"expires": env.float("PROGRESSION_SWEEP_INTERVAL_SECONDS", default=15.0)},
    },
}

# --- Audit ----------------------------------------------------------------
# Requests to these paths touch a patient's health data and are recorded.
# Their responses also carry Cache-Control: no-store (kneerehab.middleware.NoStoreHealthDataMiddleware).
AUDIT_PATH_PATTERNS = [
    # Notifications quote check-ins and alerts (a physiotherapist's inbox names the patient).
    r"^/api/v1/(checkins|exercise-logs|plans|progress|patients|alerts|today|plan-exercise-media|calendar-feed|"
    r"calendar|notifications)(/|$)",
    r"^/api/v1/me/(export|erase)/",
    # The browser pages that show or change the same data.
    r"^/(caseload|patients|plans|alerts|today|checkin|checkins|progress|calendar|inbox)(/|$)",
    # The admin's pages of the same data (lists and change pages of accounts, plans, tracker, notifications).
    r"^/admin/(users|plans|tracker|notifications)/",
]

# --- Notifications ------------------------------------------------------
PUSH_BACKEND = env("PUSH_BACKEND", default="kneerehab.notifications.channels.RecordingPushBackend")
NOTIFICATION_MAX_ATTEMPTS = env.int("NOTIFICATION_MAX_ATTEMPTS", default=6)
# A delivery queued for a worker is left to that message this long before the outbox sweeper queues it again.
NOTIFICATION_REQUEUE_AFTER_SECONDS = env.int("NOTIFICATION_REQUEUE_AFTER_SECONDS", default=180)

# --- Alerts (tracker) --------------------------------------------------------
# An urgent or emergency alert nobody acknowledged for this long is escalated to the physiotherapist and staff.
ALERT_ESCALATION_MINUTES = env.int("ALERT_ESCALATION_MINUTES", default=120)

# --- Progression (plans) ------------------------------------------------------
# A check-in or log asks for its plan to be re-evaluated this long afterwards; the records that arrive
# meanwhile are covered by the same evaluation (one pending per plan).
PROGRESSION_DEBOUNCE_SECONDS = env.int("PROGRESSION_DEBOUNCE_SECONDS", default=30)

# --- Reminders (plans.reminders) --------------------------------------------
# A slot missed by less than this (the service was down) is still sent; an older one is skipped.
REMINDER_MISSED_WINDOW_MINUTES = env.int("REMINDER_MISSED_WINDOW_MINUTES", default=120)
# Rows claimed per database round trip by the dispatcher, and handed to one send task as a batch.
REMINDER_DISPATCH_BATCH_SIZE = env.int("REMINDER_DISPATCH_BATCH_SIZE", default=1000)
# A claimed row whose send task never finished (worker died) is taken again after this.
REMINDER_CLAIM_LEASE_MINUTES = env.int("REMINDER_CLAIM_LEASE_MINUTES", default=10)
# A row whose sending keeps raising is marked failed after this many tries.
REMINDER_MAX_ATTEMPTS = env.int("REMINDER_MAX_ATTEMPTS", default=5)

# --- Email ----------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="kneerehab <no-reply@kneerehab.local>")
if env("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))

# --- Security when not debugging ------------------------------------------
# Production sits behind a TLS-terminating proxy. With DEBUG off every HTTPS
# switch is on; HTTPS=0 turns them all off for a plain-HTTP local run (make run),
# and each can still be set on its own.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Database sessions that refuse a malformed cookie before any query (kneerehab/users/session_store.py).
SESSION_ENGINE = "kneerehab.users.session_store"
# A browser session ends after this long without a request, and this long after sign-in whatever the
# activity (kneerehab.users.sessions); the cookie itself lives no longer than the maximum.
SESSION_IDLE_TIMEOUT_SECONDS = env.int("SESSION_IDLE_MINUTES", default=30) * 60
SESSION_MAX_AGE_SECONDS = env.int("SESSION_MAX_HOURS", default=12) * 60 * 60
SESSION_COOKIE_AGE = SESSION_MAX_AGE_SECONDS
HTTPS = env.bool("HTTPS", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=HTTPS)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=HTTPS)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=HTTPS)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=HTTPS)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=HTTPS)
# Load balancers probe over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# --- Logging --------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
