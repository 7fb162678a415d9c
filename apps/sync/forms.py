"""Admin forms of apps.sync: the source configuration with write-only credentials and upload."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from apps.sync.hosts import source_host_policy
from apps.sync.models import SyncConfig
from apps.sync.recording import SHA256_OPTION
from apps.sync.services import upload_check, upload_kind_check
from govdata.connectors import SourceFormatError


def _check_source_host(url: str) -> None:
    try:
        source_host_policy().check(url)
    except SourceFormatError as exc:
        raise forms.ValidationError(str(exc)) from None


ENCODINGS = [
    ("", _("Detect automatically")),
    ("utf-8", "UTF-8"),
    ("gb18030", "GBK / GB18030"),
]

# Source options only an upload sets (apps.sync.services.sync_upload_store): where the server
# stored the file, the name it had and its SHA-256. The form neither shows nor takes them: a path
# typed in here would make the next run read any file on the server, a hash typed in would be
# recorded in the audit log as the file's.
UPLOAD_OPTION_KEYS = ("path", "original_name", SHA256_OPTION)


def threshold_percent(share: float) -> Decimal:
    """A stored share as the percentage the form shows: 0.05 -> 5 (not 5.000000000000001)."""
    return Decimal(f"{round(share * 100, 2):g}")


def options_without_upload(options: dict) -> dict:
    return {k: v for k, v in (options or {}).items() if k not in UPLOAD_OPTION_KEYS}


def options_with_upload(*, stored: dict, entered: dict) -> dict:
    """The options to save: the officer's entries, and the stored upload's keys kept as they are."""
    kept = {k: stored[k] for k in UPLOAD_OPTION_KEYS if k in (stored or {})}
    return {**options_without_upload(entered), **kept}


class SyncConfigForm(forms.ModelForm):
    connection_url = forms.CharField(
        label=_("database URL"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_(
            "postgresql://user:password@host/db or mysql://...; stored encrypted. "
            "Leave empty to keep the stored one."
        ),
    )
    api_token = forms.CharField(
        label=_("API bearer token"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Stored encrypted. Leave empty to keep the stored one."),
    )
    # A percentage, as every message about it says ("more than the dataset's limit of 5.0%");
    # the model keeps the share (0.05) it always stored.
    reject_percent = forms.DecimalField(
        label=_("rejected rows that abort a run (%)"),
        min_value=Decimal(0),
        max_value=Decimal(100),
        max_digits=5,
        decimal_places=2,
        initial=Decimal(5),
        help_text=_(
            "In percent of the rows read: 5 means 5%. 0 aborts on any rejected row, 100 never "
            "aborts."
        ),
    )
    # Its help text (with the limit) is set per form: formatted here, at import, it would stay
    # in the language active then.
    upload = forms.FileField(label=_("upload a file (.csv or .xlsx)"), required=False)
    encoding = forms.ChoiceField(label=_("CSV encoding"), choices=ENCODINGS, required=False)

    # Size of an upload apps.sync.uploads refused while it arrived (it never reaches
    # cleaned_data); set by SyncConfigAdmin.get_form for the request at hand.
    refused_upload_size: int | None = None

    class Meta:
        model = SyncConfig
        fields = [
            "dataset",
            "kind",
            "mode",
            "options",
            "watermark_column",
            "scheduled",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["upload"].help_text = _("Starts a run at once. At most %(size)s.") % {
            "size": filesizeformat(settings.GOVDATA["UPLOAD_MAX_BYTES"])
        }
        if "options" in self.fields:
            self.initial["options"] = options_without_upload(self.instance.options)
        if self.instance.pk is not None:
            self.initial["reject_percent"] = threshold_percent(self.instance.reject_threshold)

    def clean_reject_percent(self) -> float:
        """The share the model and sync_config_set take (5 -> 0.05)."""
        return float(self.cleaned_data["reject_percent"]) / 100

    def clean_connection_url(self):
        url = self.cleaned_data.get("connection_url") or ""
        if url:
            _check_source_host(url)
        return url

    def clean(self):
        cleaned = super().clean()
        options = cleaned.get("options")
        if isinstance(options, dict) and isinstance(options.get("url"), str):
            try:
                _check_source_host(options["url"])
            except forms.ValidationError as exc:
                self.add_error("options", exc)
        upload, kind = cleaned.get("upload"), cleaned.get("kind")
        if upload is not None and kind:
            # Here, not at save: refused then, the configuration would already be changed.
            try:
                upload_kind_check(name=upload.name, kind=kind)
            except forms.ValidationError as exc:
                self.add_error("upload", exc)
        return cleaned

    def clean_options(self):
        options = self.cleaned_data.get("options")
        if options in (None, ""):
            return {}
        if not isinstance(options, dict):
            raise forms.ValidationError(_("Give the source options as a JSON object."))
        taken = [key for key in UPLOAD_OPTION_KEYS if key in options]
        if taken:
            raise forms.ValidationError(
                _("“%(key)s” is set by uploading a file, not here.") % {"key": taken[0]}
            )
        return options

    def clean_upload(self):
        upload = self.cleaned_data.get("upload")
        limit = settings.GOVDATA["UPLOAD_MAX_BYTES"]
        size = self.refused_upload_size
        if size is None and upload is not None and upload.size > limit:
            size = upload.size
        if size is not None:
            raise forms.ValidationError(
                _("The file is %(size)s, over the limit of %(limit)s.")
                % {
                    "size": filesizeformat(size),
                    "limit": filesizeformat(limit),
                }
            )
        if upload is not None:
            upload_check(upload)  # refused here, the form comes back and nothing is saved
        return upload
