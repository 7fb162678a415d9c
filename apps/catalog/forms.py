"""Admin forms of the responsibility list."""

from __future__ import annotations

import json

from django import forms
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from apps.catalog.models import Demand
from apps.departments.models import Department
from govdata.responsibility_list import ENUM_SEPARATOR
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


class EnumValuesField(forms.CharField):
    """The allowed values on one line, separated by "|" as in the responsibility-list file
    (可选值): "男|女". An empty list is an empty box, not JSON's "[]". A JSON list is still
    read, as the form took it before."""

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return ENUM_SEPARATOR.join(str(v) for v in value)
        return value

    def to_python(self, value) -> list[str]:
        text = (super().to_python(value) or "").strip()
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
            if isinstance(parsed, list):
                return [str(v).strip() for v in parsed if str(v).strip()]
        return [v.strip() for v in text.split(ENUM_SEPARATOR) if v.strip()]

    def has_changed(self, initial, data) -> bool:
        return self.to_python(self.prepare_value(initial)) != self.to_python(data)


def _line(size: int) -> forms.TextInput:
    return forms.TextInput(attrs={"size": size})


def _short_text() -> forms.Textarea:
    # Legal bases and conditions may run over several lines (a browser's one-line input
    # would drop the line breaks): a small box the officer can enlarge.
    return forms.Textarea(attrs={"rows": 2, "cols": 15})


class FieldInlineForm(forms.ModelForm):
    """One row of the dataset page's field table, kept about a screen wide: one-line inputs,
    small boxes for the two free texts, selects as wide as their choices (catalog/fields.css).
    A new row's position may be left empty: the field goes after the last one. Every row
    offered at 0 used to store several fields at one position, in no stated order."""

    enum_values = EnumValuesField(
        label=_("allowed values"),
        required=False,
        widget=_line(9),
        help_text=_("Separated by |, e.g. 男|女."),
    )

    class Meta:
        widgets = {
            "position": forms.NumberInput(attrs={"class": "field-table-position"}),
            "name": _line(11),
            "label": _line(11),
            "legal_basis": _short_text(),
            "conditions": _short_text(),
        }

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


class DemandDatasetSelect(AutocompleteSelect):
    """The demand form's dataset choice: searched on the server by code and name
    (admin_views.demand_dataset_search_view) instead of a select of every dataset on the
    platform, among the asked department's once one is chosen (catalog/demand_dataset.js).
    Not Django's own autocomplete: that one searches DatasetAdmin's rows, which for an officer
    are their own department's, the very datasets a demand does not name."""

    def get_url(self) -> str:
        return reverse(f"{self.admin_site.name}:catalog_demand_dataset_search")

    def build_attrs(self, base_attrs, extra_attrs=None):
        attrs = super().build_attrs(base_attrs, extra_attrs=extra_attrs)
        # Its own class, so that Django's autocomplete.js leaves it to demand_dataset.js.
        classes = attrs["class"].split()
        attrs["class"] = " ".join(
            "demand-dataset-search" if c == "admin-autocomplete" else c for c in classes
        )
        attrs["data-provider-field"] = "id_provider"
        return attrs

    @property
    def media(self) -> forms.Media:
        # One list, so that the script comes after select2 and jquery.init.js (two Media
        # added together may be merged in either order).
        base = super().media
        return forms.Media(
            js=[*base._js, "catalog/demand_dataset.js"],
            css={
                **base._css,
                "screen": [*base._css.get("screen", []), "catalog/demand_dataset.css"],
            },
        )


class DemandForm(forms.ModelForm):
    """Filing a demand (the answer has its own form, DemandAnswerForm). An officer of one
    department files for it alone: that one choice is made for them."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        requester = self.fields.get("requester")
        if requester is not None and self.initial.get("requester") is None:
            choices = list(requester.queryset.values_list("pk", flat=True)[:2])
            if len(choices) == 1:
                self.initial["requester"] = choices[0]

    def clean(self):
        data = super().clean()
        requester, provider, dataset = (data.get(k) for k in ("requester", "provider", "dataset"))
        if requester and provider and requester.pk == provider.pk:
            raise ValidationError({"provider": _("A department cannot file a demand to itself.")})
        if dataset and provider and dataset.provider_id != provider.pk:
            raise ValidationError(
                {"dataset": _("The dataset is not held by the asked department.")}
            )
        return data


class DemandAnswerForm(forms.ModelForm):
    """The asked department's answer. Whether it closes the demand is all there is to choose:
    a free status select offered "open" and "answered", which an answer cannot honour."""

    close = forms.BooleanField(
        label=_("Close the demand"),
        required=False,
        help_text=_(
            "Tick to answer and close: a closed demand can no longer be answered or reopened. "
            "Leave unticked to answer and keep the demand open to a further answer."
        ),
    )

    class Meta:
        model = Demand
        fields = ("answer",)
        widgets = {"answer": forms.Textarea(attrs={"rows": 4, "cols": 80})}

    def clean_answer(self) -> str:
        answer = (self.cleaned_data.get("answer") or "").strip()
        if not answer:
            raise ValidationError(_("The answer cannot be empty."))
        return answer


class DatasetForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The field inline checks the fields as they will be; the stored ones may be changing.
        self.instance.defer_fields_check = True
