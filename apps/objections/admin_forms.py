"""Forms of the objection pages; they only collect input, the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.objections.models import (
    ANSWER_MAX_LENGTH,
    DESCRIPTION_MAX_LENGTH,
    KEY_MAX_LENGTH,
    PROPOSED_VALUE_MAX_LENGTH,
    Objection,
)


class TargetForm(forms.Form):
    """First step of a submission: which dataset (and, for an officer of several departments,
    for which of them)."""

    target = forms.ChoiceField(label=_("Dataset"))

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = choices


class ObjectionForm(forms.Form):
    key = forms.CharField(
        label=_("Record key"),
        max_length=KEY_MAX_LENGTH,
        help_text=_("The value of the dataset's key field of the record believed wrong."),
    )
    fields = forms.MultipleChoiceField(
        label=_("Fields concerned"), widget=forms.CheckboxSelectMultiple
    )
    description = forms.CharField(
        label=_("What is wrong"),
        max_length=DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    proposed_value = forms.CharField(
        label=_("Value believed correct"),
        max_length=PROPOSED_VALUE_MAX_LENGTH,
        required=False,
    )

    def __init__(self, *args, field_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fields"].choices = field_choices


class AnswerForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=Objection.Outcome.choices, widget=forms.RadioSelect
    )
    answer = forms.CharField(
        label=_("Answer"),
        max_length=ANSWER_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What was checked, and what was corrected or why the record is right."),
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=ANSWER_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
