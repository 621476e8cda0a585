"""The programme finder and listing pages. GET only, anonymous, cookie-free; every listing read
goes through `Programme.objects.published()`."""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import InvalidPage, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from django_permissions_policy.decorators import permissions_policy_override

from resources.models import Programme

from ..catalogue.filters import facets
from .filters import ProgrammeFilter, country_choices, finder_results

# The site's policy, with the position lent to our own page: the finder is the one page whose
# "near me" button asks for it. PermissionsPolicyMiddleware sends this instead of the setting.
FINDER_PERMISSIONS_POLICY: dict[str, list[str]] = {
    **settings.PERMISSIONS_POLICY,
    "geolocation": ["self"],
}


@require_safe
@permissions_policy_override(FINDER_PERMISSIONS_POLICY)  # type: ignore[arg-type]
def programme_list(request: HttpRequest) -> HttpResponse:
    filterset, results = finder_results(request.GET, country_choices())
    valid = filterset.is_valid()
    counts = filterset.facet_counts() if valid else None
    paginator = Paginator(results, settings.HUB_PAGE_SIZE)
    try:
        page = paginator.page(request.GET.get("page") or 1)
    except InvalidPage:
        raise Http404(_("There is no such page of results.")) from None
    items = list(page.object_list)
    point = filterset.point()
    context = {
        "form": filterset.form,
        "valid": valid,
        "facets": facets(filterset, counts),
        "page_obj": page,
        "paginator": paginator,
        "place_results": [p for p in items if not p.online_only],
        "online_results": [p for p in items if p.online_only],
        "query_text": (request.GET.get("q") or "").strip() if valid else "",
        "sorted_by_distance": point is not None,
        "is_filtered": any(
            request.GET.getlist(name) for name in (*ProgrammeFilter.FACETS, "q", "near")
        ),
    }
    response = render(
        request, "resources/programmes/list.html", context, status=200 if valid else 400
    )
    if request.GET.get("near"):
        # A page sorted around someone's position is theirs alone: no cache keeps it.
        patch_cache_control(response, private=True, no_store=True)
    return response


@require_safe
def programme_detail(request: HttpRequest, slug: str) -> HttpResponse:
    programme = get_object_or_404(Programme.objects.published().for_listing(), slug=slug)
    return render(request, "resources/programmes/detail.html", {"programme": programme})
