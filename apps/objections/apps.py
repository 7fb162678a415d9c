from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ObjectionsConfig(AppConfig):
    name = "apps.objections"
    verbose_name = _("Data-quality objections")
