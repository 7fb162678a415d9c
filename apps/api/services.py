"""Registering agency applications, rotating their secrets (the secret is shown once), disabling
and enabling them."""

from __future__ import annotations

from django.db import transaction
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import get_access_token_model, get_application_model

from apps.api.models import AgencyApplication
from apps.common import clock


def _audit_admin(**kwargs) -> None:
    from apps.audit.services import audit_record_admin

    audit_record_admin(**kwargs)


@transaction.atomic
def application_create(
    *, department, name: str, by=None, scopes: str = "read"
) -> tuple[AgencyApplication, str]:
    """Create the OAuth2 client and its department link; returns the raw secret, which is
    stored hashed and cannot be shown again."""
    Application = get_application_model()
    secret = generate_client_secret()
    client = Application(
        name=name,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=secret,
        hash_client_secret=True,
        skip_authorization=True,
    )
    client.full_clean(exclude=["user", "client_secret"])
    client.save()
    agency = AgencyApplication.objects.create(
        application=client,
        department=department,
        allowed_scopes=scopes,
        created_by=by,
        secret_rotated_at=clock.now(),
    )
    _audit_admin(
        action="application.create",
        actor=by,
        department=department,
        target=f"application:{client.client_id}",
        details={"name": name, "scopes": scopes},
    )
    return agency, secret


def _client_tokens_revoke(client) -> None:
    """Delete the client's tokens. Run only with the client row locked (updated or selected for
    update in this transaction): under READ COMMITTED this statement's snapshot then includes
    every token the token endpoint stored under that lock before us, and any later request
    waits for our commit and re-checks the client there (apps.api.oauth_validator)."""
    get_access_token_model().objects.filter(application=client).delete()


@transaction.atomic
def application_rotate_secret(*, agency: AgencyApplication, by=None) -> str:
    """A new secret replaces the old one at once, and the client's live tokens are revoked:
    after this returns, no token obtained with the old secret works, including one whose
    request was being answered while the rotation ran."""
    secret = generate_client_secret()
    client = agency.application
    client.client_secret = secret
    # First statement: the UPDATE takes the client row's lock that the token endpoint takes to
    # store a token, so the tokens are deleted only after every request that may still store
    # one for the old secret has either committed or will find the new secret.
    client.save(update_fields=["client_secret"])
    # Later than the creation of every token obtained with the old secret (those committed
    # before the lock was ours): the token check (apps.api.auth) refuses anything older.
    agency.secret_rotated_at = clock.now()
    _client_tokens_revoke(client)
    agency.save(update_fields=["secret_rotated_at"])
    _audit_admin(
        action="application.rotate_secret",
        actor=by,
        department=agency.department,
        target=f"application:{client.client_id}",
        details={},
    )
    return secret


@transaction.atomic
def application_set_active(
    *, agency: AgencyApplication, is_active: bool, by=None
) -> AgencyApplication:
    """Disable an application (incident response) or enable it again. A disabled application
    is refused at the token endpoint (invalid_client) and its tokens on use; disabling also
    revokes its live tokens, so that enabling it again does not bring back tokens from before
    the incident (the client asks for new ones with its secret). No change, no audit event."""
    client = agency.application
    # The client row's lock first, as the token endpoint and the rotation take it: a token
    # request answered meanwhile is either deleted below or refused (apps.api.oauth_validator).
    get_application_model().objects.select_for_update().filter(pk=client.pk).values_list(
        "pk", flat=True
    ).first()
    changed = (
        AgencyApplication.objects.filter(pk=agency.pk)
        .exclude(is_active=is_active)
        .update(is_active=is_active)
    )
    agency.is_active = is_active
    if not changed:
        return agency
    if not is_active:
        _client_tokens_revoke(client)
    _audit_admin(
        action="application.enable" if is_active else "application.disable",
        actor=by,
        department=agency.department,
        target=f"application:{client.client_id}",
        details={},
    )
    return agency
