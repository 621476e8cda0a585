"""Security plumbing Django has no setting for.

- `QueryStringLimitMiddleware` turns a query string with more than
  `DATA_UPLOAD_MAX_NUMBER_FIELDS` parameters into a 400 that can actually be rendered, and
  refuses a control character anywhere in a query string's names or values with a 400: the one
  place every view's GET parameters are checked, so a new view or parameter is covered too.
- `UploadSizeLimitHandler` refuses an upload bigger than `HUB_MAX_UPLOAD_MB` before reading
  it. Django caps form fields (`DATA_UPLOAD_MAX_MEMORY_SIZE`) but not uploaded files:
  `FILE_UPLOAD_MAX_MEMORY_SIZE` only decides when a file is spooled to disk.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.urls import get_resolver
from django.utils.translation import gettext

# C0 control characters and DEL. None has a use in an address: PostgreSQL refuses NUL in text
# (a DataError, so a 500), XML (the feeds, the sitemap) refuses most of them, and a printed
# handout or a log line should not carry them. Tab and line breaks included: no field of ours
# is a multi-line text sent by GET.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def has_control_characters(query: QueryDict) -> bool:
    """Whether any parameter name or value of a (decoded) query string holds one."""
    return any(
        CONTROL_CHARACTERS.search(name) or any(CONTROL_CHARACTERS.search(v) for v in values)
        for name, values in query.lists()
    )


def control_characters_refused(request: HttpRequest) -> HttpResponse:
    """The 400: JSON in the API's error shape under /api/, otherwise the site's 400 page."""
    if request.path.startswith("/api/"):
        names = sorted(
            name
            for name, values in request.GET.lists()
            if CONTROL_CHARACTERS.search(name) or any(CONTROL_CHARACTERS.search(v) for v in values)
        )
        message = gettext("Remove the control characters (such as NUL) from this parameter.")
        response: HttpResponse = JsonResponse(
            {
                "detail": gettext("Some parameters could not be used."),
                # A name with a control character in it is not echoed back.
                "errors": {
                    (name if not CONTROL_CHARACTERS.search(name) else "__all__"): [message]
                    for name in names
                },
            },
            status=400,
        )
        # Readable by the pages that call the public API, like its other answers.
        response["Access-Control-Allow-Origin"] = "*"
        return response
    # Django's own 400 view (templates/400.html), rendered without the request, so nothing on
    # the page reads the refused query string again.
    callback = get_resolver().resolve_error_handler(400)
    return callback(request, SuspiciousOperation("Control character in the query string"))


class QueryStringLimitMiddleware:
    """Parses the query string first, so that too many parameters, or a control character in
    any of them, are a clean 400.

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
        if has_control_characters(request.GET):
            return control_characters_refused(request)
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
