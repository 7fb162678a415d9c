"""Who may do what with data-quality objections, decided in one place: the services enforce it,
the API and the admin ask it before offering a link, a button or a form.

- Submitting belongs to the data officers of the reporting department (or one of its agency
  applications); what it may object to is what apps.sharing.policy.access_for lets it read.
- Answering belongs to the providing department: its data officers, or one of its applications.
- Withdrawing belongs to the reporter, i.e. the reporting department (its officers or
  applications), and only while the objection is open.
- Seeing: members (officers and auditors) of the providing and of the reporting department;
  platform auditors see every objection. Auditors never act.

Unlike requests, a platform administrator gets no override here: only the provider knows
whether its record is right, and only the reporter may take its report back.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from apps.departments.models import Membership
from apps.departments.selectors import (
    acts_for_department,
    user_department_ids,
    user_is_platform_auditor,
)

SUBMIT, ANSWER, WITHDRAW = "submit", "answer", "withdraw"


def _authenticated(user) -> bool:
    return user is not None and bool(getattr(user, "is_authenticated", False))


def officer_department_ids(*, user) -> set[int]:
    """The departments `user` acts for as a data officer (cached per request)."""
    if not _authenticated(user):
        return set()
    return user_department_ids(user=user, role=Membership.Role.OFFICER)


def _acts_for(*, department_id: int, user=None, agency=None) -> bool:
    """An officer of the department (no superuser override: only the provider knows whether
    its record is right), or an active agency application of it."""
    return acts_for_department(department_id=department_id, user=user, agency=agency)


def may_submit_objection(*, consumer, user=None, agency=None) -> bool:
    return _acts_for(department_id=consumer.pk, user=user, agency=agency)


def may_submit_objections(*, user) -> bool:
    """Whether submitting concerns `user` at all (an officer of some department): the admin
    offers its submission form only then."""
    return bool(officer_department_ids(user=user))


def may_answer_objection(*, objection, user=None, agency=None) -> bool:
    return _acts_for(department_id=objection.dataset.provider_id, user=user, agency=agency)


def may_withdraw_objection(*, objection, user=None, agency=None) -> bool:
    return _acts_for(department_id=objection.consumer_id, user=user, agency=agency)


def may_view_all_objections(*, user) -> bool:
    return _authenticated(user) and user_is_platform_auditor(user=user)


def viewer_department_ids(*, user) -> set[int]:
    """The departments whose objections (as provider or reporter) `user` may see."""
    if not _authenticated(user):
        return set()
    return user_department_ids(user=user)


def may_view_objection(*, objection, user) -> bool:
    if may_view_all_objections(user=user):
        return True
    ids = viewer_department_ids(user=user)
    return objection.consumer_id in ids or objection.dataset.provider_id in ids


def objection_actions(*, objection, user=None, agency=None) -> frozenset[str]:
    """The changes to offer now: the objection's state and the caller's rights."""
    from apps.objections.models import Objection

    if objection.status != Objection.Status.OPEN:
        return frozenset()
    actions = set()
    if may_answer_objection(objection=objection, user=user, agency=agency):
        actions.add(ANSWER)
    if may_withdraw_objection(objection=objection, user=user, agency=agency):
        actions.add(WITHDRAW)
    return frozenset(actions)


def _refuse(department) -> PermissionDenied:
    return PermissionDenied(
        _("Only data officers or applications of %(dept)s may do this.") % {"dept": department.name}
    )


def require_may_submit_objection(*, consumer, user=None, agency=None) -> None:
    if not may_submit_objection(consumer=consumer, user=user, agency=agency):
        raise _refuse(consumer)


def require_may_answer_objection(*, objection, user=None, agency=None) -> None:
    if not may_answer_objection(objection=objection, user=user, agency=agency):
        raise PermissionDenied(
            _("Only the providing department %(dept)s answers this objection.")
            % {"dept": objection.dataset.provider.name}
        )


def require_may_withdraw_objection(*, objection, user=None, agency=None) -> None:
    if not may_withdraw_objection(objection=objection, user=user, agency=agency):
        raise PermissionDenied(
            _("Only the reporting department %(dept)s may withdraw this objection.")
            % {"dept": objection.consumer.name}
        )
