"""The `make bench` runner, with tiny fake benchmark scripts (the real ones are far too big to
run in the test suite)."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import run_all  # noqa: E402

FAKE = """
print("human output first")
import json
figures = [
    {"name": "fake.export_vs_copy", "label": "Export vs COPY", "value": 0.62, "unit": "x",
     "target": {"op": ">=", "value": 0.5}, "baseline": 180000, "baseline_unit": "rows/s",
     "baseline_label": "COPY of the plain table", "sizes": {"rows": 1000}},
    {"name": "fake.lookup_rps", "value": 400.0, "unit": "req/s", "baseline": 1000.0,
     "target": {"op": ">=", "value": 0.5, "of": "ratio"}},
    {"name": "fake.peak_memory", "value": 330, "unit": "MB", "target": {"op": "<=", "value": 300}},
    {"name": "fake.index_only", "value": True, "unit": "bool",
     "target": {"op": "==", "value": True}, "details": "Index Only Scan using x"},
]
print("BENCH-JSON " + json.dumps(figures[0]))
print("BENCH-JSON " + json.dumps(figures[1:]))
"""


def _write(directory: Path, name: str, body: str) -> None:
    (directory / name).write_text(textwrap.dedent(body), encoding="utf-8")


@pytest.fixture
def scripts(tmp_path: Path) -> Path:
    directory = tmp_path / "benchmarks"
    directory.mkdir()
    _write(directory, "fake_bench.py", FAKE)
    _write(directory, "broken_bench.py", "raise SystemExit(3)\n")
    _write(directory, "silent_bench.py", "print('no figures here')\n")
    _write(
        directory,
        "garbled_bench.py",
        "print('BENCH-JSON {not json')\nprint('BENCH-JSON {\"name\": \"x\"}')\n",
    )
    _write(
        directory,
        "store_design.py",
        'print(\'BENCH-JSON {"name": "store.load", "value": 12.5, "unit": "s"}\')\n',
    )
    _write(directory, "not_a_benchmark.py", "raise SystemExit('must not run')\n")
    return directory


def _run(scripts: Path, tmp_path: Path, *extra: str) -> tuple[int, str, list[dict]]:
    output = tmp_path / "docs" / "benchmarks.md"
    log_dir = tmp_path / "logs"
    code = run_all.main(
        ["--scripts-dir", str(scripts), "--output", str(output), "--log-dir", str(log_dir), *extra]
    )
    results = json.loads((log_dir / "results.json").read_text(encoding="utf-8"))
    return code, output.read_text(encoding="utf-8"), results


def test_runner_collects_figures_and_writes_the_report(scripts, tmp_path):
    code, report, results = _run(
        scripts, tmp_path, "--expected", "store_design.py", "ghost_bench.py"
    )
    assert code == 1  # broken, silent and garbled scripts make the run fail
    status = {r["script"]: r["status"] for r in results}
    assert status == {
        "store_design.py": "ok",
        "broken_bench.py": "failed",
        "fake_bench.py": "ok",
        "garbled_bench.py": "no figures",
        "silent_bench.py": "no figures",
        "ghost_bench.py": "missing",
    }
    assert [r["script"] for r in results][0] == "store_design.py"
    assert (
        "| Export vs COPY | 0.62 x | ≥ 0.5 x | COPY of the plain table: 180,000 rows/s | – "
        "| meets |" in report
    )
    assert (
        "| fake.lookup_rps | 400 req/s | ≥ 0.5 × baseline | 1,000 req/s | 0.4 "
        "| misses by 20% (0.4 < 0.5) |" in report
    )
    assert "| fake.peak_memory | 330 MB | ≤ 300 MB | – | – | misses by 10% (330 > 300) |" in report
    assert "| fake.index_only | yes bool | = yes bool | – | – | meets |" in report
    assert "Index Only Scan using x" in report
    assert "`benchmarks/ghost_bench.py` is not in this checkout; not run." in report
    assert "## fake_bench" in report and "## store_design" in report
    assert "not_a_benchmark" not in report


def test_report_names_the_date_machine_and_command(scripts, tmp_path):
    _, report, _ = _run(scripts, tmp_path, "--only", "store_design")
    assert "- Date: " in report and " UTC" in report
    assert "CPUs (" in report and "GiB memory" in report
    assert "PostgreSQL" in report
    assert "- Command: `python benchmarks/run_all.py --scripts-dir" in report


def test_unreadable_figure_lines_are_reported(scripts, tmp_path):
    _, report, results = _run(scripts, tmp_path, "--only", "garbled_bench")
    problems = next(r for r in results if r["script"] == "garbled_bench.py")["problems"]
    assert len(problems) == 2
    assert "lacks value, unit" in problems[1]
    assert "unreadable BENCH-JSON line" in report


def test_only_and_strict(scripts, tmp_path):
    code, report, results = _run(scripts, tmp_path, "--only", "fake_bench", "--expected")
    assert code == 0  # misses are reported, not fatal
    assert [r["script"] for r in results] == ["fake_bench.py"]
    strict_code, _, _ = _run(scripts, tmp_path, "--only", "fake_bench", "--expected", "--strict")
    assert strict_code == 1


def test_a_script_over_its_time_limit_is_stopped(tmp_path):
    directory = tmp_path / "benchmarks"
    directory.mkdir()
    _write(
        directory, "slow_bench.py", "import time\nprint('started', flush=True)\ntime.sleep(60)\n"
    )
    code, report, results = _run(directory, tmp_path, "--timeout", "1", "--expected")
    assert code == 1
    assert results[0]["status"] == "timeout"
    assert results[0]["seconds"] < 30
    assert "stopped after the 1 s time limit" in report


def test_evaluate_computes_the_ratio_only_for_same_units():
    same = run_all.evaluate({"name": "a", "value": 50.0, "unit": "rows/s", "baseline": 100.0})
    assert same["ratio"] == 0.5 and same["verdict"] == "no target"
    other = run_all.evaluate(
        {"name": "b", "value": 0.5, "unit": "x", "baseline": 100.0, "baseline_unit": "rows/s"}
    )
    assert other.get("ratio") is None
    already_a_ratio = run_all.evaluate({"name": "d", "value": 2.5, "unit": "x", "baseline": 0.12})
    assert already_a_ratio.get("ratio") is None
    assert run_all.baseline_text(already_a_ratio) == "0.12"
    judged = run_all.evaluate(
        {"name": "c", "value": 1, "unit": "x", "target": "fast", "passed": False}
    )
    assert judged["verdict"] == "misses"
