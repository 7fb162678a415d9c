"""The application admin names scopes in words and filters by the viewer's departments."""

from __future__ import annotations

from django.urls import reverse

from apps.api.models import AgencyApplication
from apps.api.services import application_create


def test_scopes_are_shown_by_their_labels_not_codes(world, client):
    agency, _secret = application_create(department=world.provider, name="核验", scopes="read")
    client.force_login(world.provider_officer)
    read = str(AgencyApplication.Scope.READ.label)
    listing = client.get(reverse("admin:api_agencyapplication_changelist")).content.decode()
    page = client.get(
        reverse("admin:api_agencyapplication_change", args=[agency.pk])
    ).content.decode()
    assert read in listing and read in page
    assert "Space-separated" not in page


def test_department_filter_offers_the_viewers_departments_only(world, client):
    application_create(department=world.provider, name="a")
    application_create(department=world.consumer, name="b")
    client.force_login(world.provider_officer)
    listing = client.get(reverse("admin:api_agencyapplication_changelist")).content.decode()
    assert world.provider.name in listing and world.consumer.name not in listing
