"""Writes of data-quality objections: submit (the reporting department), answer (the providing
department), withdraw (the reporter). Keyword-only and transactional; a change of state locks
the objection row first, so that concurrent answers and withdrawals serialise. Each writes its
history entry and its administrative audit event and notifies the other side.

The acting party is an officer (`by`) or an agency application (`agency`, an
apps.api.models.AgencyApplication: its department and OAuth2 client id are used); rights come
from apps.objections.policy."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from apps.catalog.models import Dataset, Field
from apps.common import clock
from apps.common.texts import Text, label_text
from apps.departments.models import Department
from apps.objections import policy
from apps.objections.models import (
    ANSWER_MAX_LENGTH,
    DESCRIPTION_MAX_LENGTH,
    KEY_MAX_LENGTH,
    PROPOSED_VALUE_MAX_LENGTH,
    Objection,
    ObjectionField,
)
from apps.objections.recording import (
    audit_objection,
    objection_link,
    reporter_recipients,
    transition_record,
)
from apps.objections.selectors import record_key_exists
from apps.records.query import lookup_key
from apps.records.query_values import QueryInvalid
from apps.sharing.notifications import department_officers, notify
from apps.sharing.policy import AccessDecision, access_for
from apps.sharing.selectors import working_days_add

Status = Objection.Status
DEFAULT_ANSWER_WORKING_DAYS = 10  # as for data requests (product.md)


class ObjectionClosed(ValidationError):
    """The objection is no longer open (answered or withdrawn, perhaps by a concurrent call).
    The API maps it to 409 Conflict."""


class ObjectionPending(ValidationError):
    """The department already has an open objection on this record. The API maps it to 409."""

    def __init__(self, pending: Objection) -> None:
        super().__init__(
            _(
                "Objection #%(id)s of your department on this record is still open; wait for "
                "its answer, or withdraw it and report again."
            )
            % {"id": pending.pk}
        )
        self.pending_id = pending.pk


def answer_working_days() -> int:
    return int(settings.GOVDATA.get("OBJECTION_ANSWER_WORKING_DAYS", DEFAULT_ANSWER_WORKING_DAYS))


def _text(
    value: str | None, *, name: str, limit: int, errors: dict, missing: str | None = None
) -> str:
    """`value` stripped; records in `errors` a missing required text (`missing` is then the
    message) or one longer than `limit`."""
    text = (value or "").strip()
    if missing is not None and not text:
        errors[name] = missing
    elif len(text) > limit:
        errors[name] = _("At most %(max)d characters.") % {"max": limit}
    return text


def _require_actor(by, agency) -> None:
    if by is None and agency is None:
        raise PermissionDenied(_("An objection needs an acting officer or application."))


def _fields_readable(
    dataset: Dataset, decision: AccessDecision, names: Sequence[str]
) -> list[Field]:
    """The named fields, each of which the reporting department must be able to read."""
    names = [n.strip() for n in names if n and n.strip()]
    if not names:
        raise ValidationError({"fields": _("Name at least one field.")})
    by_name = {f.name: f for f in dataset.fields.all()}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise ValidationError(
            {
                "fields": _("Unknown fields of %(code)s: %(names)s.")
                % {"code": dataset.code, "names": ", ".join(unknown)}
            }
        )
    unreadable = [n for n in names if not decision.readable(n)]
    if unreadable:
        raise PermissionDenied(
            _("Your department may not read these fields: %(names)s.")
            % {"names": ", ".join(unreadable)}
        )
    return [by_name[n] for n in dict.fromkeys(names)]


def _check_key(dataset: Dataset, decision: AccessDecision, key: str, fields: list[str]) -> None:
    if not decision.clear(dataset.key_field):
        raise PermissionDenied(
            _(
                "Your department does not read the key field “%(field)s” of %(code)s in clear, "
                "so it cannot name one of its records."
            )
            % {"field": dataset.key_field, "code": dataset.code}
        )
    try:
        found = record_key_exists(dataset=dataset, decision=decision, key=key, fields=fields)
    except QueryInvalid as exc:
        raise ValidationError({"key": exc.message}) from exc
    if not found:
        raise ValidationError(
            {
                "key": _(
                    "No published record of %(code)s that your department may read has this key."
                )
                % {"code": dataset.code}
            }
        )


@transaction.atomic
def objection_submit(
    *,
    consumer,
    dataset: Dataset,
    key: str,
    fields: Sequence[str],
    description: str,
    proposed_value: str = "",
    by=None,
    agency=None,
    origin=None,
) -> Objection:
    """The reporting department (`consumer`) must read the dataset (unconditional fields or a
    live grant, per apps.sharing.policy.access_for), every field it names, and the key field in
    clear; the key must be that of a published record within its grants' row filters."""
    _require_actor(by, agency)
    policy.require_may_submit_objection(consumer=consumer, user=by, agency=agency)
    if dataset.provider_id == consumer.pk:
        raise ValidationError(
            {"dataset": _("A department corrects its own data at the source; it does not object.")}
        )
    if dataset.status != Dataset.Status.PUBLISHED:
        raise ValidationError({"dataset": _("%(code)s is not published.") % {"code": dataset.code}})
    decision = access_for(dataset=dataset, department=consumer)
    if not decision.fields:
        raise PermissionDenied(
            _("%(dept)s may not read %(code)s.") % {"dept": consumer.name, "code": dataset.code}
        )
    errors: dict[str, str] = {}
    key = _text(
        key, name="key", limit=KEY_MAX_LENGTH, errors=errors, missing=_("Give the record's key.")
    )
    description = _text(
        description,
        name="description",
        limit=DESCRIPTION_MAX_LENGTH,
        errors=errors,
        missing=_("Describe what is wrong with the record."),
    )
    proposed_value = _text(
        proposed_value, name="proposed_value", limit=PROPOSED_VALUE_MAX_LENGTH, errors=errors
    )
    if errors:
        raise ValidationError(errors)
    chosen = _fields_readable(dataset, decision, fields)
    # The key as a lookup takes it (full-width digits, a lower-case check character), so that
    # the record a department reads by a key is the one it can object to by the same key.
    key = lookup_key(dataset=dataset, key=key)
    _check_key(dataset, decision, key, [f.name for f in chosen])
    # One open objection per department and record: the department's row lock makes two
    # identical reports sent at once wait for each other, and the second one sees the first.
    list(Department.objects.select_for_update().filter(pk=consumer.pk).values_list("pk"))
    pending = Objection.objects.filter(
        consumer=consumer, dataset=dataset, record_key=key, status=Status.OPEN
    ).first()
    if pending is not None:
        raise ObjectionPending(pending)

    now = clock.now()
    objection = Objection.objects.create(
        dataset=dataset,
        record_key=key,
        description=description,
        proposed_value=proposed_value,
        consumer=consumer,
        created_by=by if agency is None else None,
        created_by_application_id=agency.application_id if agency is not None else None,
        due_by=working_days_add(start=clock.today(), days=answer_working_days()),
        created_at=now,
        updated_at=now,
    )
    items = ObjectionField.objects.bulk_create(
        [
            ObjectionField(
                objection=objection,
                field=f,
                field_name=f.name,
                field_label=f.label,
                mask=decision.fields[f.name].mask,
            )
            for f in chosen
        ]
    )
    transition_record(
        objection=objection,
        from_status="",
        to_status=Status.OPEN,
        by=by,
        agency=agency,
        reason=description,
    )
    audit_objection(
        action="objection.submit",
        objection=objection,
        items=items,
        by=by,
        agency=agency,
        origin=origin,
        details={
            "description": description,
            # The value itself may be personal data: the audit log, which is never purged,
            # only says that one was given; the objection keeps it.
            "proposed_value_given": bool(proposed_value),
            "due_by": objection.due_by.isoformat(),
        },
    )
    notify(
        recipients=department_officers(department=dataset.provider),
        subject=Text(
            gettext_noop("New data-quality objection #%(id)s on %(code)s"),
            {"id": objection.pk, "code": dataset.code},
        ),
        body=Text(
            gettext_noop(
                "%(consumer)s believes the record %(key)s of %(dataset)s is wrong (%(fields)s): "
                "%(description)s Answer by %(due)s."
            ),
            {
                "consumer": consumer.name,
                "key": key,
                "dataset": dataset.name,
                "fields": ", ".join(f.name for f in chosen),
                "description": description,
                "due": objection.due_by.isoformat(),
            },
        ),
        link=objection_link(objection),
    )
    return objection


