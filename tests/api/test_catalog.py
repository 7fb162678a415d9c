"""The responsibility list over the API: filters, keyset pages, my_access masks."""

from __future__ import annotations

import base64

import pytest

from tests.conftest import build_population_dataset


def test_catalog_filters_and_pages(api_world):
    build_population_dataset(api_world.base.provider, code="GA-RK-002")
    client = api_world.clients["no_grant"]
    assert [d["code"] for d in client.get("/api/v1/catalog/?provider=GA").json()["results"]] == [
        "GA-RK-001",
        "GA-RK-002",
    ]
    assert client.get("/api/v1/catalog/?provider=MZ").json()["results"] == []
    assert client.get("/api/v1/catalog/?sharing_type=bogus").status_code == 400
    first = client.get("/api/v1/catalog/?page_size=1").json()
    assert [d["code"] for d in first["results"]] == ["GA-RK-001"]
    second = client.get(first["next"]).json()
    assert [d["code"] for d in second["results"]] == ["GA-RK-002"] and second["next"] is None


def test_my_access_lists_masks_of_the_granted_consumer(api_world):
    body = api_world.clients["granted"].get("/api/v1/catalog/GA-RK-001/").json()
    assert body["my_access"]["fields"] == {
        "id_number": "none",
        "name": "name",
        "gender": "none",
        "birth_date": "year_only",
        "mobile": "mobile",
        "district": "none",
    }
    assert {f["name"] for f in body["fields"]} >= {"religion", "address"}  # the list is public
    assert body["my_access"]["rows"] == {}  # every field on every row


def test_my_access_tells_which_fields_are_readable_on_some_rows_only(api_world):
    import datetime as dt

    from apps.common import clock
    from apps.sharing.services import request_approve
    from apps.sharing.submission import request_submit

    world = api_world.base
    request = request_submit(
        consumer=world.consumer,
        dataset=world.dataset,
        fields=["address"],
        purpose="疫情防控",
        legal_basis="《传染病防治法》",
        valid_until=clock.today() + dt.timedelta(days=30),
        by=world.consumer_officer,
    )
    request_approve(request=request, by=world.provider_officer, row_filter={"district": "天河区"})
    body = api_world.clients["granted"].get("/api/v1/catalog/GA-RK-001/").json()
    assert body["my_access"]["rows"] == {"address": [{"district": "天河区"}]}


def test_unknown_catalog_code_is_404(api_world):
    assert api_world.clients["granted"].get("/api/v1/catalog/NOPE/").status_code == 404


def test_the_provider_filter_ignores_the_case_of_the_code(api_world):
    client = api_world.clients["granted"]
    assert [d["code"] for d in client.get("/api/v1/catalog/?provider=ga").json()["results"]] == [
        "GA-RK-001"
    ]


@pytest.mark.parametrize("cursor", ["!!!", "R0Et*UkstMDAx", "R0EtUkst\nMDAx"])
def test_a_cursor_that_is_not_base64_is_a_400_naming_it(api_world, cursor):
    response = api_world.clients["granted"].get("/api/v1/catalog/", {"cursor": cursor})
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "cursor": [
            "The cursor is not valid: use the “next” link of the previous page of this query."
        ]
    }


def test_an_unknown_sharing_type_is_a_400_naming_the_parameter_and_the_allowed_ones(api_world):
    response = api_world.clients["no_grant"].get("/api/v1/catalog/?sharing_type=bogus")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == ["sharing_type"]
    assert "unconditional" in errors["sharing_type"][0]
    assert "conditional" in errors["sharing_type"][0]
    # Empty is no filter, as on the other list endpoints.
    assert api_world.clients["no_grant"].get("/api/v1/catalog/?sharing_type=").status_code == 200


# --- Refusals name the parameter, in the caller's language ------------------------------------


def test_a_provider_code_no_department_has_is_a_400_naming_the_parameter(api_world):
    response = api_world.clients["no_grant"].get("/api/v1/catalog/?provider=XX-NOPE")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"] == {"provider": ["No department has the code “XX-NOPE”."]}


def test_a_department_that_publishes_nothing_is_still_an_empty_page(api_world):
    response = api_world.clients["no_grant"].get("/api/v1/catalog/?provider=mz")
    assert response.status_code == 200 and response.json()["results"] == []
    # Past the last page of a department that publishes: an empty page too, no refusal.
    cursor = base64.urlsafe_b64encode(b"GA-RK-999").decode()
    response = api_world.clients["no_grant"].get(f"/api/v1/catalog/?provider=GA&cursor={cursor}")
    assert response.status_code == 200 and response.json()["results"] == []


def test_the_old_code_of_a_department_whose_code_changed_is_refused(api_world):
    from apps.departments.services import department_code_change

    department_code_change(department=api_world.base.provider, code="GD-GA")
    client = api_world.clients["no_grant"]
    response = client.get("/api/v1/catalog/?provider=GA")
    assert response.status_code == 400 and list(response.json()["errors"]) == ["provider"]
    codes = [d["code"] for d in client.get("/api/v1/catalog/?provider=gd-ga").json()["results"]]
    assert codes == ["GA-RK-001"]


@pytest.mark.parametrize("page_size", ["abc", "0", "201", " 5", "1_0", "５", ""])
def test_a_page_size_out_of_bounds_or_not_a_number_is_a_400_naming_it(api_world, page_size):
    response = api_world.clients["granted"].get("/api/v1/catalog/", {"page_size": page_size})
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "https://govdata.example/problems/invalid"
    assert body["errors"] == {"page_size": ["“page_size” must be a whole number from 1 to 200."]}


def test_page_size_and_cursor_refusals_are_in_the_callers_language(api_world):
    client = api_world.clients["granted"]
    zh = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
    page_size = client.get("/api/v1/catalog/?page_size=abc", **zh).json()
    assert page_size["errors"] == {"page_size": ["“page_size”必须是 1 到 200 之间的整数。"]}
    cursor = client.get("/api/v1/catalog/?cursor=!!!", **zh).json()
    assert cursor["errors"] == {"cursor": ["游标无效：请使用同一查询上一页的“next”链接。"]}
    provider = client.get("/api/v1/catalog/?provider=XX-NOPE", HTTP_ACCEPT_LANGUAGE="en")
    assert provider.json()["errors"]["provider"] == ["No department has the code “XX-NOPE”."]
