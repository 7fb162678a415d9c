"""The one answer to "which fields of dataset D may department C read now, in clear or masked,
under which rows", for every caller (API, admin, export).

A fixed number of SQL queries whatever the number of fields or grants: the dataset's fields
(none if prefetched) and, for a non-owner, one query over the live grants. A grant counts only
if it is active, started, not yet ended *at the instant of the query* (compared in SQL, so an
expired grant is never trusted even before the expiry task has run), and its field right is
backed by the department group's guardian permission. Non-owners are judged by each field's
*published* sharing type and mask (Field.published_sharing_type / published_masking, set only by
apps.catalog.services.dataset_publish), never by the working copy an officer is editing; a field
never published is closed to them. The rules themselves live in the framework-free
govdata.policy.

It is also the one answer to "who may take which decision on a request or a grant" (see
"Decision rights" below): the services enforce it, and the admin asks it before showing a link,
a button, a bulk action or a decision page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import orjson
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _

from apps.catalog.models import Dataset, Field, FieldGroupObjectPermission
from apps.common import clock
from apps.common.prepared import execute_prepared
from apps.departments.models import Membership
from apps.departments.selectors import acts_for_department, user_department_ids
from govdata.policy import FieldRule, GrantRule, evaluate, grants_untrusted


@dataclass(frozen=True)
class FieldAccess:
    name: str
    mask: str  # masking rule applied on output; "none" means readable in clear
    grant_ids: tuple[int, ...] = ()  # grants relied on (empty for owner/unconditional)
    # The rows it is readable on: None for all, else those matching any of these row filters
    # of its grants (govdata.policy); apps.records.query keeps a read to the rows on which
    # every field it uses is readable.
    rows: tuple[dict, ...] | None = None

    @property
    def clear(self) -> bool:
        return self.mask == "none"


@dataclass(frozen=True)
class AccessDecision:
    dataset_id: int
    department_id: int
    is_owner: bool
    fields: dict[str, FieldAccess]  # only readable fields, in field position order

    def readable(self, name: str) -> bool:
        return name in self.fields

    def clear(self, name: str) -> bool:
        access = self.fields.get(name)
        return access is not None and access.clear

    @property
    def grant_ids(self) -> tuple[int, ...]:
        ids: set[int] = set()
        for access in self.fields.values():
            ids.update(access.grant_ids)
        return tuple(sorted(ids))


def _fields_by_dataset(datasets: list[Dataset]) -> dict[int, list[Field]]:
    """Uses prefetched fields when every dataset has them, else one query."""
    if all("fields" in getattr(d, "_prefetched_objects_cache", {}) for d in datasets):
        return {d.pk: list(d.fields.all()) for d in datasets}
    result: dict[int, list[Field]] = {d.pk: [] for d in datasets}
    for field in Field.objects.filter(dataset_id__in=list(result)).order_by(
        "dataset_id", "position", "id"
    ):
        result[field.dataset_id].append(field)
    return result


def _live_grant_rules(
    *, dataset_ids: list[int], department, at: dt.datetime
) -> dict[int, list[GrantRule]]:
    from apps.sharing.models import Grant, GrantField

    permitted = FieldGroupObjectPermission.objects.filter(
        group_id=department.group_id,
        content_object_id=OuterRef("field_id"),
        permission__codename="read_field",
        permission__content_type__app_label="catalog",
    )
    rows = (
        GrantField.objects.filter(
            grant__dataset_id__in=dataset_ids,
            grant__consumer_id=department.pk,
            grant__status=Grant.Status.ACTIVE,
            grant__valid_from__lte=at,
            grant__valid_until__gt=at,
            removed_at__isnull=True,
        )
        .filter(Exists(permitted))
        .values_list(
            "grant__dataset_id", "grant_id", "field_id", "mask_override", "grant__row_filter"
        )
    )
    result: dict[int, list[GrantRule]] = {}
    for dataset_id, grant_id, field_id, mask_override, row_filter in rows:
        result.setdefault(dataset_id, []).append(
            GrantRule(
                grant_id=grant_id,
                field_id=field_id,
                mask_override=mask_override or None,
                row_filter=row_filter or None,
            )
        )
    return result


def _decide(
    *, dataset: Dataset, department, fields: list[Field], grants: list[GrantRule]
) -> AccessDecision:
    is_owner = dataset.provider_id == department.pk
    evaluation = evaluate(
        is_owner=is_owner,
        dataset_sharing_type=dataset.sharing_type,
        dataset_published=dataset.status == Dataset.Status.PUBLISHED,
        # Published attributes only: a draft edit must not change what others read.
        fields=[
            FieldRule(f.pk, f.name, f.published_sharing_type, f.published_masking) for f in fields
        ],
        grants=grants,
    )
    return AccessDecision(
        dataset_id=dataset.pk,
        department_id=department.pk,
        is_owner=is_owner,
        fields={
            name: FieldAccess(
                name=name, mask=outcome.mask, grant_ids=outcome.grant_ids, rows=outcome.rows
            )
            for name, outcome in evaluation.fields.items()
        },
    )


def access_for(*, dataset: Dataset, department, at: dt.datetime | None = None) -> AccessDecision:
    at = at or clock.now()
    fields = _fields_by_dataset([dataset])[dataset.pk]
    grants: list[GrantRule] = []
    if dataset.provider_id != department.pk:
        grants = _live_grant_rules(dataset_ids=[dataset.pk], department=department, at=at).get(
            dataset.pk, []
        )
    return _decide(dataset=dataset, department=department, fields=fields, grants=grants)


def grants_with_untrusted_filters(*, dataset: Dataset, at: dt.datetime | None = None) -> list[int]:
    """Live grants on `dataset` whose row filter names a field the holder no longer reads in
    clear (govdata.policy.grants_untrusted): one query for the holders, one per holder."""
    from apps.departments.models import Department
    from apps.sharing.models import Grant

    at = at or clock.now()
    holders = Department.objects.filter(
        pk__in=Grant.objects.filter(
            dataset=dataset, status=Grant.Status.ACTIVE, row_filter__isnull=False
        ).values("consumer_id")
    )
    fields = [
        FieldRule(f.pk, f.name, f.published_sharing_type, f.published_masking)
        for f in _fields_by_dataset([dataset])[dataset.pk]
    ]
    untrusted: set[int] = set()
    for holder in holders:
        grants = _live_grant_rules(dataset_ids=[dataset.pk], department=holder, at=at)
        untrusted |= grants_untrusted(fields=fields, grants=grants.get(dataset.pk, []))
    return sorted(untrusted)


def accessible_fields_for_catalog(
    *, datasets: Iterable[Dataset], department, at: dt.datetime | None = None
) -> dict[int, AccessDecision]:
    at = at or clock.now()
    datasets = list(datasets)
    if not datasets:
        return {}
    fields = _fields_by_dataset(datasets)
    foreign = [d.pk for d in datasets if d.provider_id != department.pk]
    grants = _live_grant_rules(dataset_ids=foreign, department=department, at=at) if foreign else {}
    return {
        d.pk: _decide(
            dataset=d, department=department, fields=fields[d.pk], grants=grants.get(d.pk, [])
        )
        for d in datasets
    }


_DATASET_COLUMNS = ["id", "code", "name", "provider_id", "key_field", "sharing_type", "status"]
_PROVIDER_COLUMNS = ["id", "code", "name", "group_id"]
_FIELD_COLUMNS = [
    "id", "dataset_id", "name", "label", "data_type", "sharing_type", "masking", "position",
    "pending_removal", "published_sharing_type", "published_masking",
]  # fmt: skip


def read_statement(*, department: str = "%(department)s", group: str = "%(group)s") -> str:
    """Dataset, provider, fields and the caller's live grants in one statement, for the
    published dataset %(code)s. The grant conditions are those of _live_grant_rules, evaluated by
    PostgreSQL against %(at)s (the request's clock.now()), so an expired or revoked grant is never
    trusted. `department` and `group` are SQL for the consumer's id and group id (parameters by
    default; the API's token check passes its own columns to run both in one round trip)."""
    from apps.departments.models import Department
    from apps.sharing.models import Grant, GrantField

    d, p, f = Dataset._meta.db_table, Department._meta.db_table, Field._meta.db_table
    g, gf = Grant._meta.db_table, GrantField._meta.db_table
    perm = FieldGroupObjectPermission._meta.db_table
    field_values = ", ".join(f"rf.{c}" for c in _FIELD_COLUMNS)
    return (
        f"SELECT {', '.join(f'rd.{c}' for c in _DATASET_COLUMNS)}, "
        f"{', '.join(f'rp.{c}' for c in _PROVIDER_COLUMNS)}, "
        f"(SELECT json_agg(json_build_array({field_values}) ORDER BY rf.position, rf.id)"
        f"   FROM {f} rf WHERE rf.dataset_id = rd.id)::text, "
        f"CASE WHEN rd.provider_id = {department} THEN NULL ELSE "
        "(SELECT json_agg(json_build_array(rgf.grant_id, rgf.field_id, rgf.mask_override,"
        "   rg.row_filter))::text"
        f"   FROM {gf} rgf JOIN {g} rg ON rg.id = rgf.grant_id"
        f"   WHERE rg.dataset_id = rd.id AND rg.consumer_id = {department}"
        "   AND rg.status = %(active)s AND rg.valid_from <= %(at)s AND rg.valid_until > %(at)s"
        "   AND rgf.removed_at IS NULL"
        f"   AND EXISTS (SELECT 1 FROM {perm} rop"
        "     JOIN auth_permission rap ON rap.id = rop.permission_id"
        "     JOIN django_content_type rct ON rct.id = rap.content_type_id"
        f"     WHERE rop.group_id = {group} AND rop.content_object_id = rgf.field_id"
        "     AND rap.codename = 'read_field' AND rct.app_label = 'catalog')) END "
        f"FROM {d} rd JOIN {p} rp ON rp.id = rd.provider_id "
        "WHERE rd.code = %(code)s AND rd.status = %(published)s"
    )


READ_COLUMNS = len(_DATASET_COLUMNS) + len(_PROVIDER_COLUMNS) + 2


def read_params(*, code: str, at: dt.datetime) -> dict:
    from apps.sharing.models import Grant

    return {
        "code": code,
        "published": Dataset.Status.PUBLISHED.value,
        "active": Grant.Status.ACTIVE.value,
        "at": at,
    }


def read_decision(row, *, department) -> tuple[Dataset, AccessDecision]:
    """(dataset, decision) from the READ_COLUMNS values of read_statement; raises
    Dataset.DoesNotExist when they are empty (no published dataset with that code)."""
    from apps.departments.models import Department

    if row is None or row[0] is None:
        raise Dataset.DoesNotExist
    n1 = len(_DATASET_COLUMNS)
    n2 = n1 + len(_PROVIDER_COLUMNS)
    # Partial instances: any column not loaded here is fetched on access, never blank.
    dataset = Dataset.from_db("default", _DATASET_COLUMNS, row[:n1])
    dataset.provider = Department.from_db("default", _PROVIDER_COLUMNS, row[n1:n2])
    fields = [
        Field.from_db("default", _FIELD_COLUMNS, values) for values in orjson.loads(row[n2] or "[]")
    ]
    for field in fields:
        field.dataset = dataset
    cached = Field.objects.none()
    cached._result_cache, cached._prefetch_done = fields, True
    dataset._prefetched_objects_cache = {"fields": cached}
    grants = [
        GrantRule(
            grant_id=grant_id,
            field_id=field_id,
            mask_override=mask_override or None,
            row_filter=row_filter or None,
        )
        for grant_id, field_id, mask_override, row_filter in orjson.loads(row[n2 + 1] or "[]")
    ]
    return dataset, _decide(dataset=dataset, department=department, fields=fields, grants=grants)


def access_for_published_code(
    *, code: str, department, at: dt.datetime | None = None
) -> tuple[Dataset, AccessDecision]:
    """The published dataset `code` (provider and fields loaded) and the decision of
    access_for for `department`, in ONE query: the record read path's hot spot. Same rules as
    access_for (shared _decide). Raises Dataset.DoesNotExist."""
    params = read_params(code=code, at=at or clock.now())
    params.update(department=department.pk, group=department.group_id)
    with connection.cursor() as cursor:
        execute_prepared(cursor, read_statement(), params)
        row = cursor.fetchone()
    return read_decision(row, department=department)


# Decision rights. Approving, rejecting and revoking belong to the providing department's data
# officers; withdrawing to the requesting department's, submitting to the requester's, officers
# or the department's active agency applications (through the API; the token's `requests`
# scope is the API's own check). A superuser (platform administrator) may do all that officers
# may. Department auditors and platform auditors only look. The officer's departments are read
# once per request (user_department_ids), so asking for every row of a list costs no query.

APPROVE, REJECT, WITHDRAW, REVOKE = "approve", "reject", "withdraw", "revoke"


def _officer_of(user, department_id: int) -> bool:
    return acts_for_department(department_id=department_id, user=user, superuser_acts=True)


def _acts_for(*, department_id: int, user=None, agency=None) -> bool:
    """An officer of the department (or a superuser), or an active agency application of it."""
    return acts_for_department(
        department_id=department_id, user=user, agency=agency, superuser_acts=True
    )


def may_submit_request(*, consumer, user=None, agency=None) -> bool:
    return _acts_for(department_id=consumer.pk, user=user, agency=agency)


def may_decide_request(*, user, request) -> bool:
    """Approve or reject, whatever the request's state."""
    return _officer_of(user, request.dataset.provider_id)


def may_withdraw_request(*, request, user=None, agency=None) -> bool:
    return _acts_for(department_id=request.consumer_id, user=user, agency=agency)


def may_revoke_grant(*, user, grant) -> bool:
    return _officer_of(user, grant.dataset.provider_id)


def may_revoke_request(*, user, request) -> bool:
    """Revoke the grant of `request`, whatever the request's state (whether it has a grant yet
    or still): the same right as may_revoke_grant, asked before the grant is looked for."""
    return _officer_of(user, request.dataset.provider_id)


def may_withdraw_requests(*, user) -> bool:
    """Whether withdrawing concerns `user` at all (an officer of some department): the bulk
    action is offered only then."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return user.is_superuser or bool(user_department_ids(user=user, role=Membership.Role.OFFICER))


def request_actions(*, user, request) -> frozenset[str]:
    """The decisions to offer `user` on `request` now: its state and the user's rights."""
    from apps.sharing.models import DataRequest

    if request.status != DataRequest.Status.SUBMITTED:
        return frozenset()
    actions = set()
    if may_decide_request(user=user, request=request):
        actions.update((APPROVE, REJECT))
    if may_withdraw_request(user=user, request=request):
        actions.add(WITHDRAW)
    return frozenset(actions)


def grant_actions(*, user, grant) -> frozenset[str]:
    from apps.sharing.models import Grant

    if grant.status == Grant.Status.ACTIVE and may_revoke_grant(user=user, grant=grant):
        return frozenset((REVOKE,))
    return frozenset()


def _refuse(department, *, agency=None) -> PermissionDenied:
    if agency is not None:
        return PermissionDenied(
            _("Only data officers or applications of %(dept)s may do this.")
            % {"dept": department.name}
        )
    return PermissionDenied(
        _("Only data officers of %(dept)s may do this.") % {"dept": department.name}
    )


def require_may_submit_request(*, consumer, user=None, agency=None) -> None:
    if not may_submit_request(consumer=consumer, user=user, agency=agency):
        raise _refuse(consumer, agency=agency)


def require_may_decide_request(*, user, request) -> None:
    if not may_decide_request(user=user, request=request):
        raise _refuse(request.dataset.provider)


def require_may_withdraw_request(*, request, user=None, agency=None) -> None:
    if not may_withdraw_request(request=request, user=user, agency=agency):
        raise _refuse(request.consumer, agency=agency)


def _refuse_revocation(provider) -> PermissionDenied:
    return PermissionDenied(
        _("Only data officers of %(dept)s may revoke.") % {"dept": provider.name}
    )


def require_may_revoke_grant(*, user, grant) -> None:
    if not may_revoke_grant(user=user, grant=grant):
        raise _refuse_revocation(grant.dataset.provider)


def require_may_revoke_request(*, user, request) -> None:
    if not may_revoke_request(user=user, request=request):
        raise _refuse_revocation(request.dataset.provider)
