"""django-oauth-toolkit's request validator, bound to the registry of agency applications.

The token endpoint (POST /oauth/token/) is the toolkit's; this validator decides three things
the toolkit leaves open (settings OAUTH2_PROVIDER["OAUTH2_VALIDATOR_CLASS"]):

- a disabled agency application is a refused client (`invalid_client`), exactly like a wrong
  secret, and nothing is stored for it;
- a token holds a subset of the scopes its application was registered with
  (AgencyApplication.allowed_scopes), each once; asking for none gives all of them. The
  toolkit alone checks requested scopes against the global SCOPES only;
- a token is stored only while the secret it was obtained with is still the client's secret,
  checked under the client row's lock (see apps.api.services.application_rotate_secret).
"""

from __future__ import annotations

import logging

from django.db import router, transaction
from oauth2_provider.models import get_access_token_model, get_application_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.scopes import get_scopes_backend
from oauthlib.oauth2.rfc6749 import errors

from apps.api.models import AgencyApplication

log = logging.getLogger(__name__)


def _agency_active(client_pk: int, using: str) -> bool:
    """False for a disabled agency application only: a client outside the registry has no
    agency row; it gets no scopes (AgencyOAuth2Validator._registered_scopes), and the API
    refuses its tokens on use (apps.api.auth)."""
    active = (
        AgencyApplication.objects.using(using)
        .filter(application_id=client_pk)
        .values_list("is_active", flat=True)
        .first()
    )
    return active is not False


class ClientRefused(errors.InvalidClientError):
    """invalid_client raised while the token is being stored. oauthlib adds its JSON and
    no-store headers only to errors raised while validating the request; this one carries them
    itself, so that the answer is the same as to a wrong secret."""

    @property
    def headers(self) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "Cache-Control": "no-store",
            "Pragma": "no-cache",
            **super().headers,
        }


class AgencyOAuth2Validator(OAuth2Validator):
    def authenticate_client(self, request, *args, **kwargs) -> bool:
        if not super().authenticate_client(request, *args, **kwargs):
            return False
        # After the secret check, so that a caller without the secret cannot tell a disabled
        # application from a wrong secret: both are the same invalid_client.
        agency = AgencyApplication.objects.filter(application_id=request.client.pk).first()
        if agency is not None and not agency.is_active:
            log.debug("Refused client %s: its agency application is disabled", request.client_id)
            return False
        request.govdata_agency = agency
        # The hash this request's secret was checked against: save_bearer_token stores the token
        # only if it is still the client's (a rotation may commit in between).
        request.govdata_secret_hash = request.client.client_secret
        return True

    def get_default_scopes(self, client_id, request, *args, **kwargs) -> list[str]:
        # The contract's token request names no scope: the token gets everything the
        # application was registered with, not the platform-wide DEFAULT_SCOPES.
        return self._registered_scopes(request)

    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs) -> bool:
        registered = self._registered_scopes(request)
        asked = {scope for scope in scopes if scope}  # "scope=" or doubled spaces name nothing
        if not asked:
            asked = set(registered)
        if not asked <= set(registered):
            return False
        # oauthlib writes the token's scope from request.scopes: each scope once, in a fixed order.
        request.scopes = [scope for scope in registered if scope in asked]
        return True

    def _registered_scopes(self, request) -> list[str]:
        """The application's registered scopes that the platform still defines; none for a
        client that did not authenticate through authenticate_client (fails closed)."""
        agency = getattr(request, "govdata_agency", None)
        if agency is None:
            return []
        defined = get_scopes_backend().get_all_scopes()
        return [scope for scope in agency.registered_scopes() if scope in defined]

    def save_bearer_token(self, token, request, *args, **kwargs):
        """Store the token only if, with the client row locked, the secret hash this request
        authenticated against is still the client's and its agency application is active.

        A rotation (or a disable) takes the same row lock first and deletes the client's tokens
        after it. Under READ COMMITTED either this transaction locks first, and its token is
        committed before the rotation's DELETE statement takes its snapshot (so it is deleted),
        or it waits for the rotation to commit, and the locking read then returns the new hash
        (refused here). Without the lock a token checked against the old secret could be
        inserted after the DELETE and outlive the rotation."""
        using = router.db_for_write(get_access_token_model())
        with transaction.atomic(using=using):
            current = (
                get_application_model()
                .objects.using(using)
                .select_for_update()
                .filter(pk=request.client.pk)
                .values_list("client_secret", flat=True)
                .first()
            )
            authenticated = getattr(request, "govdata_secret_hash", None)
            if current is None or authenticated is None or current != authenticated:
                log.debug("Refused client %s: its secret changed", request.client_id)
                raise ClientRefused(request=request)
            # A statement of its own, after the lock: under READ COMMITTED it sees a disable
            # that committed while this request waited for the lock (the locking read above,
            # joined to the agency row, would return that row as it was before the wait).
            if not _agency_active(request.client.pk, using):
                log.debug(
                    "Refused client %s: its agency application is disabled", request.client_id
                )
                raise ClientRefused(request=request)
            return self._save_bearer_token(token, request, *args, **kwargs)
