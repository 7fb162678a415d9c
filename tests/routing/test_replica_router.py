"""The read-replica router, against a second alias that points at the same test database
(config/settings/test.py). The replica connection announces itself as application_name
`govdata-replica`, which is how these tests see where a query really went.

The replica is a separate connection, so it sees only committed rows: the tests read rows that
migrations committed (content types, permissions) rather than rows made inside the test."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext

from config.routers import ReplicaRouter, read_alias, replica_reads, use_primary, use_replica

pytestmark = pytest.mark.django_db(databases=["default", "replica"])


@pytest.fixture(autouse=True)
def replica_on(settings):
    settings.GOVDATA = {**settings.GOVDATA, "REPLICA_READS": True}
    yield
    # The replica connection is not managed by the test case; close it so that the test
    # database can be dropped at the end of the run.
    connections["replica"].close()


def _application_name(alias: str) -> str:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT current_setting('application_name')")
        return cursor.fetchone()[0]


def _group_content_type() -> ContentType:
    return ContentType.objects.get(app_label="auth", model="group")


def test_replica_alias_is_a_separate_connection_to_the_same_test_database():
    assert _application_name("replica") == "govdata-replica"
    assert _application_name("default") != "govdata-replica"
    replica_name = connections["replica"].settings_dict["NAME"]
    assert replica_name == connections["default"].settings_dict["NAME"]


def test_orm_reads_inside_use_replica_go_to_the_replica():
    with CaptureQueriesContext(connections["replica"]) as on_replica, use_replica() as alias:
        assert alias == "replica"
        content_type = _group_content_type()
    assert content_type._state.db == "replica"
    assert len(on_replica.captured_queries) == 1


def test_reads_outside_use_replica_stay_on_the_primary():
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        content_type = _group_content_type()
    assert content_type._state.db == "default"
    assert on_replica.captured_queries == []
    assert read_alias() == "default"


def test_related_objects_of_a_replica_row_load_from_the_primary_after_the_block():
    with use_replica():
        permission = Permission.objects.get(codename="view_group")
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        assert permission.content_type.model == "group"
    assert on_replica.captured_queries == []


def test_writes_inside_use_replica_go_to_the_primary_even_for_objects_read_there():
    with use_replica():
        permission = Permission.objects.get(codename="view_group")
        permission.name = "Can view groups (renamed)"
        with CaptureQueriesContext(connections["replica"]) as on_replica:
            permission.save()
            Group.objects.create(name="created-in-block")
    assert on_replica.captured_queries == []
    assert Permission.objects.get(codename="view_group").name == "Can view groups (renamed)"
    assert Group.objects.filter(name="created-in-block").exists()


def test_a_transaction_on_the_primary_reads_its_own_writes():
    with transaction.atomic(), use_replica() as alias:
        group = Group.objects.create(name="uncommitted")
        assert alias == "default"
        assert Group.objects.get(pk=group.pk)._state.db == "default"


def test_use_primary_inside_use_replica_reads_the_primary():
    with use_replica(), use_primary() as alias:
        assert alias == "default"
        assert _group_content_type()._state.db == "default"
    assert read_alias() == "default"


def test_raw_sql_uses_the_alias_that_use_replica_yields():
    with use_replica() as alias:
        assert _application_name(alias) == "govdata-replica"


def test_replica_reads_decorator_routes_a_whole_function():
    @replica_reads
    def load() -> ContentType:
        return _group_content_type()

    assert load()._state.db == "replica"
    assert read_alias() == "default"


def test_objects_from_both_aliases_can_be_related(django_user_model):
    user = django_user_model.objects.create(username="related")
    with use_replica():
        permission = Permission.objects.get(codename="view_group")
    assert permission._state.db == "replica"
    user.user_permissions.add(permission)
    assert list(user.user_permissions.values_list("codename", flat=True)) == ["view_group"]


def test_without_replica_reads_enabled_everything_uses_the_primary(settings):
    settings.GOVDATA = {**settings.GOVDATA, "REPLICA_READS": False}
    with use_replica() as alias:
        assert alias == "default"
        assert ReplicaRouter().db_for_read(Group) == "default"


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
def test_without_a_replica_alias_everything_uses_the_primary(settings):
    settings.DATABASES = {"default": settings.DATABASES["default"]}
    with use_replica() as alias:
        assert alias == "default"


def test_migrations_never_run_on_the_replica():
    router = ReplicaRouter()
    assert router.allow_migrate("replica", "catalog") is False
    assert router.allow_migrate("default", "catalog") is True