def _lock(objection: Objection) -> Objection:
    locked = (
        Objection.objects.select_for_update(of=("self",))
        .select_related("consumer", "dataset", "dataset__provider")
        .get(pk=objection.pk)
    )
    if locked.status != Status.OPEN:
        raise ObjectionClosed(
            _("Objection #%(id)s is %(status)s; it can no longer be changed.")
            % {"id": locked.pk, "status": locked.get_status_display()}
        )
    return locked


def _items(objection: Objection) -> list[ObjectionField]:
    return list(objection.items.select_related("field").order_by("field__position", "field_id"))


@transaction.atomic
def objection_answer(
    *, objection: Objection, outcome: str, answer: str, by=None, agency=None, origin=None
) -> Objection:
    """The provider's answer: the record was corrected, or it is confirmed as correct; the
    answer says what was checked and done."""
    _require_actor(by, agency)
    policy.require_may_answer_objection(objection=objection, user=by, agency=agency)
    errors: dict[str, str] = {}
    if outcome not in Objection.Outcome.values:
        errors["outcome"] = _("Choose one of: %(choices)s.") % {
            "choices": ", ".join(Objection.Outcome.values)
        }
    answer = _text(
        answer,
        name="answer",
        limit=ANSWER_MAX_LENGTH,
        errors=errors,
        missing=_("An answer must say what was checked and what was done."),
    )
    if errors:
        raise ValidationError(errors)
    objection = _lock(objection)
    now = clock.now()
    objection.status, objection.outcome, objection.answer = Status.ANSWERED, outcome, answer
    objection.answered_by = by if agency is None else None
    objection.answered_by_application_id = agency.application_id if agency is not None else None
    objection.answered_at = objection.updated_at = now
    objection.save(
        update_fields=["status", "outcome", "answer", "answered_by", "answered_by_application_id",
                       "answered_at", "updated_at"]
    )  # fmt: skip
    transition_record(
        objection=objection,
        from_status=Status.OPEN,
        to_status=Status.ANSWERED,
        by=by,
        agency=agency,
        reason=f"{objection.get_outcome_display()}: {answer}",
    )
    audit_objection(
        action="objection.answer",
        objection=objection,
        items=_items(objection),
        by=by,
        agency=agency,
        origin=origin,
        details={"outcome": outcome, "answer": answer, "overdue": objection.overdue},
    )
    notify(
        recipients=reporter_recipients(objection),
        subject=Text(
            gettext_noop("Objection #%(id)s answered: %(outcome)s"),
            {
                "id": objection.pk,
                "outcome": label_text(Objection.Outcome(objection.outcome).label),
            },
        ),
        body=Text(
            gettext_noop(
                "%(provider)s answered your objection on record %(key)s of %(dataset)s: %(answer)s"
            ),
            {
                "provider": objection.dataset.provider.name,
                "key": objection.record_key,
                "dataset": objection.dataset.name,
                "answer": answer,
            },
        ),
        link=objection_link(objection),
    )
    return objection


