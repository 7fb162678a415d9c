"""Behind a TLS-terminating reverse proxy. `manage.py check --deploy` is clean with these.

Secrets come only from the environment or from files named by `<NAME>_FILE` (config.env):
SECRET_KEY, GOVDATA_HASH_MASK_KEY, GOVDATA_CREDENTIALS_KEY, DATABASE_URL, DATABASE_REPLICA_URL,
REDIS_URL. See docs/deployment.md.
"""

from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_str
from config.settings.base import *  # noqa: F403

DEBUG = False

# No built-in fallback for the key that signs sessions and CSRF tokens in production.
SECRET_KEY = env_str("SECRET_KEY")
if len(SECRET_KEY) < 50 or SECRET_KEY.startswith(("dev-only", "django-insecure")):
    raise ImproperlyConfigured(
        "Set SECRET_KEY (or SECRET_KEY_FILE) to a random value of at least 50 characters."
    )
GOVDATA = {  # noqa: F405
    **GOVDATA,  # noqa: F405
    "HASH_MASK_KEY": env_str("GOVDATA_HASH_MASK_KEY", SECRET_KEY),
}

# TLS ends at the proxy, which must set X-Forwarded-Proto itself (overwriting the client's).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]  # probes talk plain HTTP to each node
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = True
GOVDATA_TRUSTED_PROXY_COUNT = env_int("GOVDATA_TRUSTED_PROXY_COUNT", 1)
CONTENT_SECURITY_POLICY = {  # noqa: F405
    "DIRECTIVES": {
        **CONTENT_SECURITY_POLICY["DIRECTIVES"],  # noqa: F405
        "upgrade-insecure-requests": True,
    }
}
