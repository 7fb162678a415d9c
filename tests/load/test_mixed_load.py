"""Load: a mixed agency workload from a second process on loopback against the production
server configuration (gunicorn, gthread). 20 s in the test suite; GOVDATA_LOAD_SECONDS=60 for
the full minute of issue 7."""

from __future__ import annotations

import collections
import os

import pytest

from tests.live import fetch_token, gunicorn_server
from tests.load.harness import THROTTLE_OFF, access_event_counts, finish_load, start_load, summary

SECONDS = int(os.environ.get("GOVDATA_LOAD_SECONDS", "20"))
pytestmark = pytest.mark.load


@pytest.mark.timeout(SECONDS * 4 + 180)
def test_mixed_load_has_no_errors_and_exactly_one_audit_event_per_data_response(
    live_world, tmp_path
):
    log = tmp_path / "gunicorn.log"
    with gunicorn_server(workers=2, threads=8, log_path=log, **THROTTLE_OFF) as base_url:
        token = fetch_token(
            base_url, live_world.client_id, live_world.client_secret, "read requests"
        )
        proc, out = start_load(
            base_url=base_url,
            token=token,
            live_world=live_world,
            seconds=SECONDS,
            tmp_path=tmp_path,
        )
        results = finish_load(proc, out, timeout=SECONDS + 120)
    print(f"load: {len(results)} responses in {SECONDS} s: {summary(results)}")

    # A submission while another thread's is still pending is refused (409, documented).
    failed = [
        r
        for r in results
        if r["error"] or (r["status"] >= 400 and (r["kind"], r["status"]) != ("submit", 409))
    ]
    assert not failed, failed[:5]
    assert {r["kind"] for r in results} == {"browse", "lookup", "page", "export", "submit"}
    assert len(results) >= 5 * SECONDS, summary(results)
    assert all(r["request_id"] == r["sent_id"] for r in results)

    data_ids = [r["request_id"] for r in results if r["data"]]
    counts = access_event_counts()
    wrong = {rid: counts.get(rid, 0) for rid in data_ids if counts.get(rid, 0) != 1}
    assert not wrong, f"{len(wrong)} data responses without exactly one audit event"
    # ...and no access event that does not belong to a data response (nothing duplicated).
    assert sum(counts.values()) == len(data_ids)
    assert set(counts) == set(data_ids)
    # Every export that served data also recorded how it ended, once.
    export_ids = [r["request_id"] for r in results if r["data"] and r["kind"] == "export"]
    assert access_event_counts(export_ends=True) == collections.Counter(export_ids)
