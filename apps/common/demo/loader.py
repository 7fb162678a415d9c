"""Loading the demo world's departments, users, responsibility list and records.

Every step looks for what a previous load created and keeps it, so a second load changes
nothing: departments and users by code/username (passwords are only set at creation), datasets by
catalogue code, and records by a fingerprint stored as the record table's comment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from psycopg2 import sql

from apps.catalog.models import Dataset
from apps.catalog.versioning import FIELD_ATTRIBUTES
from apps.common.demo.spec import dataset_fingerprint
from apps.departments.models import Department, Membership
from apps.departments.services import department_create, membership_add, platform_auditor_add
from apps.records import store
from fixtures.generate import RowGenerator, enterprises, people

FIELD_KEYS = tuple(key for key in FIELD_ATTRIBUTES if key != "position")
DATASET_KEYS = ("summary", "category", "update_frequency", "conditions")
PUBLISH_REASON = "演示数据初始发布（demo_load）"


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    logins: list[dict[str, str]] = field(default_factory=list)
    records: dict[str, int] = field(default_factory=dict)

    def note(self, what: str) -> None:
        self.created.append(what)


def officer_username(code: str) -> str:
    return f"officer-{code.lower()}"


def _login(user, password: str, role: str) -> dict[str, str]:
    """A login line for the banner and the credentials file, with the account's TOTP device
    (the admin asks officers, auditors and admins for a one-time code)."""
    from apps.common.otp import otp_device_ensure

    return {
        "username": user.username,
        "password": password,
        "role": role,
        "otpauth": otp_device_ensure(user),
    }


def _user(username: str, password: str, report: LoadReport, *, superuser: bool = False):
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(
            username=username,
            email=f"{username}@demo.gov.cn",
            is_staff=True,
            is_superuser=superuser,
        )
        user.set_password(password)
        user.save()
        report.note(f"user {username}")
    return user


@transaction.atomic
def departments_load(*, spec: dict[str, Any], report: LoadReport) -> dict[str, Department]:
    existing = {d.code: d for d in Department.objects.all()}
    for entry in spec["departments"]:  # parents come before their children in the file
        if entry["code"] in existing:
            continue
        existing[entry["code"]] = department_create(
            code=entry["code"],
            name=entry["name"],
            level=entry.get("level", Department.Level.PROVINCE),
            region=entry.get("region", ""),
            parent=existing[entry["parent"]] if entry.get("parent") else None,
        )
        report.note(f"department {entry['code']}")
    return existing


@transaction.atomic
def users_load(
    *, spec: dict[str, Any], departments: dict[str, Department], report: LoadReport
) -> dict[str, Any]:
    staff_pw = spec["passwords"]["staff"]
    users: dict[str, Any] = {}
    for entry in spec["departments"]:
        username = officer_username(entry["code"])
        user = _user(username, staff_pw, report)
        department = departments[entry["code"]]
        if not Membership.objects.filter(
            user=user, department=department, role=Membership.Role.OFFICER
        ).exists():
            membership_add(user=user, department=department, role=Membership.Role.OFFICER)
        users[username] = user
        report.logins.append(_login(user, staff_pw, f"data officer, {entry['name']}"))
    for entry in spec.get("auditors", []):
        user = _user(entry["username"], staff_pw, report)
        department = departments[entry["department"]]
        if not Membership.objects.filter(
            user=user, department=department, role=Membership.Role.AUDITOR
        ).exists():
            membership_add(user=user, department=department, role=Membership.Role.AUDITOR)
        users[entry["username"]] = user
        report.logins.append(_login(user, staff_pw, f"department auditor, {department.name}"))
    for username in spec.get("platform_auditors", []):
        user = _user(username, staff_pw, report)
        platform_auditor_add(user=user)
        users[username] = user
        report.logins.append(_login(user, staff_pw, "platform auditor"))
    for username in spec.get("admins", []):
        password = spec["passwords"]["admin"]
        users[username] = _user(username, password, report, superuser=True)
        report.logins.append(_login(users[username], password, "platform admin"))
    return users


def _field_attributes(entry: dict[str, Any], dataset_entry: dict[str, Any]) -> dict[str, Any]:
    attrs = {key: entry[key] for key in FIELD_KEYS if key in entry}
    if attrs.get("sharing_type") != "unconditional" and not attrs.get("legal_basis"):
        attrs["legal_basis"] = dataset_entry["legal_basis"]  # a field inherits its dataset's basis
    return attrs


@transaction.atomic
def dataset_load(
    *, entry: dict[str, Any], provider: Department, officer, report: LoadReport
) -> Dataset:
    """Creates the dataset and its fields through the catalog's services and publishes it."""
    from apps.catalog.services import dataset_create, dataset_publish, field_create

    dataset = Dataset.objects.filter(code=entry["code"]).first()
    if dataset is None:
        dataset = dataset_create(
            by=officer,
            provider=provider,
            code=entry["code"],
            name=entry["name"],
            key_field=entry["key_field"],
            sharing_type=entry["sharing_type"],
            legal_basis=entry.get("legal_basis", ""),
            **{key: entry[key] for key in DATASET_KEYS if key in entry},
        )
        for position, field_entry in enumerate(entry["fields"]):
            field_create(
                dataset=dataset,
                by=officer,
                name=field_entry["name"],
                position=position,
                **_field_attributes(field_entry, entry),
            )
        report.note(f"dataset {entry['code']}")
    if dataset.status != Dataset.Status.PUBLISHED:
        dataset_publish(dataset=dataset, by=officer, reason=PUBLISH_REASON)
        dataset.refresh_from_db()
        report.note(f"published {entry['code']}")
    return dataset


