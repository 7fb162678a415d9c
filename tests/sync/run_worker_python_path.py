"""A stand-alone sync worker process for the fault tests with the CSV fast path switched off, so
the Python path (and its two-connection COPY) is the one killed. Not collected by pytest."""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

settings.GOVDATA = {**settings.GOVDATA, "SYNC_FAST_PATH": False}

from apps.sync.engine import run_execute  # noqa: E402

run_execute(run_id=int(sys.argv[1]))
