"""HTTP JSON APIs of the departments' systems, with page or cursor pagination and a bearer token."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from django.utils.translation import gettext as _

from govdata.connectors.base import (
    Connector,
    SourceData,
    SourceError,
    SourceFormatError,
    register,
)

MAX_PAGES = 1_000_000


@register
class HttpJsonConnector(Connector):
    """options: url; pagination "page" (page_param, size_param, page_size, first_page) or "cursor"
    (next_key: a full URL or a token sent as cursor_param); records_key (default "results");
    since_param for incremental runs. secrets: token (sent as a bearer token)."""

    kind = "http"
    incremental_native = True

    def _get(self, client: httpx.Client, url: str, params: dict[str, Any]) -> Any:
        try:
            response = client.get(url, params=params)
        except httpx.HTTPError as exc:
            raise SourceError(_("The source API is unreachable: %(e)s") % {"e": exc}) from None
        if response.status_code >= 500 or response.status_code == 429:
            raise SourceError(
                _("The source API answered %(status)d.") % {"status": response.status_code}
            )
        if response.status_code >= 400:
            raise SourceFormatError(
                _("The source API refused the request (%(status)d).")
                % {"status": response.status_code}
            )
        try:
            return response.json()
        except ValueError:
            raise SourceFormatError(_("The source API did not answer JSON.")) from None

    def _records(self, body: Any) -> list[dict]:
        records = (
            body if isinstance(body, list) else body.get(self.options.get("records_key", "results"))
        )
        if not isinstance(records, list) or any(not isinstance(r, dict) for r in records):
            raise SourceFormatError(_("The source API's answer has no list of records."))
        return records

    def _pages(self, client: httpx.Client, since: str | None) -> Iterator[list[dict]]:
        opts = self.options
        params: dict[str, Any] = {}
        if since is not None and opts.get("since_param"):
            params[opts["since_param"]] = since
        url = opts["url"]
        if opts.get("pagination", "page") == "page":
            size = int(opts.get("page_size", 500))
            params[opts.get("size_param", "page_size")] = size
            page = int(opts.get("first_page", 1))
            for _i in range(MAX_PAGES):
                body = self._get(client, url, {**params, opts.get("page_param", "page"): page})
                records = self._records(body)
                yield records
                if len(records) < size:
                    return
                page += 1
            return
        next_key = opts.get("next_key", "next")
        for _i in range(MAX_PAGES):
            body = self._get(client, url, params)
            yield self._records(body)
            following = body.get(next_key) if isinstance(body, dict) else None
            if not following:
                return
            if str(following).startswith(("http://", "https://")):
                url, params = str(following), {}
            else:
                params = {**params, opts.get("cursor_param", "cursor"): following}

    @contextmanager
    def open(self, *, watermark_column=None, since=None) -> Iterator[SourceData]:
        headers = {"Accept": "application/json"}
        if self.secrets.get("token"):
            headers["Authorization"] = f"Bearer {self.secrets['token']}"
        timeout = float(self.options.get("timeout", 30))
        # Every request, redirects and next-page links included, goes only where sources may.
        hooks = {"request": [lambda request: self.check_host(str(request.url))]}
        with httpx.Client(
            headers=headers, timeout=timeout, follow_redirects=True, event_hooks=hooks
        ) as client:
            pages = self._pages(client, since)
            first = next(pages, [])
            columns: list[str] = list(first[0].keys()) if first else []
            if not columns:
                columns = list(self.options.get("columns", []))
            yield SourceData(columns=columns, rows=_rows(first, pages, columns))


def _rows(first: list[dict], pages: Iterator[list[dict]], columns: list[str]):
    number = 0
    page = first
    while True:
        for record in page:
            number += 1
            yield number, [record.get(c) for c in columns]
        page = next(pages, None)
        if page is None:
            return
