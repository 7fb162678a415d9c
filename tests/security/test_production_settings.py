"""Production settings: `check --deploy` clean, secrets only from the environment or files,
static analysis clean. These start fresh interpreters, as a deployment would."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
PY = sys.executable


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SECRET_KEY", "GOVDATA_HASH_MASK_KEY", "PYTEST"))
    }
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.production"
    env.update(extra)
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PY, *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret_key"
    path.write_text(secrets.token_urlsafe(64) + "\n", encoding="utf-8")
    return path


def test_check_deploy_is_clean_with_a_secret_key_from_a_file(tmp_path, secret_file):
    env = _env(tmp_path, SECRET_KEY_FILE=str(secret_file))
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = _run(["manage.py", "check"], _env(tmp_path))
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_the_development_key(tmp_path):
    env = _env(tmp_path, SECRET_KEY="dev-only-insecure-key-change-me-0123456789abcdefghijklmnop")
    result = _run(["manage.py", "check"], env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_secrets_resolve_from_files_and_hardening_is_on(tmp_path, secret_file):
    mask_key = tmp_path / "mask_key"
    mask_key.write_text("mask-key-from-a-file", encoding="utf-8")
    env = _env(tmp_path, SECRET_KEY_FILE=str(secret_file), GOVDATA_HASH_MASK_KEY_FILE=str(mask_key))
    script = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({'key': s.SECRET_KEY, 'mask': s.GOVDATA['HASH_MASK_KEY'], "
        "'otp': s.GOVDATA['REQUIRE_OTP'], 'axes': s.AXES_ENABLED, 'hsts': s.SECURE_HSTS_SECONDS, "
        "'debug': s.DEBUG, 'proxies': s.GOVDATA_TRUSTED_PROXY_COUNT}))"
    )
    result = _run(["-c", script], env)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values == {
        "key": secret_file.read_text(encoding="utf-8").strip(),
        "mask": "mask-key-from-a-file",
        "otp": True,
        "axes": True,
        "hsts": 31536000,
        "debug": False,
        "proxies": 1,
    }


def test_bandit_finds_nothing_unjustified():
    result = subprocess.run(
        [
            str(Path(PY).parent / "bandit"),
            "-c",
            "pyproject.toml",
            "-r",
            "apps",
            "govdata",
            "config",
            "-q",
            "-f",
            "custom",
            "--msg-template",
            "{relpath}:{line} {test_id} {msg}",
        ],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