def _table_comment(table: str) -> str | None:
    with connection.cursor() as cursor:
        if not store.table_exists(cursor, table):
            return None
        cursor.execute(
            "SELECT obj_description(to_regclass(%s), 'pg_class')", [f'{store.SCHEMA}."{table}"']
        )
        return cursor.fetchone()[0]


def records_load(
    *,
    spec: dict[str, Any],
    entry: dict[str, Any],
    dataset: Dataset,
    generator: Callable[[], RowGenerator],
    report: LoadReport,
) -> int:
    """Loads the dataset's generated records unless the same records are there already."""
    marker = f"demo:{dataset_fingerprint(spec=spec, dataset=entry)}"
    table = store.live_table(dataset.pk)
    if _table_comment(table) == marker:
        count = store.store_count(dataset)
    else:
        with transaction.atomic():
            count = store.store_replace_rows(dataset, generator().rows(entry, entry["rows"]))
            with connection.cursor() as cursor:
                cursor.execute(
                    sql.SQL("COMMENT ON TABLE {} IS {}").format(
                        store.ident(table), sql.Literal(marker)
                    )
                )
        report.note(f"{count} records of {entry['code']}")
    report.records[entry["code"]] = count
    return count


def catalog_and_records_load(
    *, spec: dict[str, Any], departments: dict[str, Department], report: LoadReport
) -> dict[str, Dataset]:
    User = get_user_model()
    pools: list[RowGenerator] = []

    def generator() -> RowGenerator:
        if not pools:  # building the pools takes a few seconds: only when records are loaded
            pools.append(
                RowGenerator(
                    seed=spec["seed"],
                    people_pool=people(spec["people"], spec["seed"]),
                    enterprise_pool=enterprises(spec["enterprises"], spec["seed"]),
                )
            )
        return pools[0]

    datasets: dict[str, Dataset] = {}
    for entry in spec["datasets"]:
        provider = departments[entry["provider"]]
        officer = User.objects.get(username=officer_username(provider.code))
        dataset = dataset_load(entry=entry, provider=provider, officer=officer, report=report)
        records_load(spec=spec, entry=entry, dataset=dataset, generator=generator, report=report)
        datasets[entry["code"]] = dataset
    return datasets
