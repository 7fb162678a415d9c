"""Running govdata/auditchain.py as an auditor would: in a process where Django, orjson and
the project cannot even be imported, only `cryptography`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cryptography
import pytest

VERIFIER = Path(__file__).resolve().parents[2] / "govdata" / "auditchain.py"

# -I -S: no site-packages, no PYTHONPATH, no user site. Only `cryptography` (and what it needs)
# is put on the path, so Django, orjson and the project are out of reach.
RUNNER = """
import runpy, sys
sys.path[:0] = [{libdir!r}]
sys.argv = [{verifier!r}, *{args!r}]
try:
    runpy.run_path({verifier!r}, run_name="__main__")
except SystemExit as exit:
    code = exit.code
assert "django" not in sys.modules and "orjson" not in sys.modules, "not isolated"
assert not any(p.endswith("site-packages") for p in sys.path), sys.path
print("MODULES-OK", file=sys.stderr)
sys.exit(code)
"""


@pytest.fixture
def isolated_libdir(tmp_path: Path) -> Path:
    libdir = tmp_path / "lib"
    libdir.mkdir()
    site = Path(cryptography.__file__).parent.parent
    for name in ("cryptography", "cffi", "pycparser"):
        if (site / name).exists():
            (libdir / name).symlink_to(site / name)
    for so in site.glob("_cffi_backend*"):
        (libdir / so.name).symlink_to(so)
    return libdir


def run_offline(libdir: Path, *args: str) -> tuple[int, dict]:
    """The verifier's exit code and verdict; a traceback fails the test (no verdict)."""
    code = RUNNER.format(libdir=str(libdir), verifier=str(VERIFIER), args=list(args))
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, timeout=60
    )
    assert "MODULES-OK" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, json.loads(proc.stdout.strip().splitlines()[-1])


def read_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def write_lines(path: Path, records: list[dict]) -> None:
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
