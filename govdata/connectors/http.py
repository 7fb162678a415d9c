"""HTTP JSON APIs of the departments' systems, with page or cursor pagination and a bearer token."""

from __future__ import annotations

import hashlib
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from django.utils.translation import gettext_noop

from govdata.connectors.base import (
    Columns,
    Connector,
    SourceData,
    SourceError,
    SourceFormatError,
    register,
)

MAX_PAGES = 1_000_000
_SHOWN_CURSOR = 100  # characters of a repeated cursor quoted in the error


def _page_url(url: str) -> str:
    """The URL as an error may show it: no user or password, no query (an officer may have put
    an API key there); the page is named by its number beside it."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return urllib.parse.urlunsplit((parts.scheme, host + port, parts.path, "", ""))


@register
class HttpJsonConnector(Connector):
    """options: url; pagination "page" (page_param, size_param, page_size, first_page) or "cursor"
    (next_key: a full URL or a token sent as cursor_param); records_key (default "results");
    since_param for incremental runs (the API should return the records changed at or after
    that value: one changed in the same instant as the last one read is not missed); columns
    (the names to read when the API returns no record). secrets: token (sent as a bearer
    token).

    The records are JSON objects, keyed by name: a name a record leaves out is null in that
    record only (serialisers omit nulls), a name the dataset does not have is ignored."""

    kind = "http"
    incremental_native = True

    def _get(
        self, client: httpx.Client, url: str, params: dict[str, Any], page: int
    ) -> tuple[Any, bytes]:
        """The page's JSON and its bytes' digest."""
        where = {"page": page, "url": _page_url(url)}
        try:
            response = client.get(url, params=params)
        except httpx.HTTPError as exc:
            raise SourceError(
                gettext_noop("The source API is unreachable (page %(page)d, %(url)s): %(e)s"),
                {**where, "e": str(exc)},
            ) from None
        if response.status_code >= 500 or response.status_code == 429:
            raise SourceError(
                gettext_noop("The source API answered %(status)d for page %(page)d (%(url)s)."),
                {**where, "status": response.status_code},
            )
        if response.status_code >= 400:
            raise SourceFormatError(
                gettext_noop(
                    "The source API refused the request (%(status)d) for page %(page)d (%(url)s)."
                ),
                {**where, "status": response.status_code},
            )
        try:
            return response.json(), hashlib.sha256(response.content).digest()
        except ValueError:
            raise SourceFormatError(
                gettext_noop("The source API did not answer JSON for page %(page)d (%(url)s)."),
                where,
            ) from None

    def _records(self, body: Any, page: int, url: str) -> list[dict]:
        records = (
            body
            if isinstance(body, list)
            else body.get(self.options.get("records_key", "results"))
            if isinstance(body, dict)
            else None
        )
        if not isinstance(records, list) or any(not isinstance(r, dict) for r in records):
            raise SourceFormatError(
                gettext_noop(
                    "The source API's answer has no list of records (page %(page)d, %(url)s)."
                ),
                {"page": page, "url": _page_url(url)},
            )
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
            page_param = opts.get("page_param", "page")
            page = int(opts.get("first_page", 1))
            previous = None
            for number in range(1, MAX_PAGES + 1):
                body, digest = self._get(client, url, {**params, page_param: page}, number)
                records = self._records(body, number, url)
                if records and digest == previous:
                    # An API that ignores the page parameter answers the first page forever.
                    raise SourceFormatError(
                        gettext_noop(
                            "Page %(page)d of the source API (%(url)s) holds the same records "
                            "as the page before: does the API take the page number as "
                            "“%(param)s”? The run stops."
                        ),
                        {"page": number, "url": _page_url(url), "param": page_param},
                    )
                previous = digest
                yield records
                if len(records) < size:
                    return
                page += 1
            _too_many_pages()
        next_key = opts.get("next_key", "next")
        cursor_param = opts.get("cursor_param", "cursor")
        seen = {url}
        for number in range(1, MAX_PAGES + 1):
            body, _digest = self._get(client, url, params, number)
            yield self._records(body, number, url)
            following = body.get(next_key) if isinstance(body, dict) else None
            if not following:
                return
            # A cursor or next URL sent again would be followed round and round.
            key = str(following)
            if key in seen:
                raise SourceFormatError(
                    gettext_noop(
                        "The source API sent the next-page cursor “%(cursor)s” a second time "
                        "(after page %(page)d, %(url)s): its pages go round in a circle. The "
                        "run stops."
                    ),
                    {
                        "cursor": _page_url(key)
                        if key.startswith(("http://", "https://"))
                        else key[:_SHOWN_CURSOR],
                        "page": number,
                        "url": _page_url(url),
                    },
                )
            seen.add(key)
            if key.startswith(("http://", "https://")):
                url, params = key, {}
            else:
                params = {**params, cursor_param: following}
        _too_many_pages()

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
            # Every name the first page's records have, in the order they first appear; the
            # row validator adds the dataset's fields none of them had (Columns.want).
            columns = Columns(
                dict.fromkeys(name for record in first for name in record), keyed=True
            )
            if not columns:
                columns.want(self.options.get("columns", []))
            if not columns and since is None:
                # Not "the key column is missing": there was nothing to have columns.
                raise SourceFormatError(
                    gettext_noop("The source API returned no records (%(url)s)."),
                    {"url": _page_url(self.options["url"])},
                )
            yield SourceData(columns=columns, rows=_rows(first, pages, columns))


def _too_many_pages() -> None:
    raise SourceFormatError(
        gettext_noop("The source API has more than %(max)d pages; the run stops."),
        {"max": MAX_PAGES},
    )


def _rows(first: list[dict], pages: Iterator[list[dict]], columns: list[str]):
    """Each record projected onto the columns as they are when it is read (the row validator
    may have added some after the first page)."""
    number = 0
    page = first
    while True:
        for record in page:
            number += 1
            yield number, [record.get(c) for c in columns]
        page = next(pages, None)
        if page is None:
            return