@transaction.atomic
def objection_withdraw(
    *, objection: Objection, by=None, agency=None, reason: str = "", origin=None
) -> Objection:
    """The reporter takes back an open objection (an answered one stays as answered)."""
    _require_actor(by, agency)
    policy.require_may_withdraw_objection(objection=objection, user=by, agency=agency)
    errors: dict[str, str] = {}
    reason = _text(reason, name="reason", limit=ANSWER_MAX_LENGTH, errors=errors)
    if errors:
        raise ValidationError(errors)
    objection = _lock(objection)
    objection.status = Status.WITHDRAWN
    objection.withdrawn_at = objection.updated_at = clock.now()
    objection.save(update_fields=["status", "withdrawn_at", "updated_at"])
    transition_record(
        objection=objection,
        from_status=Status.OPEN,
        to_status=Status.WITHDRAWN,
        by=by,
        agency=agency,
        reason=reason,
    )
    audit_objection(
        action="objection.withdraw",
        objection=objection,
        items=_items(objection),
        by=by,
        agency=agency,
        origin=origin,
        details={"reason": reason},
    )
    notify(
        recipients=department_officers(department=objection.dataset.provider),
        subject=Text(gettext_noop("Objection #%(id)s withdrawn"), {"id": objection.pk}),
        body=Text(
            gettext_noop("%(consumer)s withdrew its objection on record %(key)s of %(dataset)s."),
            {
                "consumer": objection.consumer.name,
                "key": objection.record_key,
                "dataset": objection.dataset.name,
            },
        ),
        link=objection_link(objection),
    )
    return objection
