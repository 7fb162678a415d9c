"""Admin forms of apps.sync: the source configuration with write-only credentials and upload."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from apps.sync.models import SyncConfig

ENCODINGS = [
    ("", _("Detect automatically")),
    ("utf-8", "UTF-8"),
    ("gb18030", "GBK / GB18030"),
]


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
    upload = forms.FileField(
        label=_("upload a file (.csv or .xlsx)"),
        required=False,
        help_text=_("Starts a run at once. At most %(size)s.")
        % {"size": filesizeformat(settings.GOVDATA["UPLOAD_MAX_BYTES"])},
    )
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
            "reject_threshold",
            "scheduled",
        ]

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
        return upload
