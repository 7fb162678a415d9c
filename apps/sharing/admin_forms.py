"""Forms of the admin's decision pages; they only collect input, the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.catalog.models import MaskingChoices


class OptionalJSONField(forms.JSONField):
    """Shows an empty box, not the text `null`, when nothing was entered."""

    def prepare_value(self, value):
        return "" if value is None else super().prepare_value(value)


class ApproveForm(forms.Form):
    fields = forms.MultipleChoiceField(
        label=_("Fields to grant"), widget=forms.CheckboxSelectMultiple
    )
    valid_until = forms.DateField(
        label=_("Valid until"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    row_filter = OptionalJSONField(
        label=_("Row filter"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text=_('Optional, e.g. {"district": "天河区"} or {"district__in": ["天河区"]}.'),
    )
    masks = OptionalJSONField(
        label=_("Stricter masks"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
    )

    def __init__(self, *args, request_obj, **kwargs):
        super().__init__(*args, **kwargs)
        # Formatted per form, in the request's language: formatted at import it stayed English.
        self.fields["masks"].help_text = gettext(
            'Optional, e.g. {"name": "hash"}. Rules: %(rules)s'
        ) % {"rules": ", ".join(MaskingChoices.values)}
        names = list(request_obj.fields.order_by("position").values_list("name", "label"))
        self.fields["fields"].choices = [(n, f"{n} {label}") for n, label in names]
        self.fields["fields"].initial = [n for n, _label in names]
        self.fields["valid_until"].initial = request_obj.valid_until


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 4}))


class OptionalReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class RequestForm(forms.Form):
    """A department's request for conditional fields of another department's dataset. The
    choices are the dataset's published conditional fields; the service judges the rest."""

    fields = forms.MultipleChoiceField(
        label=_("Fields requested"), widget=forms.CheckboxSelectMultiple
    )
    purpose = forms.CharField(
        label=_("Purpose"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What the data will be used for; every read will state it again."),
    )
    legal_basis = forms.CharField(
        label=_("Legal basis"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The law, regulation or policy that justifies the request."),
    )
    valid_until = forms.DateField(
        label=_("Needed until"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args, choices: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fields"].choices = choices
