"""Data-quality objections through the API (an extension of the Agency API contract, v1):
the same services as the admin, for both sides. Authentication, throttling and problem details
(RFC 9457) are those of every API view (apps.api.views.base.ApiView)."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from apps.api.auth import Caller, caller_for
from apps.api.permissions import FollowsObjections, MayWorkOnObjections
from apps.api.views.base import (
    ApiView,
    ChoiceQuery,
    Conflict,
    json_response,
    problems,
    query_checked,
    query_problems,
    valid_input,
)
from apps.audit.services import origin_of
from apps.catalog.models import Dataset
from apps.catalog.selectors import dataset_by_code
from apps.objections import services
from apps.objections.models import (
    ANSWER_MAX_LENGTH,
    DESCRIPTION_MAX_LENGTH,
    KEY_MAX_LENGTH,
    PROPOSED_VALUE_MAX_LENGTH,
    Objection,
)
from apps.objections.selectors import objections_visible

LIST_LIMIT = 1000


class ObjectionIn(serializers.Serializer):
    dataset = serializers.CharField(help_text="Catalogue code.")
    key = serializers.CharField(max_length=KEY_MAX_LENGTH, help_text="The record's key value.")
    fields = serializers.ListField(
        child=serializers.CharField(), min_length=1, help_text="Fields believed wrong."
    )
    description = serializers.CharField(max_length=DESCRIPTION_MAX_LENGTH)
    proposed_value = serializers.CharField(
        max_length=PROPOSED_VALUE_MAX_LENGTH, required=False, allow_blank=True, default=""
    )


class AnswerIn(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Objection.Outcome.choices)
    answer = serializers.CharField(max_length=ANSWER_MAX_LENGTH)


class WithdrawIn(serializers.Serializer):
    reason = serializers.CharField(
        max_length=ANSWER_MAX_LENGTH, required=False, allow_blank=True, default=""
    )


class ObjectionOut(serializers.Serializer):
    id = serializers.IntegerField()
    dataset = serializers.CharField()
    provider = serializers.CharField()
    consumer = serializers.CharField()
    key = serializers.CharField()
    fields = serializers.ListField(child=serializers.CharField())
    description = serializers.CharField()
    proposed_value = serializers.CharField()
    status = serializers.ChoiceField(choices=Objection.Status.choices)
    outcome = serializers.CharField(help_text="`corrected`, `confirmed` or empty while open.")
    answer = serializers.CharField()
    answered_at = serializers.DateTimeField(allow_null=True)
    withdrawn_at = serializers.DateTimeField(allow_null=True)
    due_by = serializers.DateField()
    overdue = serializers.BooleanField()
    created_at = serializers.DateTimeField()


def objection_out(o: Objection) -> dict:
    return {
        "id": o.pk,
        "dataset": o.dataset.code,
        "provider": o.dataset.provider.code,
        "consumer": o.consumer.code,
        "key": o.record_key,
        "fields": [item.field_name for item in o.items.all()],
        "description": o.description,
        "proposed_value": o.proposed_value,
        "status": o.status,
        "outcome": o.outcome,
        "answer": o.answer,
        "answered_at": o.answered_at,
        "withdrawn_at": o.withdrawn_at,
        "due_by": o.due_by,
        "overdue": o.overdue,
        "created_at": o.created_at,
    }


def _visible(caller: Caller):
    """The acting department's objections (as provider or reporter), those of the departments
    the caller audits, or all of them for a platform auditor."""
    ids = set(caller.auditor_department_ids)
    if caller.department is not None:
        ids.add(caller.department.pk)
    return objections_visible(department_ids=ids, everything=caller.is_platform_auditor)


def _get(caller: Caller, pk: int) -> Objection:
    try:
        return _visible(caller).get(pk=pk)
    except Objection.DoesNotExist as exc:
        raise Http404(_("No such objection.")) from exc


STATUS = ChoiceQuery("status", Objection.Status.values, "Only objections in this state.")


class ObjectionListView(ApiView):
    def get_permissions(self):
        cls = MayWorkOnObjections if self.request.method == "POST" else FollowsObjections
        return [cls()]

    @extend_schema(
        operation_id="objections_list",
        summary=_("Objections your department reported or received"),
        parameters=[STATUS.parameter],
        responses={200: ObjectionOut(many=True), **query_problems(401, 403, 429)},
    )
    def get(self, request):
        query_checked(request.query_params, known=[STATUS.name])
        status = STATUS.value(request)
        qs = _visible(caller_for(request))
        if status is not None:
            qs = qs.filter(status=status)
        return json_response([objection_out(o) for o in qs[:LIST_LIMIT]])

    @extend_schema(
        operation_id="objections_create",
        summary=_("Report a record believed wrong"),
        request=ObjectionIn,
        responses={201: ObjectionOut, **problems(400, 401, 403, 404, 409, 429)},
    )
    def post(self, request):
        data = valid_input(ObjectionIn, request)
        caller = caller_for(request)
        try:
            dataset = dataset_by_code(code=data["dataset"])
        except Dataset.DoesNotExist as exc:
            raise Http404(_("No published dataset with this code.")) from exc
        try:
            created = services.objection_submit(
                consumer=caller.department,
                dataset=dataset,
                key=data["key"],
                fields=data["fields"],
                description=data["description"],
                proposed_value=data["proposed_value"],
                by=caller.user,
                agency=caller.agency,
                origin=origin_of(request),
            )
        except services.ObjectionPending as exc:
            raise Conflict(" ".join(exc.messages)) from exc
        return json_response(objection_out(_get(caller, created.pk)), 201)


class ObjectionDetailView(ApiView):
    permission_classes = [FollowsObjections]

    @extend_schema(
        operation_id="objections_retrieve",
        responses={200: ObjectionOut, **problems(401, 403, 404, 429)},
    )
    def get(self, request, pk: int):
        return json_response(objection_out(_get(caller_for(request), pk)))


ACTION_RESPONSES = {200: ObjectionOut, **problems(400, 401, 403, 404, 409, 429)}


class _ActionView(ApiView):
    permission_classes = [MayWorkOnObjections]
    input_class: type[serializers.Serializer]

    def act(self, objection: Objection, data: dict, caller: Caller) -> None:
        raise NotImplementedError

    def post(self, request, pk: int):
        caller = caller_for(request)
        objection = _get(caller, pk)
        data = valid_input(self.input_class, request)
        try:
            self.act(objection, data, caller)
        except services.ObjectionClosed as exc:
            raise Conflict(" ".join(exc.messages)) from exc
        return json_response(objection_out(_get(caller, pk)))


class ObjectionAnswerView(_ActionView):
    input_class = AnswerIn

    @extend_schema(
        operation_id="objections_answer",
        summary=_("Answer an objection (the providing department)"),
        request=AnswerIn,
        responses=ACTION_RESPONSES,
    )
    def post(self, request, pk: int):
        return super().post(request, pk)

    def act(self, objection, data, caller):
        services.objection_answer(
            objection=objection,
            outcome=data["outcome"],
            answer=data["answer"],
            by=caller.user,
            agency=caller.agency,
            origin=origin_of(self.request),
        )


class ObjectionWithdrawView(_ActionView):
    input_class = WithdrawIn

    @extend_schema(
        operation_id="objections_withdraw",
        summary=_("Withdraw an open objection (the reporting department)"),
        request=WithdrawIn,
        responses=ACTION_RESPONSES,
    )
    def post(self, request, pk: int):
        return super().post(request, pk)

    def act(self, objection, data, caller):
        services.objection_withdraw(
            objection=objection,
            by=caller.user,
            agency=caller.agency,
            reason=data["reason"],
            origin=origin_of(self.request),
        )
