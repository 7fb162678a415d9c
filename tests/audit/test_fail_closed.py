"""No audit, no data: when the database refuses the audit event, the API read fails and
serves nothing. The failure is real (a trigger raising in PostgreSQL), not a stub."""

import pytest
from django.db import connection

from tests.api.conftest import PURPOSE, api_world  # noqa: F401 - the API test world fixture
from tests.records.test_query import ROWS

pytestmark = pytest.mark.django_db
BASE = "/api/v1/datasets/GA-RK-001"


@pytest.fixture
def audit_store_refuses():
    # DDL is transactional: the trigger disappears with the test's rollback.
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION pg_temp.audit_down() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN RAISE EXCEPTION 'audit store down'; END $$;"
            " CREATE TRIGGER zz_audit_down BEFORE INSERT ON audit_event"
            " FOR EACH ROW EXECUTE FUNCTION pg_temp.audit_down();"
        )


@pytest.mark.parametrize(
    "path",
    [
        "/records/",
        "/export/?format=csv",
        "/records/?district=天河区",
        f"/records/{ROWS[0]['id_number']}/",
    ],
)
def test_read_fails_when_its_event_cannot_be_written(api_world, audit_store_refuses, path):  # noqa: F811
    client = api_world.clients["granted"]
    client.raise_request_exception = False
    response = client.get(BASE + path, **PURPOSE)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert response.status_code >= 500
    assert ROWS[0]["id_number"] not in body.decode("utf-8", "replace")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/records/", f"/records/{ROWS[0]['id_number']}/"])
def test_outside_a_transaction_a_read_fails_when_its_event_cannot_be_written(
    api_world,  # noqa: F811
    path,
    request,
):
    # Autocommit, as in production: the event is written in the read's own round trip.
    client = api_world.clients["granted"]
    client.raise_request_exception = False
    # Only now: setting up the world writes audit events of its own (grants, credentials).
    restore_audit_store = request.getfixturevalue("refusing_audit_store")
    response = client.get(BASE + path, **PURPOSE)
    assert response.status_code >= 500
    assert ROWS[0]["id_number"] not in response.content.decode("utf-8", "replace")
    restore_audit_store()
    assert client.get(BASE + path, **PURPOSE).status_code == 200  # the connection recovered
