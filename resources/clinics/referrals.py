"""Referral counts without tracking (docs/clinics.md).

A visit that arrives through a partner's link (`?ref=<partner slug>`) adds one to that
partner's counter for the day. Nothing else is kept: no cookie, no IP address, no row per
person, and the `ref` parameter changes nothing on the page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from ..models import Partner, ReferralCount, is_slug

logger = logging.getLogger(__name__)


# Not pages a person visits: the admin, machine-readable endpoints, and the widget (a
# widget shown on a partner's page is not a visit to the hub).
_NOT_COUNTED = ("/admin/", "/api/", "/embed/")


def not_a_referral[View: Callable[..., HttpResponse]](view: View) -> View:
    """Mark a view whose `ref` parameter is not a visit: the link builder takes a partner's
    code as input, and a clinician building a link is not a patient arriving through one."""
    view.not_a_referral = True  # type: ignore[attr-defined]
    return view


def record_referral(slug: str, day: date | None = None) -> bool:
    """Add one visit to an active partner's counter for the day; False for anyone else.

    One UPDATE ... SET visits = visits + 1 in the common case, so concurrent visits never
    lose a count. The day's first visit inserts the row; if another request inserted it
    first, the unique constraint refuses ours and we add to theirs.
    """
    partner_id = Partner.objects.active().filter(slug=slug).values_list("pk", flat=True).first()
    if partner_id is None:
        return False
    day = day or timezone.localdate()
    counter = ReferralCount.objects.filter(partner_id=partner_id, day=day)
    if counter.update(visits=F("visits") + 1):
        return True
    try:
        with transaction.atomic():  # a savepoint, so a lost race leaves the transaction usable
            ReferralCount.objects.create(partner_id=partner_id, day=day, visits=1)
    except IntegrityError:
        counter.update(visits=F("visits") + 1)
    return True


def _is_public_page(path: str) -> bool:
    excluded = (*_NOT_COUNTED, settings.STATIC_URL, settings.MEDIA_URL)
    return not path.startswith(excluded)


def _is_arrival(response: HttpResponse) -> bool:
    """Where the visit lands: a page, or a redirect that drops `ref` (such as the browse
    page's move to its canonical address). A redirect that keeps `ref` (to the visitor's
    language, say) is counted where it leads, so each visit counts once."""
    if response.status_code >= 500:
        return False
    if response.has_header("Location"):
        return "ref" not in parse_qs(urlsplit(response["Location"]).query)
    return response.get("Content-Type", "").startswith("text/html")


class ReferralCountMiddleware:
    """Counts visits through partners' links. Place it above LocaleMiddleware and
    CommonMiddleware, so that it sees their redirects."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.method == "GET" and "ref" in request.GET:
            slug = request.GET["ref"]
            match = getattr(request, "resolver_match", None)
            if (
                is_slug(slug, Partner)
                and _is_public_page(request.path_info)
                and not getattr(match and match.func, "not_a_referral", False)
                and _is_arrival(response)
            ):
                try:
                    record_referral(slug)
                except DatabaseError:
                    # A lost count must never cost the visitor the page.
                    logger.exception("Could not count a visit for partner %r", slug)
        return response
