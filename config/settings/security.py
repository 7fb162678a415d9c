"""Security layer: brute-force lockout, TOTP second factor, content security policy, read replica.

Imported by the last line of base.py, so every environment gets it. The names below are read from
base.py's module while it is still being executed (Python allows importing names that are already
bound), then extended and re-exported, so test.py and production.py see the extended values.
"""

from __future__ import annotations

from datetime import timedelta as _timedelta

import dj_database_url as _dj_database_url
from csp.constants import NONCE as _NONCE
from csp.constants import NONE as _NONE
from csp.constants import SELF as _SELF

from config.env import env_bool as _env_bool
from config.env import env_int as _env_int
from config.env import env_str as _env_str
from config.settings.base import (
    AUTHENTICATION_BACKENDS,
    DATABASES,
    GOVDATA,
    INSTALLED_APPS,
    MIDDLEWARE,
    OAUTH2_PROVIDER,
    SPECTACULAR_SETTINGS,
)

# --- Apps -----------------------------------------------------------------------------------
# Our AdminConfig swaps the default admin site for one that asks officers for a TOTP code; every
# app keeps registering on `django.contrib.admin.site` as usual.
# The third-party apps shown in the admin get our names for them and their models, in the
# user's language (apps.common.admin_apps).
_OUR_CONFIGS = {
    "django.contrib.admin": "apps.common.admin_apps.GovDataAdminConfig",
    "oauth2_provider": "apps.common.admin_apps.GovDataOAuthConfig",
}
INSTALLED_APPS = [_OUR_CONFIGS.get(app, app) for app in INSTALLED_APPS]
INSTALLED_APPS += [
    "apps.common.admin_apps.GovDataAxesConfig",
    "django_otp",
    "apps.common.admin_apps.GovDataTOTPConfig",
    "csp",
    "drf_spectacular_sidecar",
]


def _insert_after(items: list[str], anchor: str, new: str) -> list[str]:
    index = items.index(anchor) + 1
    return [*items[:index], new, *items[index:]]


MIDDLEWARE = _insert_after(
    MIDDLEWARE, "django.middleware.security.SecurityMiddleware", "csp.middleware.CSPMiddleware"
)
MIDDLEWARE = _insert_after(
    MIDDLEWARE, "csp.middleware.CSPMiddleware", "apps.common.security.SecurityHeadersMiddleware"
)
MIDDLEWARE = _insert_after(
    MIDDLEWARE,
    "apps.common.security.SecurityHeadersMiddleware",
    "apps.common.security.ClientCertificateMiddleware",
)
# After authentication, so request.user gains is_verified() from the OTP device in the session.
MIDDLEWARE = _insert_after(
    MIDDLEWARE,
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
)
MIDDLEWARE = [*MIDDLEWARE, "axes.middleware.AxesMiddleware"]  # last, as axes requires

# --- Brute-force protection (django-axes) ----------------------------------------------------
# The axes backend refuses locked-out credentials before ModelBackend checks the password.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", *AUTHENTICATION_BACKENDS]
AXES_ENABLED = _env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = _env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = _timedelta(minutes=_env_int("AXES_COOLOFF_MINUTES", 30))
# Per username and address: an attacker elsewhere cannot lock an officer out of their own desk,
# and one address cannot spray passwords over many accounts without each of them counting.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The database handler shares failure counts between web nodes (the cache here is per process).
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_CLIENT_IP_CALLABLE = "apps.common.security.client_ip"
AXES_LOCKOUT_TEMPLATE = "common/lockout.html"
AXES_VERBOSE = False
# Masked in the stored attempts' POST data (the password always is): axes' defaults, and the
# admin login's one-time code (apps.common.admin_site.OTPAdminAuthenticationForm.otp_token).
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "otp_token"]
# Number of trusted reverse proxies in front of the web nodes (0 = clients connect directly).
# The client address is taken from X-Forwarded-For only this many hops back, never further.
GOVDATA_TRUSTED_PROXY_COUNT = _env_int("GOVDATA_TRUSTED_PROXY_COUNT", 0)
# mTLS ends at the proxy, which passes the verified certificate's subject in X-SSL-Client-S-DN
# and the verdict in X-SSL-Client-Verify; only trust them when our proxy always sets them.
GOVDATA_MTLS_PROXY_HEADERS = _env_bool("GOVDATA_MTLS_PROXY_HEADERS", False)

# --- Second factor (django-otp TOTP) -----------------------------------------------------------
GOVDATA = {**GOVDATA, "REQUIRE_OTP": _env_bool("GOVDATA_REQUIRE_OTP", True)}
OTP_TOTP_ISSUER = _env_str("OTP_TOTP_ISSUER", "GovData Exchange")
OTP_TOTP_THROTTLE_FACTOR = 1  # each wrong code doubles the wait before the next one is checked

# --- Content security policy (django-csp 4) ---------------------------------------------------
# No inline code except elements carrying the per-response nonce (our Swagger UI template sets it);
# Swagger UI and Redoc are served from our own static files (drf-spectacular-sidecar), no CDN.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [_SELF],
        "script-src": [_SELF, _NONCE],
        "style-src": [_SELF, _NONCE],
        "img-src": [_SELF, "data:"],
        "font-src": [_SELF, "data:"],
        "connect-src": [_SELF],
        "object-src": [_NONE],
        "base-uri": [_SELF],
        "form-action": [_SELF],
        "frame-ancestors": [_NONE],
    }
}
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
SPECTACULAR_SETTINGS = {
    **SPECTACULAR_SETTINGS,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- OAuth2 hardening (RFC 9700, django-oauth-toolkit's deploy checks) ------------------------
# Agencies use client credentials only; the browser flows below stay off or strict. Tokens are
# stored as SHA-256 checksums, so a database dump does not leak usable bearer tokens.
_RFC9700_GATES = [
    "IMPLICIT_GRANT",
    "PASSWORD_GRANT",
    "PKCE_METHOD",
    "ACCESS_TOKEN_TRANSPORT",
    "AUTHZ_RESPONSE_ISS",
    "TOKEN_STORAGE",
    "REFRESH_TOKEN",
    "REDIRECT_URI_SCHEME",
    "REDIRECT_URI_MATCHING",
    "PKCE_REQUIRED",
]
OAUTH2_PROVIDER = {
    **OAUTH2_PROVIDER,
    **dict.fromkeys([f"COMPLIANT_BCP_RFC9700_{gate}" for gate in _RFC9700_GATES], True),
    **dict.fromkeys(["REFRESH_TOKEN_REUSE_PROTECTION", "PKCE_REQUIRED"], True),
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
}

# --- Read replica -----------------------------------------------------------------------------
# Only reads that ask for it (config.routers.use_replica) go there; without the variable the
# alias does not exist and those reads stay on the primary.
DATABASE_REPLICA_URL = _env_str("DATABASE_REPLICA_URL")
if DATABASE_REPLICA_URL:
    DATABASES = {
        **DATABASES,
        "replica": {
            **_dj_database_url.parse(
                DATABASE_REPLICA_URL, conn_max_age=_env_int("DB_CONN_MAX_AGE", 60)
            ),
            "OPTIONS": {"application_name": "govdata-replica"},
            "TEST": {"MIRROR": "default"},
        },
    }
DATABASE_ROUTERS = ["config.routers.ReplicaRouter"]
