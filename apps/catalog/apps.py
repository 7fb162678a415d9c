from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "apps.catalog"
    verbose_name = _("Responsibility list")

    def ready(self) -> None:
        from apps.catalog.worklist import catalog_work
        from apps.common.worklist import register

        register(catalog_work)
