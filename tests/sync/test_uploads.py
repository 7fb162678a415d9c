"""The officer's sync upload is refused while it arrives when it is over the limit: no temporary
file holds it, nothing is stored, and the form shows the usual "over the limit" message."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.template.defaultfilters import filesizeformat
from django.test import Client
from django.test.client import BOUNDARY, encode_multipart
from django.urls import reverse

from apps.sync.models import SyncConfig, SyncRun
from apps.sync.services import sync_config_set
from apps.sync.uploads import UploadLimitHandler
from tests.factories import UserFactory
from tests.sync.helpers import config_form_data

pytestmark = pytest.mark.django_db

LIMIT = 1000


@pytest.fixture(autouse=True)
def _own_media_root(settings, tmp_path):
    """MEDIA_ROOT is shared by the whole test run: "nothing stored" is checked in one of ours."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def admin_client_(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def small_limit(settings):
    settings.GOVDATA = {**settings.GOVDATA, "UPLOAD_MAX_BYTES": LIMIT}
    return LIMIT


@pytest.fixture
def temp_file_spy(settings, monkeypatch):
    """Sends every upload to Django's temporary-file handler and records what it was given: the
    temporary files it opened and the bytes it wrote into them."""
    settings.FILE_UPLOAD_HANDLERS = ["django.core.files.uploadhandler.TemporaryFileUploadHandler"]
    spy = {"paths": [], "bytes": 0}
    new_file = TemporaryFileUploadHandler.new_file
    receive = TemporaryFileUploadHandler.receive_data_chunk

    def spying_new_file(self, *args, **kwargs):
        new_file(self, *args, **kwargs)
        spy["paths"].append(Path(self.file.temporary_file_path()))

    def spying_receive(self, raw_data, start):
        spy["bytes"] += len(raw_data)
        return receive(self, raw_data, start)

    monkeypatch.setattr(TemporaryFileUploadHandler, "new_file", spying_new_file)
    monkeypatch.setattr(TemporaryFileUploadHandler, "receive_data_chunk", spying_receive)
    return spy


def form_data(world, upload: SimpleUploadedFile) -> dict:
    # The encoding comes after the file in the body: it must survive the refusal.
    return config_form_data(world, upload, encoding="gb18030")


def csv_bytes(size: int) -> bytes:
    header = b"id_number,name\n"
    return header + b"1" * (size - len(header))


def stored_files() -> list[Path]:
    root = Path(django_settings.MEDIA_ROOT) / "sync"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def upload_errors(response) -> list[str]:
    assert response.status_code == 200, response.content[:2000]
    form = response.context["adminform"].form
    return form.errors.get("upload", [])


def over_limit_message(size: int, limit: int) -> str:
    return f"The file is {filesizeformat(size)}, over the limit of {filesizeformat(limit)}."


def test_upload_declared_far_over_the_limit_is_refused_before_any_file_is_opened(
    world, admin_client_, temp_file_spy
):
    limit = django_settings.GOVDATA["UPLOAD_MAX_BYTES"]
    declared = 5 * 1024**3
    upload = SimpleUploadedFile("p.csv", csv_bytes(3000))
    body = encode_multipart(BOUNDARY, form_data(world, upload))
    # The body claims 5 GB; the limit has to be applied to that claim alone, before reading on.
    response = admin_client_.generic(
        "POST",
        reverse("admin:sync_syncconfig_add"),
        body,
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
        CONTENT_LENGTH=str(declared),
        **{"wsgi.input": io.BytesIO(body)},
    )
    assert upload_errors(response) == [over_limit_message(declared, limit)]
    assert temp_file_spy["paths"] == [] and temp_file_spy["bytes"] == 0
    assert response.context["adminform"].form["encoding"].value() == "gb18030"
    assert not SyncConfig.objects.exists() and not SyncRun.objects.exists()
    assert stored_files() == []


@pytest.mark.parametrize("view", ["add", "change"])
def test_upload_passing_the_limit_while_streaming_is_refused_without_being_spooled(
    world, admin_client_, small_limit, temp_file_spy, monkeypatch, view
):
    # Small chunks, so that the file crosses the limit part way through the stream.
    monkeypatch.setattr(UploadLimitHandler, "chunk_size", 256)
    if view == "add":
        url = reverse("admin:sync_syncconfig_add")
    else:
        config = sync_config_set(dataset=world.dataset, kind="csv", options={"path": "/x.csv"})
        url = reverse("admin:sync_syncconfig_change", args=[config.pk])
    response = admin_client_.post(
        url, form_data(world, SimpleUploadedFile("p.csv", csv_bytes(5000)))
    )
    [message] = upload_errors(response)
    assert message.endswith(f", over the limit of {filesizeformat(small_limit)}.")
    assert 0 < temp_file_spy["bytes"] <= small_limit  # at most the limit touched the disk
    assert [p for p in temp_file_spy["paths"] if p.exists()] == []  # and was deleted
    assert not SyncRun.objects.exists() and stored_files() == []
    if view == "change":
        config.refresh_from_db()
        assert config.options == {"path": "/x.csv"}


def test_upload_at_the_limit_is_stored_and_queues_a_run(
    world, admin_client_, small_limit, temp_file_spy, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client_.post(
            reverse("admin:sync_syncconfig_add"),
            form_data(world, SimpleUploadedFile("p.csv", csv_bytes(small_limit))),
        )
    assert response.status_code == 302, response.content[:2000]
    run = SyncRun.objects.get(dataset=world.dataset)
    assert run.trigger == "upload" and run.options["encoding"] == "gb18030"
    [stored] = stored_files()
    assert stored.read_bytes() == csv_bytes(small_limit) and len(callbacks) == 1


def test_upload_view_still_checks_the_csrf_token(world, small_limit):
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    url = reverse("admin:sync_syncconfig_add")

    def big() -> dict:
        return form_data(world, SimpleUploadedFile("p.csv", csv_bytes(5000)))

    assert client.post(url, big()).status_code == 403  # no token

    client.get(url)  # sets the CSRF cookie
    token = client.cookies[django_settings.CSRF_COOKIE_NAME].value
    response = client.post(url, {**big(), "csrfmiddlewaretoken": token})
    [message] = upload_errors(response)  # the token after the refused file was still read
    assert "over the limit" in message
