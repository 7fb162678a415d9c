"""A stand-alone sync worker process for the fault tests: executes one run and exits.
(Not collected by pytest: the name does not start with test_.)"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"

import django  # noqa: E402

django.setup()

from apps.sync.engine import run_execute  # noqa: E402

run_execute(run_id=int(sys.argv[1]))
