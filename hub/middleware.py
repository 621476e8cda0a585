"""A database outage answers a friendly 503 with Retry-After, never a traceback.

Django opens (or health-checks) the database connection per request, so once the database is
back the next request simply works: nothing here has to notice the recovery.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30


def service_unavailable(request: HttpRequest) -> HttpResponse:
    """The 503 answer: JSON under /api/, otherwise templates/503.html in the active language.

    The page is rendered without a request context, like Django's 500 page: no context
    processor can reach for the session or the user, which live in the database.
    """
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {"detail": gettext("The service is briefly unavailable. Please try again soon.")},
            status=503,
        )
    else:
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    # A proxy or CDN must not keep serving the outage page after the database is back.
    response["Cache-Control"] = "no-store"
    # Logged once, as a warning, by the caller: this keeps django.request from logging the
    # same request again as an error.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


class DatabaseOutageMiddleware:
    """Answers 503 when the view (or the template it renders) cannot reach the database.

    process_exception sees what the view raises, which includes the querysets that templates
    evaluate lazily inside render(), and what a TemplateResponse raises when it is rendered.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        # The path without its query string (it may hold a visitor's search words), the error
        # class and the driver's first line ("Connection refused", "timeout expired"): no
        # driver includes the password there.
        message = str(exception).strip()
        logger.warning(
            "Database unavailable, answered 503: %s %s: %s: %s",
            request.method,
            request.path,
            exception.__class__.__name__,
            message.splitlines()[0][:200] if message else "",
            extra={"event": "database_unavailable"},
        )
        return service_unavailable(request)
