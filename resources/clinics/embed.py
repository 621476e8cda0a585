"""The embeddable widget for partner websites (`/embed/resources/?<browse parameters>`).

A compact, read-only list of the resources the browse page shows for the same parameters,
for an <iframe> on a clinic's site. Only registered, active partners may frame it: the
response's CSP `frame-ancestors` lists their origins, and nobody else's. Every other page
keeps `frame-ancestors 'none'` and X-Frame-Options DENY (settings.SECURE_CSP).

No forms, no cookies, no JavaScript; every link opens in the top window.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.csp import CSP
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_safe

from ..catalogue.filters import browse, first_page_query, with_query
from ..models import UI_LANGUAGES, Partner

logger = logging.getLogger(__name__)


# What may stand in the header as an origin. Partner.clean() already demands
# https://host[:port]; this guards the header against rows written around the admin (a ";"
# would start a new directive, a "*" would let anyone frame). Plain http passes here only
# so that a test partner site on 127.0.0.1 can be registered without the admin.
_ORIGIN = re.compile(r"https?://[a-z0-9.-]+(:[0-9]{1,5})?")


def partner_origins() -> list[str]:
    """Every origin of every active partner, de-duplicated and sorted: one query."""
    origins: set[str] = set()
    for partner in Partner.objects.active().only("name", "origins"):
        for origin in partner.origin_list():
            if _ORIGIN.fullmatch(origin.lower()):
                origins.add(origin.lower())
            else:
                logger.warning("Partner %s: origin %r left out of frame-ancestors", partner, origin)
    return sorted(origins)


def framing_policy(origins: list[str]) -> dict[str, Any]:
    """The site's policy, except that exactly these origins may frame the page."""
    return {**settings.SECURE_CSP, "frame-ancestors": origins or [CSP.NONE]}


@xframe_options_exempt  # X-Frame-Options cannot name an allow-list; the CSP above does.
@require_safe
def widget(request: HttpRequest) -> HttpResponse:
    # csp_override() usually decorates a view with a fixed policy; this one depends on the
    # partners in the database, so it is applied per request.
    return csp_override(framing_policy(partner_origins()))(_widget)(request)


def _widget(request: HttpRequest) -> HttpResponse:
    # The address has no language prefix, so LocaleMiddleware chose the visitor's language
    # from Accept-Language; a partner may pin it with ?ui=<language>.
    ui = request.GET.get("ui")
    if ui is not None:
        if ui not in UI_LANGUAGES:
            return _wrong_link(request, [_("Language of the page")])
        translation.activate(ui)
        request.LANGUAGE_CODE = ui

    filterset, results = browse(request.GET, translation.get_language())
    if not filterset.is_valid():
        return _wrong_link(
            request, [str(filterset.filters[name].label) for name in filterset.form.errors]
        )

    shown = list(results[: settings.HUB_PAGE_SIZE])
    total = len(shown) if len(shown) < settings.HUB_PAGE_SIZE else results.count()
    # The widget shows the first page; "See all" starts there too.
    see_all_url = with_query(reverse("resources:list"), first_page_query(request.GET))
    context = {
        "resources": shown,
        "total": total,
        "more": total > len(shown),
        "see_all_url": see_all_url,
    }
    return render(request, "embed/widget.html", context)


def _wrong_link(request: HttpRequest, problems: list[str]) -> HttpResponse:
    """A mistyped widget address says so, in the widget, instead of listing anything."""
    return render(request, "embed/wrong_link.html", {"problems": problems}, status=400)
