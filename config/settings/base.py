"""Settings shared by every environment. Values that differ per deployment come from config.env."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from config import services
from config.env import env_bool, env_int, env_list, env_pg_memory, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = services.VAR_DIR

SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-key-change-me-0123456789abcdefghijklmnop")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list(
    "CSRF_TRUSTED_ORIGINS", "http://127.0.0.1:8000,http://localhost:8000"
)

INSTALLED_APPS = [
    "apps.common",  # first: its templates override the admin's
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "oauth2_provider",
    "guardian",
    "django_celery_beat",
    "pgtrigger",
    "apps.departments",
    "apps.catalog",
    "apps.records",
    "apps.sharing",
    "apps.objections",
    "apps.sync",
    "apps.audit",
    "apps.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "apps.common.middleware.RequestIdMiddleware",
    "apps.api.errors.ApiErrorsMiddleware",
    "apps.common.dbfailure.DatabaseUnavailableMiddleware",
    "apps.common.dbfailure.NulCharacterMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "apps.common.middleware.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "django.template.context_processors.i18n",
            ],
        },
    }
]

if not env_str("DATABASE_URL") or not env_str("REDIS_URL"):
    services.resolve_all()

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL"), conn_max_age=env_int("DB_CONN_MAX_AGE", 60)
    )
}
DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_DATABASE_NAME", "test_govdata")}
DATABASES["default"]["OPTIONS"] = {"application_name": "govdata"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "admin:login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024

# --- Redis / Celery -------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 2 * 3600)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
# The visibility timeout must exceed the longest task, or Redis redelivers a running sync.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 600}
CELERY_TASK_TRACK_STARTED = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "govdata")

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "govdata",
    }
}

# --- REST framework / OpenAPI / OAuth2 -------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "oauth2_provider.contrib.rest_framework.OAuth2Authentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["apps.common.renderers.ORJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["apps.common.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.common.problems.problem_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_RATES": {"application": env_str("API_THROTTLE_RATE", "6000/min")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "GovData Exchange API",
    "DESCRIPTION": "Agency API contract, version 1.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.api.schema.postprocess_record_parameters",
        "apps.common.openapi.postprocess_problems",
    ],
}
OAUTH2_PROVIDER = {
    "ACCESS_TOKEN_EXPIRE_SECONDS": env_int("OAUTH_TOKEN_SECONDS", 3600),
    "SCOPES": {
        "read": _("Read the catalogue and granted records"),
        "requests": _("Submit data requests"),
    },
    # Not used by the token endpoint: the validator below gives a token without `scope` all of
    # its application's registered scopes, and never one the application was not registered with.
    "DEFAULT_SCOPES": ["read"],
    "PKCE_REQUIRED": False,
    # Disabled applications are refused clients, scopes are per application, and a token is
    # stored only while the secret it was obtained with is still the client's.
    "OAUTH2_VALIDATOR_CLASS": "apps.api.oauth_validator.AgencyOAuth2Validator",
}

# --- Domain --------------------------------------------------------------------------------
GOVDATA = {
    "REQUEST_ANSWER_WORKING_DAYS": 10,
    "REMINDER_WORKING_DAYS_BEFORE": 2,
    # Limits of a data request (apps.sharing.submission.request_submit): its end date at most
    # this many days ahead (1096: three years), its purpose and its legal basis at most this
    # many characters each.
    "REQUEST_MAX_VALIDITY_DAYS": env_int("GOVDATA_REQUEST_MAX_VALIDITY_DAYS", 1096),
    "REQUEST_TEXT_MAX_CHARS": env_int("GOVDATA_REQUEST_TEXT_MAX_CHARS", 2000),
    "HASH_MASK_KEY": env_str("GOVDATA_HASH_MASK_KEY", SECRET_KEY),
    "CREDENTIALS_KEY": env_str("GOVDATA_CREDENTIALS_KEY", ""),
    "AUDIT_SIGNING_KEY_FILE": env_str(
        "GOVDATA_AUDIT_SIGNING_KEY_FILE", str(VAR_DIR / "audit-ed25519.pem")
    ),
    "UPLOAD_MAX_BYTES": env_int("GOVDATA_UPLOAD_MAX_BYTES", 512 * 1024 * 1024),
    # Off behind a pooler in transaction mode (docs/deployment.md, apps/common/prepared.py).
    "PREPARED_STATEMENTS": env_bool("GOVDATA_PREPARED_STATEMENTS", True),
    # A large unordered export is read over this many connections at once, one snapshot
    # (apps/api/export.py); 1 reads every export over the request's own connection.
    "EXPORT_CONNECTIONS": env_int("GOVDATA_EXPORT_CONNECTIONS", 2),
    "EXPORT_PARALLEL_MIN_PAGES": env_int("GOVDATA_EXPORT_PARALLEL_MIN_PAGES", 1024),  # 8 MiB
    # work_mem of the statement counting what a full sync run changes (apps/records/store.py
    # full_diff_counts); PostgreSQL may use up to 2 x 3 times this (hash_mem_multiplier,
    # parallel workers) for that one statement. Empty: the server's own setting.
    "SYNC_COMPARE_WORK_MEM": env_pg_memory("GOVDATA_SYNC_COMPARE_WORK_MEM", "64MB"),
    # Where database and HTTP sources may be: networks (CIDR) and host names, ".gov.example"
    # for a whole domain; empty allows any host. The platform's own database is always refused
    # (govdata/connectors/hosts.py). Set it in production to the departments' networks.
    "SYNC_SOURCE_HOSTS": env_list("GOVDATA_SYNC_SOURCE_HOSTS"),
    # Uploaded source files hold personal data: deleted after this many days, except the file
    # of each configuration's latest successful run (apps.sync.services.sync_uploads_purge).
    "SYNC_UPLOAD_RETENTION_DAYS": env_int("GOVDATA_SYNC_UPLOAD_RETENTION_DAYS", 30),
}

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "govdata@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = int(timedelta(hours=8).total_seconds())
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
from config.settings.schedule import CELERY_BEAT_SCHEDULE  # noqa: E402,F401
from config.settings.security import *  # noqa: E402,F401,F403 - security layer, see that module
