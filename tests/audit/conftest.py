import pytest
from django.db import connection


@pytest.fixture
def refusing_audit_store():
    """Every audit INSERT fails (a committed trigger, for tests outside a transaction) until the
    returned function restores the store; restored at the end in any case."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION audit_down() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN RAISE EXCEPTION 'audit store down'; END $$;"
            " CREATE TRIGGER zz_audit_down BEFORE INSERT ON audit_event"
            " FOR EACH ROW EXECUTE FUNCTION audit_down();"
        )

    def restore() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "DROP TRIGGER IF EXISTS zz_audit_down ON audit_event;"
                " DROP FUNCTION IF EXISTS audit_down()"
            )

    yield restore
    restore()


@pytest.fixture(autouse=True)
def audit_key(settings, tmp_path):
    """A fresh signing key per test, in a temporary directory."""
    from apps.audit import signing

    path = tmp_path / "audit-key.pem"
    settings.GOVDATA = {
        **settings.GOVDATA,
        "AUDIT_SIGNING_KEY_FILE": str(path),
        "AUDIT_ARCHIVE_DIR": str(tmp_path / "archive"),
    }
    signing._cache.clear()
    yield path
    signing._cache.clear()


def record_read(world, **overrides):
    from apps.audit.services import audit_record_access

    values = dict(
        request_id="req-1",
        action="list",
        consumer=world.consumer,
        provider=world.provider,
        dataset=world.dataset,
        user=world.consumer_officer,
        fields={"gender": "none", "name": "name"},
        row_count=10,
        filters={"district": "天河区"},
        purpose="核验低保申请人户籍",
        case_id="CASE-1",
        end_user="张三",
        grant_ids=[3, 1],
        outcome="allowed",
        client_ip="10.0.0.1",
        duration_ms=12.5,
    )
    values.update(overrides)
    return audit_record_access(**values)


@pytest.fixture
def flushable_audit(db_role_reset, transactional_db):
    """Django flushes a transactional test's tables with TRUNCATE, which the append-only
    triggers refuse; the flush runs as the insider would (replica role), reset afterwards."""
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")


@pytest.fixture
def db_role_reset(django_db_blocker):
    yield
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = origin")


@pytest.fixture
def log_from_the_past():
    """For tests that record events on past dates after the world was built today: the chain
    head forgets the month of the events already chained, as if they too lay in the past.
    Otherwise the past events are stamped at the start of this month (apps.audit.chain)."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_chain_head SET occurred_at = NULL")
