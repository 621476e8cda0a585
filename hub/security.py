"""Security plumbing Django has no setting for.

- `QueryStringLimitMiddleware` turns a query string with more than
  `DATA_UPLOAD_MAX_NUMBER_FIELDS` parameters into a 400 that can actually be rendered.
- `UploadSizeLimitHandler` refuses an upload bigger than `HUB_MAX_UPLOAD_MB` before reading
  it. Django caps form fields (`DATA_UPLOAD_MAX_MEMORY_SIZE`) but not uploaded files:
  `FILE_UPLOAD_MAX_MEMORY_SIZE` only decides when a file is spooled to disk.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, HttpResponse, QueryDict


class QueryStringLimitMiddleware:
    """Parses the query string first, so that too many parameters are a clean 400.

    `request.GET` raises `TooManyFieldsSent` on every access, not once: the 400 page, whose
    header reads the query string again, would then fail too and become a 500. Django guards
    the POST data against exactly this; this does the same for GET. Place it below the
    middleware that add headers (its 400 then carries them) and above any that reads
    `request.GET` on the way in.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            request.GET  # noqa: B018 (parsing is the point)
        except TooManyFieldsSent:
            request.GET = QueryDict()
            raise  # Django answers a SuspiciousOperation with the 400 page, and logs it
        return self.get_response(request)


class UploadSizeLimitHandler(FileUploadHandler):
    """First in FILE_UPLOAD_HANDLERS: a multipart body over the limit is a 400, unread.

    `RequestDataTooBig` is a `SuspiciousOperation`, which Django answers with the 400 page.
    The body's length is known before the first byte is read (WSGI's CONTENT_LENGTH, which
    also bounds how much Django will read), so nothing is spooled to disk first.
    """

    def handle_raw_input(
        self,
        input_data: Any,
        META: dict[str, Any],
        content_length: int,
        boundary: bytes,
        encoding: str | None = None,
    ) -> None:
        limit = settings.HUB_MAX_UPLOAD_MB * 1024 * 1024
        if content_length > limit:
            raise RequestDataTooBig(
                f"Upload of {content_length} bytes exceeds HUB_MAX_UPLOAD_MB "
                f"({settings.HUB_MAX_UPLOAD_MB})."
            )

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        return raw_data  # hand the chunk to the next handler unchanged

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler builds the file
