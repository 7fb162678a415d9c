"""What a submission may ask for: one pending request per department and dataset, an end date at
most GOVDATA["REQUEST_MAX_VALIDITY_DAYS"] ahead, a purpose and a legal basis of at most
GOVDATA["REQUEST_TEXT_MAX_CHARS"] characters; and revoking a request asks the right first."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.common import clock
from apps.sharing.models import DataRequest
from apps.sharing.services import (
    InvalidTransition,
    grant_revoke,
    request_approve,
    request_reject,
    request_revoke,
    request_withdraw,
)
from apps.sharing.submission import PendingRequestExists, request_submit
from tests.sharing.conftest import submit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("at_monday")]


def _submit(sw, **overrides) -> DataRequest:
    values = {
        "consumer": sw.consumer,
        "dataset": sw.dataset,
        "fields": ["mobile"],
        "purpose": "健康码核验",
        "legal_basis": "《突发公共卫生事件应急条例》",
        "valid_until": clock.today() + dt.timedelta(days=30),
        "by": sw.consumer_officer,
        **overrides,
    }
    return request_submit(**values)


def test_a_second_pending_request_for_the_same_dataset_is_refused_naming_the_first(sw):
    first = _submit(sw)
    for fields in (["mobile"], ["name", "address"]):  # identical or not: one at a time
        with pytest.raises(PendingRequestExists) as caught:
            _submit(sw, fields=fields)
        assert caught.value.pending_id == first.pk
        assert f"#{first.pk}" in caught.value.messages[0]
    assert DataRequest.objects.count() == 1


@pytest.mark.parametrize("answer", ["approve", "reject", "withdraw"])
def test_a_new_request_is_accepted_once_the_pending_one_is_answered(sw, answer):
    first = _submit(sw)
    if answer == "approve":
        request_approve(request=first, by=sw.provider_officer)
    elif answer == "reject":
        request_reject(request=first, by=sw.provider_officer, reason="用途不明确")
    else:
        request_withdraw(request=first, by=sw.consumer_officer)
    assert _submit(sw, fields=["name"]).status == DataRequest.Status.SUBMITTED


def test_a_pending_request_holds_back_neither_other_departments_nor_other_datasets(sw):
    _submit(sw)
    submit(sw.dataset, sw.outsider, sw.outsider_officer, ["mobile"])
    submit(sw.vaccination, sw.outsider, sw.outsider_officer, ["phone"])
    assert DataRequest.objects.filter(status="submitted").count() == 3


def test_the_end_date_may_be_at_most_the_configured_number_of_days_ahead(sw, settings):
    settings.GOVDATA = {**settings.GOVDATA, "REQUEST_MAX_VALIDITY_DAYS": 90}
    latest = clock.today() + dt.timedelta(days=90)
    with pytest.raises(ValidationError) as caught:
        _submit(sw, valid_until=latest + dt.timedelta(days=1))
    [message] = caught.value.message_dict["valid_until"]
    assert "90" in message and latest.isoformat() in message
    assert _submit(sw, valid_until=latest).valid_until == latest


def test_the_default_limit_is_three_years(sw):
    with pytest.raises(ValidationError) as caught:
        _submit(sw, valid_until=dt.date(2099, 12, 31))
    assert set(caught.value.message_dict) == {"valid_until"}
    assert _submit(sw, valid_until=clock.today() + dt.timedelta(days=1096)).pk


@pytest.mark.parametrize("name", ["purpose", "legal_basis"])
def test_a_text_longer_than_the_limit_is_refused_naming_the_field(sw, settings, name):
    settings.GOVDATA = {**settings.GOVDATA, "REQUEST_TEXT_MAX_CHARS": 50}
    with pytest.raises(ValidationError) as caught:
        _submit(sw, **{name: "核" * 51})
    assert set(caught.value.message_dict) == {name}
    assert "50" in caught.value.message_dict[name][0]
    assert not DataRequest.objects.exists()
    assert getattr(_submit(sw, **{name: " " + "核" * 50 + " "}), name) == "核" * 50


def test_the_default_text_limit_refuses_a_purpose_of_100000_characters(sw):
    with pytest.raises(ValidationError) as caught:
        _submit(sw, purpose="x" * 100_000)
    assert "2000" in caught.value.message_dict["purpose"][0]


def test_revoking_asks_the_right_before_looking_at_the_state(sw):
    pending = _submit(sw)
    # The requester may never revoke: refused, pending or not.
    with pytest.raises(PermissionDenied):
        request_revoke(request=pending, by=sw.consumer_officer, reason="不需要了")
    # The provider may: a pending request has no grant yet, which is a matter of state.
    with pytest.raises(InvalidTransition):
        request_revoke(request=pending, by=sw.provider_officer, reason="不需要了")
    grant = request_approve(request=pending, by=sw.provider_officer)
    with pytest.raises(PermissionDenied):
        request_revoke(request=pending, by=sw.consumer_officer, reason="不需要了")
    assert request_revoke(request=pending, by=sw.provider_officer, reason="合作结束") == grant
    with pytest.raises(InvalidTransition):
        request_revoke(request=pending, by=sw.provider_officer, reason="再次撤销")


def test_grant_revoke_refuses_a_caller_without_the_right_even_without_a_reason(sw):
    grant = request_approve(request=_submit(sw), by=sw.provider_officer)
    with pytest.raises(PermissionDenied):
        grant_revoke(grant=grant, by=sw.consumer_officer, reason="")
    with pytest.raises(ValidationError):
        grant_revoke(grant=grant, by=sw.provider_officer, reason="")
