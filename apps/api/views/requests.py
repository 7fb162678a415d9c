"""Data requests through the API: the same services as the admin, for both sides."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers

from apps.api.auth import caller_for
from apps.api.permissions import FollowsRequests, MayWorkOnRequests
from apps.api.schema import SESSION
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
from apps.common.openapi import PROBLEM, PROBLEM_MEDIA_TYPE
from apps.common.problems import problem_response
from apps.sharing import policy, services, submission
from apps.sharing.models import DataRequest
from apps.sharing.selectors import (
    grant_fields_held,
    grant_last_day,
    request_field_names,
    request_grant,
    requests_followed,
)

LIST_LIMIT = 1000


class RequestIn(serializers.Serializer):
    dataset = serializers.CharField(help_text="Catalogue code.")
    fields = serializers.ListField(child=serializers.CharField(), min_length=1)
    purpose = serializers.CharField(
        help_text="At most GOVDATA_REQUEST_TEXT_MAX_CHARS characters (default 2000), else 400."
    )
    legal_basis = serializers.CharField(
        help_text="At most GOVDATA_REQUEST_TEXT_MAX_CHARS characters (default 2000), else 400."
    )
    valid_until = serializers.DateField(
        help_text="After today, and at most GOVDATA_REQUEST_MAX_VALIDITY_DAYS days ahead "
        "(default 1096, three years), else 400."
    )


class ApproveIn(serializers.Serializer):
    fields = serializers.ListField(child=serializers.CharField(), required=False, min_length=1)
    valid_until = serializers.DateField(required=False)
    row_filter = serializers.DictField(
        required=False,
        allow_null=True,
        help_text='Rows the grant covers, e.g. {"district": "天河区"}; only fields the consumer '
        "reads in clear.",
    )
    masks = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        allow_null=True,
        help_text='Stricter masks per field, e.g. {"name": "hash"}.',
    )


class ReasonIn(serializers.Serializer):
    reason = serializers.CharField()


class OptionalReasonIn(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class RequestOut(serializers.Serializer):
    id = serializers.IntegerField()
    dataset = serializers.CharField()
    provider = serializers.CharField()
    consumer = serializers.CharField()
    fields = serializers.ListField(child=serializers.CharField(), help_text="As requested.")
    purpose = serializers.CharField()
    legal_basis = serializers.CharField()
    valid_until = serializers.DateField(help_text="The end date asked for.")
    status = serializers.ChoiceField(choices=DataRequest.Status.choices)
    due_by = serializers.DateField()
    overdue = serializers.BooleanField()
    decided_at = serializers.DateTimeField(
        allow_null=True, help_text="When it was approved, rejected or withdrawn."
    )
    decision_reason = serializers.CharField(help_text="The reasons of a rejection.")
    grant = serializers.IntegerField(allow_null=True)
    granted_until = serializers.DateField(
        allow_null=True,
        help_text="The grant's last day (it may be earlier than `valid_until`); null without a "
        "grant.",
    )
    granted_fields = serializers.DictField(
        child=serializers.CharField(),
        help_text="Field -> masking, as granted (possibly fewer fields, or stricter masks, "
        "than asked for); empty without a grant.",
    )
    revoked_at = serializers.DateTimeField(
        allow_null=True, help_text="When the provider revoked the grant; null if it did not."
    )
    revocation_reason = serializers.CharField(
        help_text="The reason the provider gave for revoking the grant; empty if it did not."
    )


def request_out(r: DataRequest) -> dict:
    grant = request_grant(r)
    revoked = grant is not None and grant.revoked_at is not None
    return {
        "id": r.pk,
        "dataset": r.dataset.code,
        "provider": r.dataset.provider.code,
        "consumer": r.consumer.code,
        "fields": request_field_names(r),
        "purpose": r.purpose,
        "legal_basis": r.legal_basis,
        "valid_until": r.valid_until,
        "status": r.status,
        "due_by": r.due_by,
        "overdue": r.overdue,
        "decided_at": r.decided_at,
        "decision_reason": r.decision_reason,
        "grant": grant.pk if grant is not None else None,
        "granted_until": grant_last_day(grant=grant) if grant is not None else None,
        "granted_fields": grant_fields_held(grant=grant) if grant is not None else {},
        "revoked_at": grant.revoked_at if revoked else None,
        "revocation_reason": grant.revoked_reason if revoked else "",
    }


STATUS = ChoiceQuery("status", DataRequest.Status.values, "Only requests in this status.")
SUBMIT_CONFLICT = OpenApiResponse(
    PROBLEM,
    description="Your department already has a request for this dataset pending: the "
    "problem's `pending_request` member is its id (withdraw it to ask differently).",
)


class RequestListView(ApiView):
    def get_permissions(self):
        cls = MayWorkOnRequests if self.request.method == "POST" else FollowsRequests
        return [cls()]

    @extend_schema(
        operation_id="requests_list",
        summary=_("Requests where your department is the requester or the provider"),
        parameters=[STATUS.parameter],
        responses={200: RequestOut(many=True), **query_problems(401, 403, 429)},
    )
    def get(self, request):
        query_checked(request.query_params, known=[STATUS.name])
        status = STATUS.value(request)
        caller = caller_for(request)
        rows = requests_followed(department=caller.department, status=status)[:LIST_LIMIT]
        return json_response([request_out(r) for r in rows])

    @extend_schema(
        operation_id="requests_create",
        summary=_("Submit a data request"),
        request=RequestIn,
        responses={
            201: RequestOut,
            **problems(400, 401, 403, 404, 429),
            (409, PROBLEM_MEDIA_TYPE): SUBMIT_CONFLICT,
        },
    )
    def post(self, request):
        data = valid_input(RequestIn, request)
        caller = caller_for(request)
        try:
            dataset = dataset_by_code(code=data["dataset"])
        except Dataset.DoesNotExist as exc:
            raise Http404(_("No published dataset with this code.")) from exc
        try:
            created = submission.request_submit(
                consumer=caller.department,
                dataset=dataset,
                fields=data["fields"],
                purpose=data["purpose"],
                legal_basis=data["legal_basis"],
                valid_until=data["valid_until"],
                by=caller.user,
                agency=caller.agency,
                origin=origin_of(request),
            )
        except submission.PendingRequestExists as exc:
            return problem_response(
                request,
                409,
                " ".join(exc.messages),
                type_=Conflict.default_code,
                pending_request=exc.pending_id,
            )
        detail = requests_followed(department=caller.department).get(pk=created.pk)
        return json_response(request_out(detail), 201)


class RequestDetailMixin:
    def get_request(self, request, pk: int) -> DataRequest:
        caller = caller_for(request)
        try:
            return requests_followed(department=caller.department).get(pk=pk)
        except DataRequest.DoesNotExist as exc:
            raise Http404(_("No such request.")) from exc


class RequestDetailView(RequestDetailMixin, ApiView):
    permission_classes = [FollowsRequests]

    @extend_schema(
        operation_id="requests_retrieve",
        responses={200: RequestOut, **problems(401, 403, 404, 429)},
    )
    def get(self, request, pk: int):
        return json_response(request_out(self.get_request(request, pk)))


class _ActionView(RequestDetailMixin, ApiView):
    """One decision on a request. The sharing policy is asked first (403 for a caller who may
    never take it, whatever the body or the request's state); then the body is read (400) and
    the service, which asks the policy again, changes the state (409 when the state does not
    allow it)."""

    permission_classes = [MayWorkOnRequests]
    input_class: type[serializers.Serializer] = OptionalReasonIn

    def authorize(self, data_request: DataRequest, caller) -> None:
        raise NotImplementedError

    def act(self, request, data_request: DataRequest, data: dict, caller):
        raise NotImplementedError

    def post(self, request, pk: int):
        data_request = self.get_request(request, pk)
        caller = caller_for(request)
        self.authorize(data_request, caller)
        data = valid_input(self.input_class, request)
        try:
            self.act(request, data_request, data, caller)
        except services.InvalidTransition as exc:
            raise Conflict(" ".join(exc.messages)) from exc
        return json_response(request_out(self.get_request(request, pk)))


ACTION_RESPONSES = {200: RequestOut, **problems(400, 401, 403, 404, 409, 429)}
# Deciding and revoking are officers' acts: the sharing policy refuses an application (403)
# whatever its scopes, so only the session is documented for them.
OFFICERS_ONLY = [{SESSION: []}]


class _DecisionView(_ActionView):
    def authorize(self, data_request, caller):
        policy.require_may_decide_request(user=caller.user, request=data_request)


class RequestApproveView(_DecisionView):
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
            row_filter=data.get("row_filter") or None,
            masks=data.get("masks") or None,
            origin=origin_of(request),
        )


class RequestRejectView(_DecisionView):
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
        services.request_reject(
            request=data_request, by=caller.user, reason=data["reason"], origin=origin_of(request)
        )


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

    def authorize(self, data_request, caller):
        policy.require_may_revoke_request(user=caller.user, request=data_request)

    def act(self, request, data_request, data, caller):
        services.request_revoke(
            request=data_request, by=caller.user, reason=data["reason"], origin=origin_of(request)
        )


class RequestWithdrawView(_ActionView):
    input_class = OptionalReasonIn

    @extend_schema(
        operation_id="requests_withdraw", request=OptionalReasonIn, responses=ACTION_RESPONSES
    )
    def post(self, request, pk: int):
        return super().post(request, pk)

    def authorize(self, data_request, caller):
        policy.require_may_withdraw_request(
            request=data_request, user=caller.user, agency=caller.agency
        )

    def act(self, request, data_request, data, caller):
        services.request_withdraw(
            request=data_request,
            by=caller.user,
            agency=caller.agency,
            origin=origin_of(request),
            reason=data.get("reason", ""),
        )
