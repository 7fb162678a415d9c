"""What `make run`, `make test`, `make bench` and `make fuzz` execute.

Resolves PostgreSQL and Redis once (config.services), exports them, and then either runs the
test suite or starts the platform: migrate, load the demo world, and supervise the web server,
a Celery worker and Celery beat as one group that stops together.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
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


def _stop_group(name: str, proc: subprocess.Popen, deadline: float) -> None:
    """SIGTERM was sent to the group; wait for the leader, then make sure nothing of the group
    (gunicorn workers, prefork pool children) survives it."""
    try:
        proc.wait(timeout=max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        print(f"[launcher] {name} did not stop in time; killing it", flush=True)
    with contextlib.suppress(ProcessLookupError):  # the whole group is gone already
        os.killpg(proc.pid, signal.SIGKILL)
    if proc.poll() is None:
        proc.wait()


def _wait_http(url: str, procs: dict[str, subprocess.Popen], timeout: float = 120) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs.values()):
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own URL  # nosec B310
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


def _print_banner(bind: str) -> None:
    path = services.VAR_DIR / "demo-credentials.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        print(f"[launcher] serving on http://{bind}/admin/", flush=True)
        return
    lines = [
        "",
        "=" * 72,
        f"GovData Exchange is up: {data['url']}   API docs: {data['api_docs']}",
        "Demo logins (username / password / role):",
    ]
    lines += [f"  {u['username']:<20} {u['password']:<18} {u['role']}" for u in data["logins"]]
    lines += [
        "  Sign-in also asks for a one-time code: `make otp LOGIN=<username>` prints the current",
        "  one (or load the otpauth:// URI from the credentials file into an authenticator app).",
    ]
    for app in data.get("applications", []):
        lines.append(
            f"  API client {app['department']} {app['name']}: client_id={app['client_id']}"
        )
        lines.append(f"      client_secret={app['client_secret']}")
    lines += [f"Credentials also in {path}. Press Ctrl-C to stop everything.", "=" * 72, ""]
    print("\n".join(lines), flush=True)


def _supervise(commands: dict[str, list[str]], *, health_url: str | None = None) -> int:
    """Start every command in its own process group; when one exits or we are interrupted,
    stop all of them (SIGTERM, then SIGKILL after a grace period) so nothing is orphaned.
    A second Ctrl-C skips the grace period."""
    procs: dict[str, subprocess.Popen] = {}
    interrupts = 0

    def stop(*_args: object) -> None:
        nonlocal interrupts
        interrupts += 1
        if interrupts > 1:
            for proc in procs.values():
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    try:
        for name, cmd in commands.items():
            procs[name] = subprocess.Popen(cmd, cwd=BASE_DIR, start_new_session=True)
            print(f"[launcher] started {name} (pid {procs[name].pid})", flush=True)
        if health_url and not interrupts and _wait_http(health_url, procs):
            _print_banner(os.environ.get("BIND", "127.0.0.1:8000"))
        while not interrupts:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    print(f"[launcher] {name} exited with {proc.returncode}; stopping the group")
                    exit_code = proc.returncode or 1
                    interrupts = 1
                    break
            time.sleep(0.5)
    finally:
        print("[launcher] stopping web, worker and beat ...", flush=True)
        for proc in procs.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for name, proc in procs.items():
            _stop_group(name, proc, deadline)
        print("[launcher] all stopped", flush=True)
    return exit_code


def run() -> int:
    bind = os.environ.get("BIND", "127.0.0.1:8000")
    host, _, port = bind.rpartition(":")
    if services.port_answers(host or "127.0.0.1", int(port)):
        print(f"[launcher] {bind} is already in use; stop that server or set BIND=host:port")
        return 1
    _prepare_environment("config.settings.base")
    services.VAR_DIR.mkdir(parents=True, exist_ok=True)
    _manage("migrate", "--noinput", "-v", "0")
    _manage("collectstatic", "--noinput", "-v", "0")
    _manage("demo_load", "--quiet", "--scale", os.environ.get("GOVDATA_DEMO_SCALE", "1"))
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
                "--config",
                "python:config.gunicorn_conf",
                "--access-logfile",
                "-",
                "--graceful-timeout",
                "10",
                # One control socket per instance (the default one in ~/.gunicorn is shared).
                "--control-socket",
                str(services.VAR_DIR / "gunicorn.ctl"),
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
                os.environ.get("WORKER_CONCURRENCY", "2"),
                "--hostname",
                f"govdata-{os.getpid()}@%h",  # unique, so parallel runs on one broker do not clash
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
        },
        health_url=f"http://{bind}/healthz",
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
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:  # Ctrl-C during migrate or the demo load: embedded servers stop
        sys.exit(130)  # through their atexit hooks
    except subprocess.CalledProcessError as exc:
        print(f"[launcher] {' '.join(map(str, exc.cmd[1:]))} failed ({exc.returncode})")
        sys.exit(exc.returncode or 1)
