"""Public pages. GET only, anonymous, and every resource read goes through published()."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.paginator import InvalidPage, Paginator
from django.db.models import Prefetch, QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    HttpResponseRedirect,
    QueryDict,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from ..models import Resource
from .filters import ResourceFilter, browse, canonical_query, facets, with_query
from .forms import SelfCheckForm
from .personal import Site, attach_warnings, chosen_sites, site_query


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    recent = Resource.objects.published().for_listing().order_by("-published_at", "slug")[:4]
    return render(request, "resources/home.html", {"recent": recent})


def _without(query: QueryDict, name: str, value: str) -> str:
    """The query string with one filter value removed (and the page reset)."""
    remaining = query.copy()
    remaining.setlist(name, [v for v in query.getlist(name) if v != value])
    remaining.pop("page", None)
    return remaining.urlencode()


@require_safe
def resource_list(request: HttpRequest) -> HttpResponse:
    # One address per filter set (docs/clinics.md): anything else, `?ref=` included,
    # moves permanently to the canonical form, so printed links and caches agree.
    canonical = canonical_query(request.GET)
    if canonical != request.META.get("QUERY_STRING", ""):
        return HttpResponsePermanentRedirect(with_query(request.path, canonical))
    filterset, results = browse(request.GET, get_language())
    valid = filterset.is_valid()
    counts = filterset.facet_counts() if valid else None

    paginator = Paginator(results, settings.HUB_PAGE_SIZE)
    try:
        page = paginator.page(request.GET.get("page") or 1)
    except InvalidPage:
        raise Http404(_("There is no such page of results.")) from None

    labels = filterset.choice_labels()
    selected = []
    for name in ResourceFilter.FACETS:
        for value in request.GET.getlist(name):
            if value in labels[name]:
                selected.append(
                    {
                        "group": filterset.filters[name].label,
                        "label": labels[name][value],
                        "remove_query": _without(request.GET, name, value),
                    }
                )
    query_text = request.GET.get("q", "").strip()
    sites = chosen_sites(request.GET)
    context = {
        "filterset": filterset,
        "form": filterset.form,
        "valid": valid,
        "facets": facets(filterset, counts),
        "selected": selected,
        "query_text": query_text if valid else "",
        "page_obj": page,
        "paginator": paginator,
        "results": attach_warnings(page.object_list, sites),
        "site_query": site_query(sites),
        "site_options": [(value, label, value in sites) for value, label in Site.choices],
        "hide_conflicts": request.GET.get("hide_conflicts") == "1",
        "is_filtered": any(
            request.GET.getlist(name)
            for name in (*ResourceFilter.FACETS, "q", "captions", "site", "hide_conflicts")
        ),
    }
    # Bad filter values are the visitor's (or a mistyped link's) error: say so with a 400.
    return render(request, "resources/list.html", context, status=200 if valid else 400)


def for_detail_page(resources: QuerySet[Resource]) -> QuerySet[Resource]:
    """What the detail page shows of a resource; the staff preview (preview.py) reads it too."""
    # Only published translations, so a draft never shows (nor its address).
    translations = Prefetch(
        "translations",
        queryset=Resource.objects.published().only("slug", "language").order_by("language"),
    )
    return resources.for_listing().prefetch_related(translations)


def detail_context(request: HttpRequest, resource: Resource) -> dict[str, Any]:
    """The detail template's context, shared with the staff preview so both pages match."""
    sites = chosen_sites(request.GET)
    attach_warnings([resource], sites)
    return {"resource": resource, "site_query": site_query(sites)}


@require_safe
def resource_detail(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        resource = for_detail_page(Resource.objects.published()).get(slug=slug)
    except Resource.DoesNotExist:
        # Only now, never on a normal hit: an address the resource had before a site admin
        # changed its slug (printed handouts, QR codes) moves permanently to today's.
        moved = (
            Resource.objects.published()
            .filter(old_slugs__old_slug=slug)
            .only("slug", "language")
            .first()
        )
        if moved is None:
            raise Http404 from None
        query = request.META.get("QUERY_STRING", "")
        target = moved.get_absolute_url()
        return HttpResponsePermanentRedirect(f"{target}?{query}" if query else target)
    return render(request, "resources/detail.html", detail_context(request, resource))


@require_safe
def safety(request: HttpRequest) -> HttpResponse:
    return render(request, "resources/safety.html")


@require_safe
def about(request: HttpRequest) -> HttpResponse:
    return render(request, "resources/about.html")


@require_safe
def self_check(request: HttpRequest) -> HttpResponse:
    """The form; answered, a 302 to the canonical browse address. Stores nothing."""
    if not request.GET:
        return render(request, "resources/self_check.html", {"form": SelfCheckForm()})
    form = SelfCheckForm(request.GET)
    if not form.is_valid():
        return render(request, "resources/self_check.html", {"form": form}, status=400)
    query = canonical_query(form.browse_query())
    return HttpResponseRedirect(with_query(reverse("resources:list"), query))
