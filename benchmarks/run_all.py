"""Run every benchmark and rewrite docs/benchmarks.md from the figures they print.

`make bench` runs this (through config.launcher, which resolves PostgreSQL and Redis first).
The figure format the scripts print is described in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
PREFIX = "BENCH-JSON "
# Scripts the other issues promise; a missing one is noted in the report, not an error.
EXPECTED = ("store_design.py", "sync_bench.py", "api_bench.py", "audit_bench.py")
OPS = {">=": "≥", "<=": "≤", "==": "="}


@dataclass
class ScriptResult:
    script: str
    status: str = "not run"  # ok | failed | timeout | no figures | missing
    returncode: int | None = None
    seconds: float = 0.0
    figures: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    log: str = ""


# --- Running --------------------------------------------------------------------------------


def discover(scripts_dir: Path) -> list[Path]:
    found = sorted(scripts_dir.glob("*_bench.py"))
    store = scripts_dir / "store_design.py"
    return ([store] if store.exists() else []) + found


def parse_line(line: str) -> list[dict[str, Any]]:
    payload = json.loads(line[len(PREFIX) :])
    items = payload if isinstance(payload, list) else [payload]
    for item in items:
        if not isinstance(item, dict):
            raise ValueError("each figure must be a JSON object")
        missing = [key for key in ("name", "value", "unit") if key not in item]
        if missing:
            raise ValueError(f"figure {item.get('name', '?')!r} lacks {', '.join(missing)}")
    return items


def run_script(script: Path, *, log_dir: Path, timeout: float | None) -> ScriptResult:
    result = ScriptResult(script=script.name)
    log_path = log_dir / f"{script.stem}.log"
    result.log = str(
        log_path.relative_to(BASE_DIR) if log_path.is_relative_to(BASE_DIR) else log_path
    )
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    started = time.monotonic()
    print(f"[bench] running {script.name} ...", flush=True)
    with open(log_path, "w", encoding="utf-8") as log:
        # Its own process group, so a timeout stops the script and anything it started.
        proc = subprocess.Popen(
            [sys.executable, str(script)],
            cwd=BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        timed_out = threading.Event()

        def stop() -> None:
            timed_out.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        watchdog = threading.Timer(timeout, stop) if timeout else None
        if watchdog is not None:
            watchdog.start()
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            sys.stdout.write(f"  {script.stem}| {line}")
            if line.startswith(PREFIX):
                try:
                    result.figures.extend(parse_line(line.strip()))
                except ValueError as exc:  # json.JSONDecodeError is a ValueError
                    result.problems.append(f"unreadable {PREFIX.strip()} line: {exc}")
        result.returncode = proc.wait()
        if watchdog is not None:
            watchdog.cancel()
        if timed_out.is_set():
            result.status = "timeout"
            result.problems.append(f"stopped after the {timeout:.0f} s time limit")
    result.seconds = time.monotonic() - started
    if result.status != "timeout":
        if result.returncode != 0:
            result.status = "failed"
        elif not result.figures:
            result.status = "no figures"
        else:
            result.status = "ok"
    print(f"[bench] {script.name}: {result.status} in {result.seconds:.0f} s", flush=True)
    return result


# --- Judging figures ------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def evaluate(figure: dict[str, Any]) -> dict[str, Any]:
    """Add `ratio`, `passed` and `verdict` to a figure, as far as its fields allow."""
    fig = dict(figure)
    value, baseline = _number(fig.get("value")), _number(fig.get("baseline"))
    # A value in "x" is already a ratio; otherwise divide only numbers of the same unit.
    same_unit = fig.get("unit") != "x" and fig.get("baseline_unit", fig["unit"]) == fig["unit"]
    if fig.get("ratio") is None and value is not None and baseline and same_unit:
        fig["ratio"] = value / baseline
    target = fig.get("target")
    miss = ""
    if isinstance(target, dict) and target.get("op") in OPS:
        subject = fig.get("ratio") if target.get("of") == "ratio" else fig.get("value")
        wanted, op = target.get("value"), target["op"]
        if op == "==":
            ok = subject == wanted
        elif _number(subject) is None or _number(wanted) is None:
            ok = None
        else:
            ok = subject >= wanted if op == ">=" else subject <= wanted
        fig.setdefault("passed", ok)
        if ok is False and _number(subject) is not None and _number(wanted):
            gap = abs(subject - wanted) / abs(wanted) * 100
            sign = "<" if op == ">=" else ">"
            miss = f"misses by {gap:.0f}% ({fmt(subject)} {sign} {fmt(wanted)})"
    passed = fig.get("passed")
    if passed is True:
        fig["verdict"] = "meets"
    elif passed is False:
        fig["verdict"] = miss or "misses"
    else:
        fig["verdict"] = "no target" if target is None else "not judged"
    return fig


# --- Writing --------------------------------------------------------------------------------


def fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.3g}"
    return str(value)


def target_text(fig: dict[str, Any]) -> str:
    target = fig.get("target")
    if target is None:
        return "–"
    if isinstance(target, str):
        return target
    suffix = " × baseline" if target.get("of") == "ratio" else f" {fig.get('unit', '')}"
    return f"{OPS.get(target.get('op'), target.get('op'))} {fmt(target.get('value'))}{suffix}"


def baseline_text(fig: dict[str, Any]) -> str:
    if fig.get("baseline") is None and not fig.get("baseline_label"):
        return "–"
    number = fmt(fig.get("baseline")) if fig.get("baseline") is not None else ""
    default_unit = "" if fig.get("unit") == "x" else fig.get("unit", "")
    unit = fig.get("baseline_unit", default_unit) if number else ""
    label = fig.get("baseline_label", "")
    return " ".join(
        part for part in (label + (":" if label and number else ""), number, unit) if part
    )


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def machine() -> dict[str, str]:
    info = {
        "cpus": str(os.cpu_count() or "?"),
        "cpu_model": platform.processor() or platform.machine(),
        "memory": "?",
        "os": platform.platform(),
        "python": platform.python_version(),
        "postgresql": "?",
    }
    try:
        usable = len(os.sched_getaffinity(0))
        if str(usable) != info["cpus"]:
            info["cpus"] += f" ({usable} usable)"
    except AttributeError:
        pass
    cpuinfo, meminfo = Path("/proc/cpuinfo"), Path("/proc/meminfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
    if meminfo.exists():
        for line in meminfo.read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                info["memory"] = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    info["postgresql"] = postgres_version()
    return info


def postgres_version() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return "not configured"
    try:
        import dj_database_url
        import psycopg2

        cfg = dj_database_url.parse(url)
        params = {
            "dbname": cfg.get("NAME"),
            "user": cfg.get("USER"),
            "password": cfg.get("PASSWORD"),
            "host": cfg.get("HOST"),
            "port": cfg.get("PORT"),
        }
        conn = psycopg2.connect(**{k: v for k, v in params.items() if v}, connect_timeout=5)
        try:
            with conn.cursor() as cursor:
                cursor.execute("SHOW server_version")
                return f"PostgreSQL {cursor.fetchone()[0]}"
        finally:
            conn.close()
    except Exception as exc:  # noqa: BLE001 - the report is still useful without it
        return f"unknown ({exc.__class__.__name__})"


def git_revision() -> str:
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=BASE_DIR, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=BASE_DIR, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{rev or 'unknown'}{' with uncommitted changes' if dirty else ''}"


def render(
    results: list[ScriptResult], *, info: dict[str, str], command: str, when: dt.datetime
) -> str:
    lines = [
        "# Benchmark figures",
        "",
        "Written by `make bench` (`benchmarks/run_all.py`); do not edit by hand, run it again.",
        "How each script measures is described in its own docstring; the figure format is in",
        "`benchmarks/README.md`. Analysis of the figures (profiles, why a target is missed,",
        "what to do next) is in `docs/benchmark-notes.md`.",
        "",
        f"- Date: {when:%Y-%m-%d %H:%M} UTC",
        f"- Command: `{command}`",
        f"- Revision: {git_revision()}",
        f"- Machine: {info['cpus']} CPUs ({info['cpu_model']}), {info['memory']} memory, "
        f"{info['os']}",
        f"- Software: {info['postgresql']}, Python {info['python']}",
        "",
        "## Summary",
        "",
        "| figure | value | target | baseline | ratio | result |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for result in results:
        for fig in result.figures:
            value = f"{fmt(fig.get('value'))} {fig.get('unit', '')}".strip()
            lines.append(
                f"| {_cell(fig.get('label') or fig['name'])} | {_cell(value)} | "
                f"{_cell(target_text(fig))} | {_cell(baseline_text(fig))} | "
                f"{fmt(fig.get('ratio'))} | {_cell(fig['verdict'])} |"
            )
    if not any(result.figures for result in results):
        lines.append("| (no figures) | | | | | |")
    for result in results:
        lines += ["", f"## {Path(result.script).stem}", ""]
        if result.status == "missing":
            lines.append(f"`benchmarks/{result.script}` is not in this checkout; not run.")
            continue
        lines.append(
            f"`benchmarks/{result.script}`: {result.status}, exit code {result.returncode}, "
            f"{result.seconds:.0f} s. Full output: `{result.log}`."
        )
        lines += [f"- {_cell(problem)}" for problem in result.problems]
        if result.figures:
            lines += ["", "| figure | name | value | sizes |", "| --- | --- | --- | --- |"]
        for fig in result.figures:
            sizes = ", ".join(f"{k}={fmt(v)}" for k, v in (fig.get("sizes") or {}).items())
            lines.append(
                f"| {_cell(fig.get('label') or fig['name'])} | `{_cell(fig['name'])}` | "
                f"{_cell(fmt(fig.get('value')) + ' ' + str(fig.get('unit', '')))} | "
                f"{_cell(sizes or '–')} |"
            )
        shown: set[str] = set()
        for fig in result.figures:
            details = str(fig.get("details") or "").rstrip()
            if details and details not in shown:
                shown.add(details)
                title = fig.get("label") or fig["name"]
                lines += ["", f"{title}:", "", "```", details, "```"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scripts-dir", type=Path, default=BASE_DIR / "benchmarks")
    parser.add_argument("--output", type=Path, default=BASE_DIR / "docs" / "benchmarks.md")
    parser.add_argument("--log-dir", type=Path, default=BASE_DIR / "var" / "bench")
    parser.add_argument("--only", nargs="*", help="script names (with or without .py)")
    parser.add_argument("--timeout", type=float, default=None, help="seconds per script")
    parser.add_argument("--strict", action="store_true", help="fail when a figure misses")
    parser.add_argument("--expected", nargs="*", default=list(EXPECTED))
    args = parser.parse_args(argv)

    scripts = discover(args.scripts_dir)
    wanted = {name.removesuffix(".py") for name in args.only or []}
    if wanted:
        scripts = [script for script in scripts if script.stem in wanted]
    args.log_dir.mkdir(parents=True, exist_ok=True)
    when = dt.datetime.now(dt.UTC)
    results = [run_script(s, log_dir=args.log_dir, timeout=args.timeout) for s in scripts]
    present = {script.name for script in discover(args.scripts_dir)}
    for name in args.expected:
        if name not in present and (not wanted or name.removesuffix(".py") in wanted):
            results.append(ScriptResult(script=name, status="missing"))
    for result in results:
        result.figures = [evaluate(fig) for fig in result.figures]

    given = sys.argv[1:] if argv is None else argv
    command = f"python benchmarks/run_all.py {' '.join(given)}" if given else "make bench"
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        render(results, info=machine(), command=command, when=when), encoding="utf-8"
    )
    (args.log_dir / "results.json").write_text(
        json.dumps(
            [result.__dict__ for result in results], ensure_ascii=False, indent=2, default=str
        ),
        encoding="utf-8",
    )
    print(f"[bench] wrote {args.output}", flush=True)
    broken = [r.script for r in results if r.status in {"failed", "timeout", "no figures"}]
    missed = [f["name"] for r in results for f in r.figures if f.get("passed") is False]
    if broken:
        print(f"[bench] scripts without figures: {', '.join(broken)}", file=sys.stderr)
    if missed:
        print(f"[bench] figures missing their target: {', '.join(missed)}", file=sys.stderr)
    return 1 if broken or (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
