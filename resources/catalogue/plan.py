""" "My plan": a list of resources the visitor saved in their own browser.

The list lives in the browser's localStorage; this page only renders the slugs it is given
in the address (`?r=<slug>&r=<slug>`), in that order, so the plan can be printed or shared.
Nothing is stored on the server and no cookie is set.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from ..models import Resource, is_slug

PLAN_LIMIT = 30


def requested_slugs(request: HttpRequest) -> list[str]:
    """The first PLAN_LIMIT distinct `r` values, in the order given."""
    slugs: list[str] = []
    for value in request.GET.getlist("r"):
        slug = value.strip()
        if slug and slug not in slugs:
            slugs.append(slug)
        if len(slugs) == PLAN_LIMIT:
            break
    return slugs


@require_safe
def plan(request: HttpRequest) -> HttpResponse:
    slugs = requested_slugs(request)
    valid = [slug for slug in slugs if is_slug(slug, Resource)]
    found = {
        resource.slug: resource
        for resource in Resource.objects.published().for_listing().filter(slug__in=valid)
    }
    items = [
        {"resource": found[slug], "url": request.build_absolute_uri(found[slug].get_absolute_url())}
        for slug in slugs
        if slug in found
    ]
    context = {
        "items": items,
        "requested": bool(slugs),
        "unavailable": len(slugs) - len(items),
    }
    return render(request, "resources/plan.html", context)
