"""Officers register and rotate their own department's applications; the secret shows once."""

from __future__ import annotations

from django.contrib.messages import get_messages
from django.urls import reverse
from oauth2_provider.models import AccessToken

from apps.api.models import AgencyApplication


def _messages(response) -> str:
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


def test_officer_registers_an_application_and_sees_the_secret_once(world, client):
    client.force_login(world.provider_officer)
    response = client.post(
        reverse("admin:api_agencyapplication_add"),
        {"name": "人口核验系统", "department": world.provider.pk, "scopes": ["read", "requests"]},
        follow=True,
    )
    assert response.status_code == 200
    agency = AgencyApplication.objects.get(application__name="人口核验系统")
    assert agency.department == world.provider and agency.allows("requests")
    shown = _messages(response)
    assert agency.application.client_id in shown
    assert agency.application.client_secret not in shown  # only the hash is stored
    page = client.get(reverse("admin:api_agencyapplication_change", args=[agency.pk]))
    assert page.status_code == 200 and b"client_secret" not in page.content


def test_officer_cannot_register_for_another_department(world, client):
    client.force_login(world.consumer_officer)
    response = client.post(
        reverse("admin:api_agencyapplication_add"),
        {"name": "x", "department": world.provider.pk, "scopes": ["read"]},
    )
    assert response.status_code == 200  # the form comes back with an error
    assert not AgencyApplication.objects.filter(application__name="x").exists()


def test_rotation_replaces_the_secret_and_revokes_tokens(world, client):
    from datetime import timedelta

    from apps.api.services import application_create
    from apps.common import clock

    agency, old = application_create(department=world.provider, name="rot")
    AccessToken.objects.create(
        application=agency.application, token="t-rot", expires=clock.now() + timedelta(hours=1)
    )
    client.force_login(world.provider_officer)
    response = client.post(
        reverse("admin:api_agencyapplication_changelist"),
        {"action": "rotate_secret", "_selected_action": [agency.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert not AccessToken.objects.filter(application=agency.application).exists()
    assert "secret" in _messages(response).lower() or "密钥" in _messages(response)
    other = application_create(department=world.consumer, name="other")[0]
    foreign = client.get(reverse("admin:api_agencyapplication_change", args=[other.pk]))
    assert foreign.status_code != 200
