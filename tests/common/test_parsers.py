"""apps.common.parsers: the API takes UTF-8 JSON bodies only, and says where one is wrong."""

from __future__ import annotations

import io

import pytest
from rest_framework.exceptions import ParseError

from apps.common.parsers import JSONParser


def parse(body: bytes):
    return JSONParser().parse(io.BytesIO(body))


def test_a_json_body_is_parsed():
    assert parse('{"purpose": "核验", "fields": ["a"]}'.encode()) == {
        "purpose": "核验",
        "fields": ["a"],
    }


def test_a_body_that_is_not_utf8_says_so_without_the_decoders_words():
    with pytest.raises(ParseError) as caught:
        parse('{"purpose": "核验"}'.encode("gbk"))
    detail = str(caught.value.detail)
    assert "UTF-8" in detail and "codec" not in detail


def test_broken_json_names_the_line_and_column():
    with pytest.raises(ParseError) as caught:
        parse(b'{"purpose":\n  "x",,}')
    assert "2" in str(caught.value.detail)


def test_not_a_number_is_not_json():
    with pytest.raises(ParseError):
        parse(b'{"n": NaN}')


def test_a_form_encoded_body_is_refused_with_415(world, client):
    client.force_login(world.consumer_officer)
    response = client.post(
        "/api/v1/requests/",
        "dataset=GA-RK-001&purpose=x",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 415
    assert response["Content-Type"].startswith("application/problem+json")


def test_a_body_over_the_upload_limit_is_a_413_without_reading_it_all(settings):
    from apps.common.parsers import BodyTooLarge

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    stream = io.BytesIO(b'{"purpose": "' + b"x" * 10_000 + b'"}')
    with pytest.raises(BodyTooLarge) as caught:
        JSONParser().parse(stream)
    assert caught.value.status_code == 413 and "100" in str(caught.value.detail)
    assert stream.tell() == 101  # no more than the limit and one byte


def test_a_request_body_over_the_limit_is_a_413_problem_naming_the_limit(world, client, settings):
    from apps.sharing.models import DataRequest

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 200
    client.force_login(world.consumer_officer)
    body = {"dataset": "GA-RK-001", "fields": ["name"], "purpose": "核验" * 200}
    response = client.post(
        "/api/v1/requests/", body, content_type="application/json", HTTP_X_REQUEST_ID="big-1"
    )
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 413 and problem["request_id"] == "big-1"
    assert "200" in problem["detail"]
    assert not DataRequest.objects.exists()  # nothing was submitted
