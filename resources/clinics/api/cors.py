"""CORS, HEAD and method handling for every /api/v1/ address.

Anyone may read the API from any origin (`Access-Control-Allow-Origin: *`, never with
credentials); preflights are answered; anything but GET, HEAD and OPTIONS is a JSON 405.
Hand-written rather than django-cors-headers: that library answers only requests that carry an
`Origin` header, while the API's answers are cached whole for everyone (hub/cache.py) and must
carry the header whoever asked first; and it does not enforce the read-only methods, which this
wrapper must do anyway.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation

from ...models import UI_LANGUAGES

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# A header name as it may appear in Access-Control-Request-Headers (RFC 9110 token).
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def _ui_language(request: HttpRequest) -> str:
    requested = request.GET.get("ui", "")
    return requested if requested in UI_LANGUAGES else settings.LANGUAGE_CODE


def _preflight(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(status=204)
    response["Access-Control-Allow-Methods"] = ", ".join(SAFE_METHODS)
    requested = [
        name.strip()
        for name in request.headers.get("Access-Control-Request-Headers", "").split(",")
        if _HEADER_NAME.match(name.strip())
    ]
    if requested:
        # Nothing here depends on a request header and no credentials are ever accepted,
        # so whatever a client wants to send is harmless.
        response["Access-Control-Allow-Headers"] = ", ".join(requested)
        response["Vary"] = "Access-Control-Request-Headers"
    response["Access-Control-Max-Age"] = "86400"
    return response


def read_only_cross_origin(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """GET and HEAD for anyone, from any origin; OPTIONS answers a CORS preflight; other
    methods get a JSON 405. Labels and messages are in the `ui` language."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "OPTIONS":
            response = _preflight(request)
        elif request.method not in SAFE_METHODS:
            response = JsonResponse({"detail": "Method not allowed."}, status=405)
        else:
            head = request.method == "HEAD"
            if head:
                request.method = "GET"
            with translation.override(_ui_language(request)):
                response = view(request, *args, **kwargs)
            if head:
                length = len(response.content)
                response.content = b""
                response["Content-Length"] = str(length)
        response["Allow"] = ", ".join(SAFE_METHODS)
        response["Access-Control-Allow-Origin"] = "*"
        return response

    wrapper.csrf_exempt = True  # type: ignore[attr-defined]  # nothing here changes state
    return wrapper
