"""Every setting read from the environment is read here, through these small helpers."""

from __future__ import annotations

import os
import re
from pathlib import Path


def env_str(name: str, default: str = "") -> str:
    value = os.environ.get(name)
    if value is None:
        file_path = os.environ.get(f"{name}_FILE")  # secrets mounted as files (docker/k8s style)
        if file_path:
            return Path(file_path).read_text(encoding="utf-8").strip()
        return default
    return value


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


# PostgreSQL's memory units are case-sensitive; a bare number is kilobytes.
_PG_MEMORY = re.compile(r"\d+(\.\d+)?\s*(B|kB|MB|GB|TB)?")


def env_pg_memory(name: str, default: str) -> str:
    """A PostgreSQL memory size (`64MB`, `65536`, `1.5GB`), checked when the settings load: a
    typo must not first show up as a failed sync run after a whole load. Empty: not set."""
    value = env_str(name, default).strip()
    if value and not _PG_MEMORY.fullmatch(value):
        raise ValueError(
            f"{name} must be a PostgreSQL memory size such as 64MB "
            f"(units B, kB, MB, GB, TB), not {value!r}."
        )
    return value
