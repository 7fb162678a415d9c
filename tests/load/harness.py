"""Running the load client (tests/load/load_client.py) as a second process and reading back
what it saw, plus counting audit events by request id."""

from __future__ import annotations

import collections
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

CLIENT = Path(__file__).with_name("load_client.py")
THROTTLE_OFF = {"API_THROTTLE_RATE": "1000000/min"}  # one app is the whole load: not a 429 test


def start_load(
    *, base_url, token, live_world, seconds, tmp_path, threads=6, pause=0.0, reads_only=False
):
    from apps.common import clock

    config = {
        "base_url": base_url,
        "token": token,
        "dataset": live_world.base.dataset.code,
        "keys": live_world.keys,
        "seconds": seconds,
        "threads": threads,
        "pause": pause,
        "reads_only": reads_only,
        "valid_until": (clock.today() + dt.timedelta(days=60)).isoformat(),
    }
    config_path, out_path = tmp_path / "load.json", tmp_path / "results.ndjson"
    config_path.write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(CLIENT), str(config_path), str(out_path)])
    return proc, out_path


def finish_load(proc, out_path: Path, timeout: float) -> list[dict]:
    assert proc.wait(timeout=timeout) == 0, "the load client failed"
    with out_path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def access_event_counts(*, export_ends: bool = False) -> collections.Counter:
    """Access events per request id, straight from the table (the body is JSON, whatever
    column type stores it): the reads, or with `export_ends` the end events of exports."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT body::jsonb ->> 'request_id' FROM audit_event WHERE kind = 'access'"
            f" AND action {'=' if export_ends else '<>'} 'export.end'"
        )
        return collections.Counter(row[0] for row in cursor.fetchall())


def summary(results: list[dict]) -> str:
    by_kind = collections.Counter((r["kind"], r["status"]) for r in results)
    return ", ".join(f"{k}:{s}={n}" for (k, s), n in sorted(by_kind.items(), key=str))
