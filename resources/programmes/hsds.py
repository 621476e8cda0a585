"""Open data: published programme listings in the Open Referral HSDS 3.x shape, read-only.

`/api/hsds/services`, `/services/{id}`, `/organizations`, `/organizations/{id}`. Lists are
HSDS pages (total_items, total_pages, page_number, size, first_page, last_page, empty,
contents). Ids are UUIDs made from the row's type and primary key, so they stay the same
between calls and can be read back. Every listing read goes through `published()`; an
organisation is listed when it has at least one published programme. The tests validate the
answers against the HSDS schemas vendored in resources/programmes/hsds_schema/.
"""

from __future__ import annotations

import math
import uuid
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch
from django.http import Http404, HttpRequest
from ninja import Query, Schema

from resources.clinics.api.views import ReadOnlyAPI
from resources.models import Cost, Delivery, Organisation, Programme, ProgrammeLocation

PAGE_SIZE = 50

# The first UUID group names the table, the last holds the primary key.
_PREFIX = {"service": 1, "organization": 2, "location": 3, "address": 4, "phone": 5, "lang": 6}


def hsds_id(kind: str, pk: int) -> str:
    return f"{_PREFIX[kind]:08x}-0000-4000-8000-{pk:012x}"


def pk_from(kind: str, value: str) -> int:
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        raise Http404 from None
    text = str(parsed)
    if not text.startswith(f"{_PREFIX[kind]:08x}-0000-4000-8000-"):
        raise Http404
    return int(text.rsplit("-", 1)[1], 16)


def _organization(org: Organisation, *, full: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": hsds_id("organization", org.pk),
        "name": org.name,
        "description": org.name,
    }
    if org.website:
        data["website"] = org.website
    if full:
        data["services"] = [
            _service(programme, full=False) for programme in getattr(org, "published", [])
        ]
    return data


def _location(location: ProgrammeLocation) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": hsds_id("location", location.pk),
        "location_type": "physical",
        "name": location.name or location.city,
        "addresses": [
            {
                "id": hsds_id("address", location.pk),
                "location_id": hsds_id("location", location.pk),
                "address_1": location.address or location.city,
                "city": location.city,
                # HSDS requires it; European addresses rarely have one.
                "state_province": "",
                "postal_code": location.postal_code,
                "country": location.country,
                "address_type": "physical",
            }
        ],
    }
    if location.latitude is not None:
        data["latitude"] = float(location.latitude)
        data["longitude"] = float(location.longitude)
    return data


def _service(programme: Programme, *, full: bool) -> dict[str, Any]:
    service_id = hsds_id("service", programme.pk)
    data: dict[str, Any] = {
        "id": service_id,
        "organization_id": hsds_id("organization", programme.organisation_id),
        "name": programme.name,
        "description": programme.description,
        # Only published listings leave the hub: they are the active ones.
        "status": "active",
        "application_process": " ".join(
            part
            for part in (programme.get_referral_display(), programme.application_process)
            if part
        ),
        "eligibility_description": " ".join(
            part
            for part in (programme.eligibility_description, programme.get_bone_metastases_display())
            if part
        ),
        "fees_description": programme.fees_description
        or ("Free" if programme.cost == Cost.FREE else ""),
    }
    if programme.url:
        data["url"] = programme.url
    if programme.email:
        data["email"] = programme.email
    if programme.assured_date:
        data["assured_date"] = programme.assured_date.isoformat()
    data["last_modified"] = programme.updated_at.isoformat()
    if not full:
        return data
    data["organization"] = _organization(programme.organisation, full=False)
    data["phones"] = (
        [{"id": hsds_id("phone", programme.pk), "number": programme.phone}]
        if programme.phone
        else []
    )
    data["languages"] = [
        {"id": hsds_id("lang", programme.pk * 100 + index), "service_id": service_id, "code": code}
        for index, code in enumerate(programme.language_codes)
    ]
    areas = [programme.service_area] if programme.service_area else []
    if programme.delivery != Delivery.IN_PERSON:
        areas.append("Online")
    data["service_areas"] = [
        {"id": hsds_id("lang", programme.pk * 100 + 50 + i), "service_id": service_id, "name": a}
        for i, a in enumerate(areas)
    ]
    data["service_at_locations"] = [
        {
            "id": hsds_id("location", location.pk),
            "service_id": service_id,
            "location_id": hsds_id("location", location.pk),
            "location": _location(location),
        }
        for location in programme.locations.all()
    ]
    return data


def _page(items: list[dict[str, Any]], total: int, number: int) -> dict[str, Any]:
    pages = max(1, math.ceil(total / PAGE_SIZE))
    return {
        "total_items": total,
        "total_pages": pages,
        "page_number": number,
        "size": len(items),
        "first_page": number == 1,
        "last_page": number >= pages,
        "empty": not items,
        "contents": items,
    }


class PageQuery(Schema):
    page: int = 1


hsds = ReadOnlyAPI(
    title="Physical Activity Resource Hub: Open Referral (HSDS 3.x)",
    version="3",
    urls_namespace="hsds",
    description=(
        "The hub's published supervised exercise programmes as Open Referral HSDS 3.x "
        "services and organizations. Read-only, no authentication."
    ),
)


def _page_number(query: PageQuery, total: int) -> int:
    pages = max(1, math.ceil(total / PAGE_SIZE))
    if query.page < 1 or query.page > pages:
        raise Http404
    return query.page


@hsds.get("/services", url_name="services")
def services(request: HttpRequest, query: Query[PageQuery]) -> dict[str, Any]:
    listings = Programme.objects.published().select_related("organisation").order_by("pk")
    total = listings.count()
    number = _page_number(query, total)
    start = (number - 1) * PAGE_SIZE
    items = [_service(p, full=False) for p in listings[start : start + PAGE_SIZE]]
    return _page(items, total, number)


@hsds.get("/services/{service_id}", url_name="service")
def service(request: HttpRequest, service_id: str) -> dict[str, Any]:
    programme = (
        Programme.objects.published()
        .for_listing()
        .filter(pk=pk_from("service", service_id))
        .first()
    )
    if programme is None:
        raise Http404
    return _service(programme, full=True)


def _organisations_with_listings():
    return Organisation.objects.filter(
        Exists(Programme.objects.published().filter(organisation=OuterRef("pk")))
    ).order_by("pk")


@hsds.get("/organizations", url_name="organizations")
def organizations(request: HttpRequest, query: Query[PageQuery]) -> dict[str, Any]:
    orgs = _organisations_with_listings()
    total = orgs.count()
    number = _page_number(query, total)
    start = (number - 1) * PAGE_SIZE
    items = [_organization(org, full=False) for org in orgs[start : start + PAGE_SIZE]]
    return _page(items, total, number)


@hsds.get("/organizations/{organization_id}", url_name="organization")
def organization(request: HttpRequest, organization_id: str) -> dict[str, Any]:
    published = Prefetch(
        "programmes",
        queryset=Programme.objects.published().order_by("pk"),
        to_attr="published",
    )
    org = (
        _organisations_with_listings()
        .prefetch_related(published)
        .filter(pk=pk_from("organization", organization_id))
        .first()
    )
    if org is None:
        raise Http404
    return _organization(org, full=True)
