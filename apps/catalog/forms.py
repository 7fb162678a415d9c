"""Admin forms of the responsibility list."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from apps.departments.models import Department
from govdata.vocabulary import dataset_type_admits_field_type


class PublishForm(forms.Form):
    _selected_action = forms.CharField(widget=forms.MultipleHiddenInput)
    reason = forms.CharField(
        label=_("Reason for publishing"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text=_("Kept with the version: what changed and why."),
    )


class ImportForm(forms.Form):
    department = forms.ModelChoiceField(label=_("Department"), queryset=Department.objects.none())
    file = forms.FileField(
        label=_("Responsibility list file"),
        help_text=_(
            "An .xlsx workbook with the sheets 数据集 and 信息项 (or datasets and fields), "
            "a CSV file as exported, or YAML."
        ),
    )
    publish = forms.BooleanField(label=_("Publish after importing"), required=False)
    reason = forms.CharField(
        label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 80})
    )

    def __init__(self, *args, departments=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments or Department.objects.none()

    def clean(self):
        data = super().clean()
        if data.get("publish") and not (data.get("reason") or "").strip():
            raise ValidationError({"reason": _("Say why this list is published.")})
        return data


class FieldInlineForm(forms.ModelForm):
    """A new row's position may be left empty: the field goes after the last one. Every row
    offered at 0 used to store several fields at one position, in no stated order."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        position = self.fields["position"]
        position.required = False
        position.help_text = _("Empty: after the last field.")
        if self.instance.pk is None:
            position.initial = None

    def clean_position(self) -> int | None:
        position = self.cleaned_data.get("position")
        if position is None and self.instance.pk is not None:
            return self.instance.position  # an emptied box keeps the field where it is
        return position


class FieldInlineFormSet(BaseInlineFormSet):
    """Checks the fields as they will be after saving, against the dataset as it will be."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        dataset = self.instance
        kept = [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and not (form.instance.pk and form.instance.pending_removal and not form.has_changed())
        ]
        if not kept:
            raise ValidationError(_("A dataset needs at least one field."))
        names = {data["name"] for data in kept}
        if dataset.key_field not in names:
            raise ValidationError(
                _("The key field “%(name)s” is not among the fields.") % {"name": dataset.key_field}
            )
        bad = [
            data["name"]
            for data in kept
            if not dataset_type_admits_field_type(dataset.sharing_type, data["sharing_type"])
        ]
        if bad:
            raise ValidationError(
                _("The fields %(fields)s do not agree with the dataset's sharing type.")
                % {"fields": ", ".join(bad)}
            )


class DemandForm(forms.ModelForm):
    def clean(self):
        data = super().clean()
        if self.instance.pk:
            if not (data.get("answer") or "").strip():
                raise ValidationError({"answer": _("The answer cannot be empty.")})
            return data
        requester, provider, dataset = (data.get(k) for k in ("requester", "provider", "dataset"))
        if requester and provider and requester.pk == provider.pk:
            raise ValidationError({"provider": _("A department cannot file a demand to itself.")})
        if dataset and provider and dataset.provider_id != provider.pk:
            raise ValidationError(
                {"dataset": _("The dataset is not held by the asked department.")}
            )
        return data


class DatasetForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The field inline checks the fields as they will be; the stored ones may be changing.
        self.instance.defer_fields_check = True
