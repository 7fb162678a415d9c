"""drf-spectacular extensions: our authenticators appear as OAuth2 client credentials and the
session cookie in the OpenAPI document."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApplicationAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "apps.api.auth.ApplicationAuthentication"
    name = "agencyOAuth2"

    def get_security_definition(self, auto_schema):
        return {
            "type": "oauth2",
            "flows": {
                "clientCredentials": {
                    "tokenUrl": "/oauth/token/",
                    "scopes": {"read": "Read", "requests": "Submit data requests"},
                }
            },
        }


class SessionAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "apps.api.auth.CsrfSessionAuthentication"
    name = "browserSession"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}
