from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SyncConfig(AppConfig):
    name = "apps.sync"
    verbose_name = _("Sync")

    def ready(self) -> None:
        from apps.common.worklist import register
        from apps.sync.worklist import sync_work

        register(sync_work)
