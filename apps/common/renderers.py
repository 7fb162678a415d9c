from __future__ import annotations

from typing import Any

import orjson
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer


def _default(value: Any) -> Any:
    # Lazy translation strings, Decimals and sets reach the renderer from serializers.
    if hasattr(value, "__html__") or value.__class__.__name__ == "__proxy__":
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    return str(value)


class ORJSONRenderer(BaseRenderer):
    media_type = "application/json"
    format = "json"
    charset = None

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context=None
    ) -> bytes:
        if data is None:
            return b""
        return orjson.dumps(data, default=_default, option=orjson.OPT_NON_STR_KEYS)


class ProblemJSONRenderer(ORJSONRenderer):
    media_type = "application/problem+json"


class JsonOnly(DefaultContentNegotiation):
    """The API answers JSON (problem+json for errors) whatever the request asks. `format` is an
    ordinary query parameter there (an export's file format, or a filter the query rejects),
    not a renderer choice, which DRF would answer with a 404 for any value but `json`."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type
