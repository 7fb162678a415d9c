import os as _os

from config.settings.base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DEBUG = False

# A queue of this test run's own, so that parallel runs on one Redis never take each other's tasks.
CELERY_TASK_DEFAULT_QUEUE = f"govdata-test-{_os.getpid()}"
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 280
GOVDATA = {**GOVDATA, "HASH_MASK_KEY": "test-hash-key", "CREDENTIALS_KEY": ""}  # noqa: F405
STORAGES = {  # noqa: F405
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / f"test-media-{_os.getpid()}"  # noqa: F405

# Security layer (config/settings/security.py): off by default in tests so that client.login and
# force_login keep working; tests/security switch each on with the `settings` fixture.
AXES_ENABLED = False
GOVDATA = {**GOVDATA, "REQUIRE_OTP": False, "REPLICA_READS": False}  # noqa: F405
# A second alias on the same test database, so the replica router is exercised for real.
DATABASES = {  # noqa: F405
    **DATABASES,  # noqa: F405
    "replica": {
        **DATABASES["default"],  # noqa: F405
        "OPTIONS": {"application_name": "govdata-replica"},
        "TEST": {"MIRROR": "default"},
    },
}

# Assertions read English messages; translation is tested on its own (tests/platform).
LANGUAGE_CODE = "en"
