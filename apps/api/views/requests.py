"""Data requests through the API: the same services as the admin, for both sides."""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers

from apps.api.auth import caller_for
from apps.api.permissions import ActsForDepartment, MayWorkOnRequests
from apps.api.schema import SESSION
from apps.api.views.base import ApiView, json_response, problems
from apps.catalog.models import Dataset, Field
from apps.catalog.selectors import dataset_by_code
from apps.sharing import services
from apps.sharing.models import DataRequest, Grant
from apps.sharing.selectors import requests_for_department


class RequestIn(serializers.Serializer):
    dataset = serializers.CharField(help_text="Catalogue code.")
    fields = serializers.ListField(child=serializers.CharField(), min_length=1)
    purpose = serializers.CharField()
    legal_basis = serializers.CharField()
    valid_until = serializers.DateField()


class ApproveIn(serializers.Serializer):
    fields = serializers.ListField(child=serializers.CharField(), required=False, min_length=1)
    valid_until = serializers.DateField(required=False)


class ReasonIn(serializers.Serializer):
    reason = serializers.CharField()


class OptionalReasonIn(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class RequestOut(serializers.Serializer):
    id = serializers.IntegerField()
    dataset = serializers.CharField()
    provider = serializers.CharField()
    consumer = serializers.CharField()
    fields = serializers.ListField(child=serializers.CharField())
    purpose = serializers.CharField()
    legal_basis = serializers.CharField()
    valid_until = serializers.DateField()
    status = serializers.ChoiceField(choices=DataRequest.Status.choices)
    due_by = serializers.DateField()
    overdue = serializers.BooleanField()
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_reason = serializers.CharField()
    grant = serializers.IntegerField(allow_null=True)


def _visible(department):
    return requests_for_department(department=department).prefetch_related(
        Prefetch("fields", queryset=Field.objects.order_by("position", "id"))
    )


def request_out(r: DataRequest) -> dict:
    grant = Grant.objects.filter(request=r).values_list("pk", flat=True).first()
    return {
        "id": r.pk,
        "dataset": r.dataset.code,
        "provider": r.dataset.provider.code,
        "consumer": r.consumer.code,
        "fields": [f.name for f in r.fields.all()],
        "purpose": r.purpose,
        "legal_basis": r.legal_basis,
        "valid_until": r.valid_until,
        "status": r.status,
        "due_by": r.due_by,
        "overdue": r.overdue,
        "decided_at": r.decided_at,
        "decision_reason": r.decision_reason,
        "grant": grant,
    }


def _valid(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class RequestListView(ApiView):
    def get_permissions(self):
        cls = MayWorkOnRequests if self.request.method == "POST" else ActsForDepartment
        return [cls()]

    @extend_schema(
        operation_id="requests_list",
        summary=_("Requests where your department is the requester or the provider"),
        responses={200: RequestOut(many=True), **problems(401, 403, 429)},
    )
    def get(self, request):
        caller = caller_for(request)
        return json_response([request_out(r) for r in _visible(caller.department)[:1000]])

    @extend_schema(
        operation_id="requests_create",
        summary=_("Submit a data request"),
        request=RequestIn,
        responses={201: RequestOut, **problems(400, 401, 403, 404, 429)},
    )
    def post(self, request):
        data = _valid(RequestIn, request)
        caller = caller_for(request)
        try:
            dataset = dataset_by_code(code=data["dataset"])
        except Dataset.DoesNotExist as exc:
            raise Http404(_("No published dataset with this code.")) from exc
        created = services.request_submit(
            consumer=caller.department,
            dataset=dataset,
            fields=data["fields"],
            purpose=data["purpose"],
            legal_basis=data["legal_basis"],
            valid_until=data["valid_until"],
            by=caller.user,
            application_id=caller.agency.application_id if caller.agency else None,
        )
        return json_response(request_out(_visible(caller.department).get(pk=created.pk)), 201)


class RequestDetailMixin:
    def get_request(self, request, pk: int) -> DataRequest:
        caller = caller_for(request)
        try:
            return _visible(caller.department).get(pk=pk)
        except DataRequest.DoesNotExist as exc:
            raise Http404(_("No such request.")) from exc


class RequestDetailView(RequestDetailMixin, ApiView):
    permission_classes = [ActsForDepartment]

    @extend_schema(
        operation_id="requests_retrieve",
        responses={200: RequestOut, **problems(401, 403, 404, 429)},
    )
    def get(self, request, pk: int):
        return json_response(request_out(self.get_request(request, pk)))


class _ActionView(RequestDetailMixin, ApiView):
    permission_classes = [MayWorkOnRequests]
    input_class: type[serializers.Serializer] = OptionalReasonIn

    def act(self, request, data_request: DataRequest, data: dict, caller):
        raise NotImplementedError

    def post(self, request, pk: int):
        data_request = self.get_request(request, pk)
        data = _valid(self.input_class, request)
        caller = caller_for(request)
        try:
            self.act(request, data_request, data, caller)
        except services.InvalidTransition as exc:
            raise Conflict(" ".join(exc.messages)) from exc
        return json_response(request_out(self.get_request(request, pk)))


class Conflict(exceptions.APIException):
    status_code = 409
    default_detail = "Conflict"
    default_code = "conflict"


ACTION_RESPONSES = {200: RequestOut, **problems(400, 401, 403, 404, 409, 429)}
# Deciding and revoking are officers' acts: the sharing policy refuses an application (403)
# whatever its scopes, so only the session is documented for them.
OFFICERS_ONLY = [{SESSION: []}]


class RequestApproveView(_ActionView):
    input_class = ApproveIn

    @extend_schema(
        operation_id="requests_approve",
        request=ApproveIn,
        responses=ACTION_RESPONSES,
        auth=OFFICERS_ONLY,
    )
    def post(self, request, pk: int):
        return super().post(request, pk)

    def act(self, request, data_request, data, caller):
        services.request_approve(
            request=data_request,
            by=caller.user,
            fields=data.get("fields"),
            valid_until=data.get("valid_until"),
        )


class RequestRejectView(_ActionView):
    input_class = ReasonIn

    @extend_schema(
        operation_id="requests_reject",
        request=ReasonIn,
        responses=ACTION_RESPONSES,
        auth=OFFICERS_ONLY,
    )
    def post(self, request, pk: int):
        return super().post(request, pk)

    def act(self, request, data_request, data, caller):
        services.request_reject(request=data_request, by=caller.user, reason=data["reason"])


class RequestRevokeView(_ActionView):
    input_class = ReasonIn

    @extend_schema(
        operation_id="requests_revoke",
        request=ReasonIn,
        responses=ACTION_RESPONSES,
        auth=OFFICERS_ONLY,
    )
    def post(self, request, pk: int):
        return super().post(request, pk)

    def act(self, request, data_request, data, caller):
        grant = (
            Grant.objects.select_related("dataset__provider").filter(request=data_request).first()
        )
        if grant is None:
            raise services.InvalidTransition(_("This request has no grant to revoke."))
        services.grant_revoke(grant=grant, by=caller.user, reason=data["reason"])


class RequestWithdrawView(_ActionView):
    input_class = OptionalReasonIn

    @extend_schema(
        operation_id="requests_withdraw", request=OptionalReasonIn, responses=ACTION_RESPONSES
    )
    def post(self, request, pk: int):
        return super().post(request, pk)

    def act(self, request, data_request, data, caller):
        if data_request.consumer_id != caller.department.pk:
            raise exceptions.PermissionDenied(_("Only the requester may withdraw a request."))
        services.request_withdraw(
            request=data_request,
            by=caller.user,
            application_id=caller.agency.application_id if caller.agency else None,
            reason=data.get("reason", ""),
        )
