"""Officers register, rotate, disable and enable their own department's applications; the secret
shows once. Changes are posted as the rendered page would send them."""

from __future__ import annotations

from html.parser import HTMLParser

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


class _FormInputs(HTMLParser):
    """What a browser would send from the form with id `form_id`: named inputs (checked boxes
    only), selects and text areas, and the first submit button named `submit`."""

    def __init__(self, form_id: str, submit: str) -> None:
        super().__init__()
        self.form_id, self.submit = form_id, submit
        self.inside = False
        self.data: list[tuple[str, str]] = []
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside or "disabled" in a:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.data.append((name, a.get("value") or "on"))
            elif kind == "submit":
                if name == self.submit:
                    self.data.append((name, a.get("value", "")))
            elif kind not in ("button", "file", "reset", "image"):
                self.data.append((name, a.get("value", "")))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.data.append((self._select, a.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea = name
            self.data.append((name, ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            name, text = self.data[-1]
            self.data[-1] = (name, text + data)


def _rendered_form(client, url: str) -> list[tuple[str, str]]:
    page = client.get(url)
    assert page.status_code == 200
    parser = _FormInputs("agencyapplication_form", submit="_save")
    parser.feed(page.content.decode())
    assert parser.data, "no form on the page"
    return parser.data


def _as_post(data: list[tuple[str, str]]) -> dict[str, list[str]]:
    post: dict[str, list[str]] = {}
    for name, value in data:
        post.setdefault(name, []).append(value)
    return post


def test_officer_disables_and_enables_an_application_from_its_change_page(world, client):
    from datetime import timedelta

    from apps.api.services import application_create
    from apps.audit.models import AuditEvent
    from apps.common import clock

    agency, _secret = application_create(department=world.provider, name="人口核验系统")
    AccessToken.objects.create(
        application=agency.application, token="t-live", expires=clock.now() + timedelta(hours=1)
    )
    officer = world.provider_officer
    client.force_login(officer)
    url = reverse("admin:api_agencyapplication_change", args=[agency.pk])

    rendered = _rendered_form(client, url)
    assert ("is_active", "on") in rendered
    unticked = [(name, value) for name, value in rendered if name != "is_active"]
    response = client.post(url, _as_post(unticked))
    assert response.status_code == 302, _messages(response) or response.content.decode()[:2000]
    agency.refresh_from_db()
    assert not agency.is_active
    assert not AccessToken.objects.filter(application=agency.application).exists()

    rendered = _rendered_form(client, url)
    assert not [name for name, _value in rendered if name == "is_active"]
    response = client.post(url, _as_post([*rendered, ("is_active", "on")]))
    assert response.status_code == 302
    agency.refresh_from_db()
    assert agency.is_active
    events = AuditEvent.objects.filter(action__startswith="application.").order_by("seq")
    assert [(e.action, e.target, e.user_id) for e in events] == [
        ("application.create", f"application:{agency.application.client_id}", None),
        ("application.disable", f"application:{agency.application.client_id}", officer.pk),
        ("application.enable", f"application:{agency.application.client_id}", officer.pk),
    ]


def test_saving_the_change_page_unchanged_changes_nothing(world, client):
    from apps.api.services import application_create
    from apps.audit.models import AuditEvent

    agency, _secret = application_create(department=world.provider, name="unchanged")
    client.force_login(world.provider_officer)
    url = reverse("admin:api_agencyapplication_change", args=[agency.pk])
    before = AuditEvent.objects.count()
    response = client.post(url, _as_post(_rendered_form(client, url)))
    assert response.status_code == 302
    agency.refresh_from_db()
    assert agency.is_active and agency.allowed_scopes == "read"
    assert AuditEvent.objects.count() == before


def test_applications_are_disabled_never_deleted_in_the_admin(world, client):
    from datetime import timedelta

    from apps.api.services import application_create
    from apps.audit.models import AuditEvent
    from apps.common import clock

    agency, _secret = application_create(department=world.provider, name="泄露的应用")
    AccessToken.objects.create(
        application=agency.application, token="t-leak", expires=clock.now() + timedelta(hours=1)
    )
    client.force_login(world.provider_officer)
    delete = reverse("admin:api_agencyapplication_delete", args=[agency.pk])
    assert client.get(delete).status_code == 403
    changelist = reverse("admin:api_agencyapplication_changelist")
    assert "delete_selected" not in client.get(changelist).content.decode()
    response = client.post(
        changelist, {"action": "disable_selected", "_selected_action": [agency.pk]}, follow=True
    )
    assert response.status_code == 200
    agency.refresh_from_db()
    assert not agency.is_active
    assert not AccessToken.objects.filter(application=agency.application).exists()
    assert AuditEvent.objects.filter(action="application.disable").count() == 1
