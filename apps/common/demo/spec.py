"""Reading fixtures/demo_world.yaml and scaling it (tests load a small copy of the same world)."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings

DEFAULT_SPEC = Path(settings.BASE_DIR) / "fixtures" / "demo_world.yaml"
REQUIRED_KEYS = ("seed", "people", "enterprises", "passwords", "departments", "datasets")


class DemoSpecError(ValueError):
    pass


def spec_load(*, path: Path = DEFAULT_SPEC, scale: float = 1.0) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        spec = yaml.safe_load(handle)
    missing = [key for key in REQUIRED_KEYS if key not in spec]
    if missing:
        raise DemoSpecError(f"{path}: missing top-level keys {', '.join(missing)}")
    spec = copy.deepcopy(spec)
    if scale != 1.0:
        spec["people"] = max(50, int(spec["people"] * scale))
        spec["enterprises"] = max(50, int(spec["enterprises"] * scale))
        for dataset in spec["datasets"]:
            dataset["rows"] = max(20, int(dataset["rows"] * scale))
    codes = [d["code"] for d in spec["departments"]]
    for dataset in spec["datasets"]:
        where = f"{path}: dataset {dataset.get('code')!r}"
        if dataset.get("provider") not in codes:
            raise DemoSpecError(f"{where}: unknown provider {dataset.get('provider')!r}")
        names = [f["name"] for f in dataset["fields"]]
        if dataset.get("key_field") not in names:
            raise DemoSpecError(f"{where}: key field {dataset.get('key_field')!r} is not a field")
    return spec


def dataset_fingerprint(*, spec: dict[str, Any], dataset: dict[str, Any]) -> str:
    """Changes whenever the records a load would produce change; stored with the table so that a
    second load with the same spec skips the dataset."""
    from fixtures.generate import GENERATOR_VERSION

    basis = {
        "generator": GENERATOR_VERSION,
        "seed": spec["seed"],
        "people": spec["people"],
        "enterprises": spec["enterprises"],
        "dataset": dataset,
    }
    raw = json.dumps(basis, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8")
    return hashlib.sha256(raw).hexdigest()[:32]
