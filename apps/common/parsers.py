"""Request bodies of the API: JSON only (product.md: "JSON in and out")."""

from __future__ import annotations

from typing import Any

import orjson
from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import BaseParser


class BodyTooLarge(APIException):
    status_code = 413
    default_code = "content_too_large"


class JSONParser(BaseParser):
    """UTF-8 JSON, refused with a message an agency can act on: where the body stops being
    JSON, not the decoder's internals (DRF's own said "JSON parse error - 'utf-8' codec can't
    decode byte 0xb2 in position 66")."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        # Django's own limit, which it applies to form bodies only.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        data = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(data) > limit:
            raise BodyTooLarge(
                _("The request body is larger than %(limit)d bytes.") % {"limit": limit}
            )
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError(
                _("The request body is not UTF-8 (byte %(offset)d): send JSON encoded as UTF-8.")
                % {"offset": exc.start}
            ) from None
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise ParseError(
                _("The request body is not valid JSON (line %(line)d, column %(column)d).")
                % {"line": exc.lineno, "column": exc.colno}
            ) from None
