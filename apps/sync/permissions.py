"""Who may see and do what with syncs. Every decision lives here, used by the services (which
refuse), the selectors and the admin (which hide).

- data officers: the sync configurations and runs of the datasets their department provides;
  they see, add and change the configurations, upload files, ask for "sync now", cancel a run
  that waits, follow the runs and download their quarantine reports;
- auditors: runs only, read-only (counts, progress, errors), platform auditors every
  department's and department auditors their own department's. No configurations (connecting
  source systems is the officers' job) and no quarantine reports (they hold the raw values of
  the rejected rows, personal data the auditor's job does not need). By the same rule, a run's
  error is shown to them without what it quotes of the source (apps.sync.errors);
- platform administrators (superusers): everything.

Checks against a list of rows use sets cached on the user for the request, never a query per row.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet, Value
from django.utils.translation import gettext as _

from apps.catalog.models import Dataset
from apps.catalog.permissions import is_platform_admin, officer_department_ids
from apps.departments.models import Membership
from apps.departments.selectors import user_department_ids, user_is_platform_auditor
from apps.sync.models import SyncConfig, SyncRun

_PLATFORM_AUDITOR_CACHE = "_govdata_sync_platform_auditor"


def _active(user: AbstractBaseUser | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def _is_platform_auditor(user: AbstractBaseUser) -> bool:
    """Cached on the user object for the life of a request, like user_department_ids."""
    if _PLATFORM_AUDITOR_CACHE not in user.__dict__:
        user.__dict__[_PLATFORM_AUDITOR_CACHE] = user_is_platform_auditor(user=user)
    return user.__dict__[_PLATFORM_AUDITOR_CACHE]


def run_department_ids(user: AbstractBaseUser | None) -> set[int] | None:
    """The providing departments whose runs `user` may see; None means every department."""
    if not _active(user):
        return set()
    if user.is_superuser or _is_platform_auditor(user):
        return None
    return officer_department_ids(user) | user_department_ids(
        user=user, role=Membership.Role.AUDITOR
    )


def can_configure_syncs(user: AbstractBaseUser | None) -> bool:
    """Whether `user` works with sync configurations at all (sees the list, may add one)."""
    return is_platform_admin(user) or bool(officer_department_ids(user))


def can_manage_dataset_sync(user: AbstractBaseUser | None, dataset: Dataset) -> bool:
    """Configure the dataset's source, upload a file, ask for a run, read its quarantine."""
    return is_platform_admin(user) or dataset.provider_id in officer_department_ids(user)


def can_delete_sync_configs(user: AbstractBaseUser | None) -> bool:
    """Deleting a configuration deletes its runs' history too: platform administrators only."""
    return is_platform_admin(user)


def can_view_runs(user: AbstractBaseUser | None) -> bool:
    departments = run_department_ids(user)
    return departments is None or bool(departments)


def can_download_quarantine(user: AbstractBaseUser | None, run: SyncRun) -> bool:
    return can_manage_dataset_sync(user, run.dataset)


def can_read_source_text(user: AbstractBaseUser | None, run: SyncRun) -> bool:
    """Whether a run's error is shown with the source's own text it quotes (values, header):
    to those who may read the quarantine, which holds the same."""
    return can_download_quarantine(user, run)


def source_text_allowed_on_row(run: SyncRun) -> bool:
    """can_read_source_text for a run of sync_runs_visible, which carries the answer for its
    user (`quarantine_allowed`): a list of runs needs no query per row. Without it: no."""
    return bool(getattr(run, "quarantine_allowed", False))


def can_cancel_run(user: AbstractBaseUser | None, run: SyncRun) -> bool:
    """Cancel a run of the dataset that has not started or waits to retry."""
    return can_manage_dataset_sync(user, run.dataset)


def datasets_syncable(user: AbstractBaseUser | None) -> QuerySet[Dataset]:
    """The datasets whose source `user` may configure: the choices of the configuration form."""
    if is_platform_admin(user):
        return Dataset.objects.all()
    return Dataset.objects.filter(provider_id__in=officer_department_ids(user))


def sync_configs_visible(
    user: AbstractBaseUser | None, qs: QuerySet[SyncConfig] | None = None
) -> QuerySet[SyncConfig]:
    qs = SyncConfig.objects.all() if qs is None else qs
    if is_platform_admin(user):
        return qs
    return qs.filter(dataset__provider_id__in=officer_department_ids(user))


def sync_runs_visible(
    user: AbstractBaseUser | None, qs: QuerySet[SyncRun] | None = None
) -> QuerySet[SyncRun]:
    """The runs `user` may see, each annotated with `quarantine_allowed` (can_download_quarantine,
    computed in SQL so that a list of runs needs no query per row)."""
    qs = SyncRun.objects.all() if qs is None else qs
    officed = officer_department_ids(user)
    if is_platform_admin(user):
        allowed = Value(True)
    elif officed:
        allowed = ExpressionWrapper(
            Q(dataset__provider_id__in=officed), output_field=BooleanField()
        )
    else:
        allowed = Value(False)
    qs = qs.annotate(quarantine_allowed=allowed)
    departments = run_department_ids(user)
    if departments is None:
        return qs
    return qs.filter(dataset__provider_id__in=departments)


def require_manage_dataset_sync(user: AbstractBaseUser | None, dataset: Dataset) -> None:
    if not can_manage_dataset_sync(user, dataset):
        raise PermissionDenied(
            _("Only data officers of the providing department may sync %(code)s.")
            % {"code": dataset.code}
        )
