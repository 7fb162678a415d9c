"""Refuse an officer's oversized sync upload while it arrives.

Django's default upload handlers write every file to memory or a temporary file before any form
sees it, so a size check in the form alone lets a 5 GB upload fill the disk before it is refused.
`UploadLimitHandler` sits in front of them and makes the parser skip a file that is, or is
declared to be, over settings.GOVDATA["UPLOAD_MAX_BYTES"]. It records the refusal on the request
so that SyncConfigForm can give the officer the usual "over the limit" message.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest

# Room for the multipart envelope around the file: the boundaries, part headers and the other
# (small) fields of the form.
ENVELOPE_ALLOWANCE = 1024 * 1024

# The request attribute holding the size of a refused upload, in bytes.
REFUSED_ATTR = "upload_too_large"


class UploadLimitHandler(FileUploadHandler):
    """Skips any file over the upload limit before the handlers behind it store it.

    SkipFile, not StopUpload: the parser then discards the rest of that file part and goes on
    parsing the fields after it, so the CSRF token and the officer's other entries survive and
    the form can be shown again with its error. StopUpload(connection_reset=True) would leave the
    body unread and the browser would show a connection reset instead of the message;
    StopUpload(connection_reset=False) drops the fields after the file and drains the body line
    by line (unbounded lines in a binary file).
    """

    def __init__(self, request: HttpRequest) -> None:
        super().__init__(request)
        self.limit = int(settings.GOVDATA["UPLOAD_MAX_BYTES"])
        self.declared_length = 0
        self.refused = False

    def handle_raw_input(
        self, input_data, META, content_length: int, boundary, encoding=None
    ) -> None:
        # Under WSGI the request stream ends at the declared length, so a body declared too
        # large is refused before a byte of the file is read. Nothing is raised here: this call
        # comes before the parser handles SkipFile/StopUpload, so an exception would be a 500.
        self.declared_length = content_length
        if content_length > self.limit + ENVELOPE_ALLOWANCE:
            self._refuse(content_length)

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        if self.refused:
            # Raised before the handlers behind this one open a temporary file for it.
            raise SkipFile

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        # The declared length can lie (ASGI, chunked encoding) or leave room for a file just over
        # the limit, so count the file itself: `start` is the bytes of this file received so far.
        received = start + len(raw_data)
        if received > self.limit:
            # The whole request's length is the better estimate of the file's size than the
            # bytes seen so far, which stop just past the limit.
            self._refuse(max(received, self.declared_length))
            raise SkipFile  # the parser closes (and so deletes) the partial temporary file
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the default handlers behind this one build the uploaded file

    def _refuse(self, size: int) -> None:
        self.refused = True  # the request fails anyway: later files need not be stored either
        setattr(self.request, REFUSED_ATTR, size)


def upload_limit_install(request: HttpRequest) -> None:
    """Put UploadLimitHandler in front of the request's upload handlers.

    Must run before anything reads request.POST or request.FILES. Assigning (rather than
    inserting into the list) makes Django raise AttributeError if the body was already parsed,
    instead of silently running without the limit.
    """
    request.upload_handlers = [UploadLimitHandler(request), *request.upload_handlers]


def upload_refused_size(request: HttpRequest) -> int | None:
    """The size of the upload UploadLimitHandler refused in this request, or None."""
    request.FILES  # noqa: B018 -- parses the body (once) so the handler has had its say
    return getattr(request, REFUSED_ATTR, None)
