"""The demo world's objections (apps/common/demo/objections.py): one open, one answered, and a
second load adds none."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from apps.objections.models import Objection

pytestmark = pytest.mark.django_db


def _load(tmp_path) -> str:
    out = io.StringIO()
    call_command(
        "demo_load", "--scale", "0.01", "--credentials", str(tmp_path / "c.json"), stdout=out
    )
    return out.getvalue()


def test_the_demo_has_an_open_and_an_answered_objection_loaded_once(tmp_path):
    _load(tmp_path)
    rows = sorted(Objection.objects.values_list("consumer__code", "status", "outcome"))
    assert rows == [("GD-MZ", "answered", "corrected"), ("GD-WJ", "open", "")]
    assert "nothing changed" in _load(tmp_path)
    assert Objection.objects.count() == 2
