from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SharingConfig(AppConfig):
    name = "apps.sharing"
    verbose_name = _("Requests and grants")

    def ready(self) -> None:
        from apps.common.worklist import register
        from apps.sharing.worklist import sharing_work

        register(sharing_work)
