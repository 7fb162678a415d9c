"""The demo world's approved grants, its API applications and the credentials file.

A client secret is stored hashed and can only be shown when it is set, so the demo secrets live
in var/demo-credentials.json: a later load reuses them, and only an application whose secret was
lost from that file gets a new one.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from apps.catalog.models import Dataset
from apps.common import clock
from apps.common.demo.loader import LoadReport, officer_username
from apps.departments.models import Department

CREDENTIALS_FILE = Path(settings.VAR_DIR) / "demo-credentials.json"
OTP_HINT = (
    "  The admin also asks for a one-time code: `make otp LOGIN=<username>` prints the current\n"
    "  one, or load the account's otpauth:// URI from the credentials file into an app."
)
BASE_URL = f"http://{os.environ.get('BIND', '127.0.0.1:8000')}"


@transaction.atomic
def grants_load(
    *, spec: dict[str, Any], departments: dict[str, Department], report: LoadReport
) -> None:
    """Submits each demo request as the consumer's officer and approves it as the provider's."""
    from apps.sharing.models import DataRequest
    from apps.sharing.services import request_approve
    from apps.sharing.submission import request_submit

    User = get_user_model()
    for entry in spec.get("grants", []):
        dataset = Dataset.objects.select_related("provider").get(code=entry["dataset"])
        consumer = departments[entry["consumer"]]
        request = (
            DataRequest.objects.filter(consumer=consumer, dataset=dataset, purpose=entry["purpose"])
            .order_by("-pk")
            .first()
        )
        if request is None:
            request = request_submit(
                consumer=consumer,
                dataset=dataset,
                fields=entry["fields"],
                purpose=entry["purpose"],
                legal_basis=entry["legal_basis"],
                valid_until=clock.today() + dt.timedelta(days=365),
                by=User.objects.get(username=officer_username(consumer.code)),
            )
            report.note(f"request {consumer.code} -> {dataset.code}")
        if request.status == DataRequest.Status.SUBMITTED:
            request_approve(
                request=request,
                by=User.objects.get(username=officer_username(dataset.provider.code)),
            )
            report.note(f"grant {consumer.code} -> {dataset.code}")


def credentials_read(path: Path = CREDENTIALS_FILE) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}


def applications_load(
    *, spec: dict[str, Any], departments: dict[str, Department], report: LoadReport, path: Path
) -> list[dict[str, str]]:
    from apps.api.models import AgencyApplication
    from apps.api.services import application_create, application_rotate_secret

    known = {
        (a.get("department"), a.get("name")): a.get("client_secret")
        for a in credentials_read(path).get("applications", [])
    }
    admin = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
    result = []
    for entry in spec.get("applications", []):
        department = departments[entry["department"]]
        with transaction.atomic():
            agency = (
                AgencyApplication.objects.select_related("application")
                .filter(department=department, application__name=entry["name"])
                .first()
            )
            if agency is None:
                agency, secret = application_create(
                    department=department, name=entry["name"], by=admin, scopes="read requests"
                )
                report.note(f"application {entry['name']} ({department.code})")
            else:
                secret = known.get((department.code, entry["name"]))
                if not secret:  # lost from the credentials file: the only way back is a new one
                    secret = application_rotate_secret(agency=agency, by=admin)
                    report.note(f"new secret for {entry['name']} ({department.code})")
        result.append(
            {
                "department": department.code,
                "department_name": department.name,
                "name": entry["name"],
                "client_id": agency.application.client_id,
                "client_secret": secret,
            }
        )
    return result


def credentials_write(
    *, report: LoadReport, applications: list[dict[str, str]], path: Path = CREDENTIALS_FILE
) -> dict[str, Any]:
    data = {
        "url": f"{BASE_URL}/admin/",
        "api_docs": f"{BASE_URL}/api/docs/",
        "token_url": f"{BASE_URL}/oauth/token/",
        "logins": report.logins,
        "applications": applications,
    }
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        tmp = path.with_suffix(".tmp")
        # Demo secrets: readable by the owner only.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    return data


def credentials_banner(data: dict[str, Any]) -> str:
    lines = [
        "",
        "GovData Exchange is running:",
        f"  admin     {data['url']}",
        f"  API docs  {data['api_docs']}",
        f"  token     {data['token_url']} (grant_type=client_credentials)",
        "",
        "Demo logins:",
    ]
    lines += [f"  {u['username']:<22} {u['password']:<18} {u['role']}" for u in data["logins"]]
    lines.append(OTP_HINT)
    if data.get("applications"):
        lines += ["", "API applications (OAuth2 client credentials):"]
        lines += [
            f"  {a['department']:<9} {a['name']}\n"
            f"            client_id={a['client_id']}\n"
            f"            client_secret={a['client_secret']}"
            for a in data["applications"]
        ]
    lines += ["", f"(also written to {CREDENTIALS_FILE})", ""]
    return "\n".join(lines)
