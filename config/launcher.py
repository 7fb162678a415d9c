"""What `make run`, `make test`, `make bench` and `make fuzz` execute.

Resolves PostgreSQL and Redis once (config.services), exports them, and then either runs the
test suite or starts the platform: migrate, load the demo world, and supervise the web server,
a Celery worker and Celery beat as one group that stops together.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from config import services

BASE_DIR = Path(__file__).resolve().parent.parent
PY = sys.executable
BIN = Path(PY).parent


def _manage(*args: str, check: bool = True) -> int:
    return subprocess.run(
        [PY, str(BASE_DIR / "manage.py"), *args], check=check, cwd=BASE_DIR
    ).returncode


def _prepare_environment(settings_module: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    env = services.resolve_all()
    services.ensure_database_exists(env["DATABASE_URL"])


def _supervise(commands: dict[str, list[str]]) -> int:
    """Start every command in its own process group; when one exits or we are interrupted,
    stop all of them (SIGTERM, then SIGKILL after a grace period) so nothing is orphaned."""
    procs: dict[str, subprocess.Popen] = {}
    stopping = False

    def stop(*_args: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    for name, cmd in commands.items():
        procs[name] = subprocess.Popen(cmd, cwd=BASE_DIR, start_new_session=True)
    exit_code = 0
    try:
        while not stopping:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    print(f"[launcher] {name} exited with {proc.returncode}; stopping the group")
                    exit_code = proc.returncode or 1
                    stopping = True
                    break
            time.sleep(0.5)
    finally:
        print("[launcher] stopping web, worker and beat ...")
        for proc in procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in procs.values():
            remaining = max(0.1, deadline - time.monotonic())
            try:
                proc.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        print("[launcher] all stopped")
    return exit_code


def run() -> int:
    _prepare_environment("config.settings.base")
    _manage("migrate", "--noinput", "-v", "0")
    _manage("collectstatic", "--noinput", "-v", "0")
    _manage("demo_load")
    bind = os.environ.get("BIND", "127.0.0.1:8000")
    return _supervise(
        {
            "web": [
                str(BIN / "gunicorn"),
                "config.wsgi:application",
                "--bind",
                bind,
                "--workers",
                os.environ.get("WEB_WORKERS", "2"),
                "--threads",
                os.environ.get("WEB_THREADS", "8"),
                "--worker-class",
                "gthread",
                "--access-logfile",
                "-",
                "--graceful-timeout",
                "10",
            ],
            "worker": [
                str(BIN / "celery"),
                "-A",
                "config",
                "worker",
                "-l",
                "info",
                "-Q",
                os.environ.get("CELERY_QUEUE", "govdata"),
                "--concurrency",
                "2",
            ],
            "beat": [
                str(BIN / "celery"),
                "-A",
                "config",
                "beat",
                "-l",
                "info",
                "--schedule",
                str(services.VAR_DIR / "celerybeat-schedule"),
            ],
        }
    )


def test(args: list[str]) -> int:
    _prepare_environment("config.settings.test")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    return subprocess.run([PY, "-m", "pytest", *args], cwd=BASE_DIR).returncode


def bench(args: list[str]) -> int:
    _prepare_environment("config.settings.base")
    return subprocess.run(
        [PY, str(BASE_DIR / "benchmarks" / "run_all.py"), *args], cwd=BASE_DIR
    ).returncode


def fuzz(args: list[str]) -> int:
    _prepare_environment("config.settings.test")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["GOVDATA_FUZZ_FULL"] = "1"
    return subprocess.run([PY, "-m", "pytest", "tests/fuzz", *args], cwd=BASE_DIR).returncode


def main(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("run", [])
    if command == "run":
        return run()
    if command == "test":
        return test(rest)
    if command == "bench":
        return bench(rest)
    if command == "fuzz":
        return fuzz(rest)
    if command == "manage":
        _prepare_environment("config.settings.base")
        return _manage(*rest, check=False)
    print(f"unknown command {command!r}; use run, test, bench, fuzz or manage", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
