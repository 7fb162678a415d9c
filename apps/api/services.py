"""Registering agency applications and rotating their secrets (the secret is shown once)."""

from __future__ import annotations

from django.db import transaction
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import get_application_model

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


@transaction.atomic
def application_rotate_secret(*, agency: AgencyApplication, by=None) -> str:
    """A new secret replaces the old one at once, and the client's live tokens are revoked."""
    from oauth2_provider.models import get_access_token_model

    secret = generate_client_secret()
    client = agency.application
    client.client_secret = secret
    client.save(update_fields=["client_secret"])
    get_access_token_model().objects.filter(application=client).delete()
    agency.secret_rotated_at = clock.now()
    agency.save(update_fields=["secret_rotated_at"])
    _audit_admin(
        action="application.rotate_secret",
        actor=by,
        department=agency.department,
        target=f"application:{client.client_id}",
        details={},
    )
    return secret
