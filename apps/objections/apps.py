from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ObjectionsConfig(AppConfig):
    name = "apps.objections"
    verbose_name = _("Data-quality objections")

    def ready(self) -> None:
        from apps.common.worklist import register
        from apps.objections.worklist import objections_work

        register(objections_work)
