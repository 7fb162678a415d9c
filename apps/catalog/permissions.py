"""Who may see and change which part of the responsibility list. Every decision lives here, used by
both the services (which refuse) and the admin (which hides).

Object permissions are django-guardian rows on direct foreign-key tables; permitted ids are resolved
with one subquery over those tables (as paperless-ngx does) instead of `get_objects_for_user`.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.catalog.models import (
    Dataset,
    DatasetGroupObjectPermission,
    DatasetUserObjectPermission,
    Demand,
    DemandGroupObjectPermission,
)
from apps.departments.models import Department, Membership
from apps.departments.selectors import user_department_ids, user_is_platform_auditor

DATASET_PERMS = ("view_dataset", "change_dataset", "delete_dataset", "publish_dataset")
DEMAND_PROVIDER_PERMS = ("view_demand", "change_demand")
DEMAND_REQUESTER_PERMS = ("view_demand",)


_DENIED = {
    "view_dataset": gettext_lazy("You may not see the dataset %(code)s."),
    "change_dataset": gettext_lazy("You may not change the dataset %(code)s."),
    "delete_dataset": gettext_lazy("You may not delete the dataset %(code)s."),
    "publish_dataset": gettext_lazy("You may not publish the dataset %(code)s."),
}


def _active(user: AbstractBaseUser | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def is_platform_admin(user: AbstractBaseUser | None) -> bool:
    return _active(user) and user.is_superuser


def is_catalog_auditor(user: AbstractBaseUser | None) -> bool:
    """Platform auditors and department auditors read the whole list, and change nothing."""
    if not _active(user) or user.is_superuser:
        return False
    return user_is_platform_auditor(user=user) or bool(
        user_department_ids(user=user, role=Membership.Role.AUDITOR)
    )


def officer_department_ids(user: AbstractBaseUser | None) -> set[int]:
    if not _active(user):
        return set()
    return user_department_ids(user=user, role=Membership.Role.OFFICER)


def member_department_ids(user: AbstractBaseUser | None) -> set[int]:
    """The departments `user` belongs to, in any role."""
    if not _active(user):
        return set()
    return user_department_ids(user=user)


def _group_members(user: AbstractBaseUser, codename: str) -> Q:
    """Every member of a department is in its acting group, auditors included; only its
    officers act on the department's objects beyond viewing them."""
    if codename.startswith("view_"):
        return Q(group__user=user)
    return Q(
        group__department__memberships__user=user,
        group__department__memberships__role=Membership.Role.OFFICER,
    )


def dataset_ids_permitted(user: AbstractBaseUser, codename: str) -> QuerySet:
    """A subquery of dataset ids on which `user` holds `codename`, directly or via a group."""
    by_group = DatasetGroupObjectPermission.objects.filter(
        _group_members(user, codename), permission__codename=codename
    ).values("content_object_id")
    by_user = DatasetUserObjectPermission.objects.filter(
        permission__codename=codename, user=user
    ).values("content_object_id")
    return Dataset.objects.filter(Q(pk__in=by_group) | Q(pk__in=by_user)).values("pk")


def demand_ids_permitted(user: AbstractBaseUser, codename: str) -> QuerySet:
    return DemandGroupObjectPermission.objects.filter(
        _group_members(user, codename), permission__codename=codename
    ).values("content_object_id")


def datasets_visible(user: AbstractBaseUser, qs: QuerySet | None = None) -> QuerySet[Dataset]:
    qs = Dataset.objects.all() if qs is None else qs
    if is_platform_admin(user) or is_catalog_auditor(user):
        return qs
    if not _active(user):
        return qs.none()
    return qs.filter(pk__in=dataset_ids_permitted(user, "view_dataset"))


def demands_visible(user: AbstractBaseUser, qs: QuerySet | None = None) -> QuerySet[Demand]:
    qs = Demand.objects.all() if qs is None else qs
    if is_platform_admin(user) or is_catalog_auditor(user):
        return qs
    if not _active(user):
        return qs.none()
    return qs.filter(pk__in=demand_ids_permitted(user, "view_demand"))


def has_dataset_perm(user: AbstractBaseUser | None, codename: str, dataset: Dataset) -> bool:
    if is_platform_admin(user):
        return True
    if not _active(user) or dataset.pk is None:
        return False
    return Dataset.objects.filter(
        pk=dataset.pk, pk__in=dataset_ids_permitted(user, codename)
    ).exists()


def can_open_dataset(user: AbstractBaseUser | None, dataset: Dataset) -> bool:
    """Whether `user` may open `dataset`'s admin page, which lists datasets_visible only."""
    return datasets_visible(user).filter(pk=dataset.pk).exists()


def can_create_dataset(user: AbstractBaseUser | None, provider: Department) -> bool:
    return is_platform_admin(user) or provider.pk in officer_department_ids(user)


def can_create_demand(user: AbstractBaseUser | None, requester: Department) -> bool:
    return is_platform_admin(user) or requester.pk in officer_department_ids(user)


def demand_requester_choices(user: AbstractBaseUser | None) -> QuerySet[Department]:
    """The departments `user` may file a demand for: their own (every one for a platform
    admin)."""
    if is_platform_admin(user):
        return Department.objects.all()
    return Department.objects.filter(pk__in=officer_department_ids(user))


def demand_provider_choices(user: AbstractBaseUser | None) -> QuerySet[Department]:
    """The departments a demand may be addressed to: a department does not ask itself, so an
    officer is offered the others."""
    if is_platform_admin(user):
        return Department.objects.all()
    return Department.objects.exclude(pk__in=officer_department_ids(user))


def demand_dataset_choices(user: AbstractBaseUser | None) -> QuerySet[Dataset]:
    """Datasets a demand may refer to: the published list (other departments' drafts are not
    public), without the officer's own, which they would not ask for."""
    qs = Dataset.objects.filter(status=Dataset.Status.PUBLISHED)
    if is_platform_admin(user):
        return qs
    return qs.exclude(provider_id__in=officer_department_ids(user))


def has_demand_perm(user: AbstractBaseUser | None, codename: str, demand: Demand) -> bool:
    if is_platform_admin(user):
        return True
    if not _active(user) or demand.pk is None:
        return False
    return Demand.objects.filter(pk=demand.pk, pk__in=demand_ids_permitted(user, codename)).exists()


def require_dataset_perm(user: AbstractBaseUser | None, codename: str, dataset: Dataset) -> None:
    if not has_dataset_perm(user, codename, dataset):
        message = _DENIED.get(codename, _DENIED["change_dataset"])
        raise PermissionDenied(message % {"code": dataset.code})


def require_create_dataset(user: AbstractBaseUser | None, provider: Department) -> None:
    if not can_create_dataset(user, provider):
        raise PermissionDenied(
            _("Only data officers of %(dept)s may add datasets for it.") % {"dept": provider}
        )


def require_create_demand(user: AbstractBaseUser | None, requester: Department) -> None:
    if not can_create_demand(user, requester):
        raise PermissionDenied(
            _("Only data officers of %(dept)s may file demands for it.") % {"dept": requester}
        )


def require_demand_perm(user: AbstractBaseUser | None, codename: str, demand: Demand) -> None:
    if not has_demand_perm(user, codename, demand):
        raise PermissionDenied(_("You may not change this demand."))
