"""Sitemap and robots.txt: what search engines may index, and where to find it.

The sitemap lists every published resource and every static page once per language, each
with `hreflang` alternates for all six languages and an `x-default` (the address without a
language, which redirects to the visitor's best language). Page heads announce the same
alternates (`{% page_links %}` in templatetags/hub.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import overload

from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps.views import sitemap as sitemap_view
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_safe

from ..models import Resource


class _PerLanguage(Sequence[tuple[Resource, str]]):
    """(resource, language) pairs for the sitemap's paginator, read one page at a time.

    Django's i18n sitemap builds every pair in memory before it paginates, which reads every
    published resource; this slices the queryset instead, so a page costs one COUNT and one
    bounded SELECT however large the catalogue (issue #7: no unbounded query).
    """

    def __init__(self, resources: QuerySet[Resource], languages: list[str]) -> None:
        self.resources = resources
        self.languages = languages

    def __len__(self) -> int:
        return self.resources.count() * len(self.languages)

    @overload
    def __getitem__(self, index: int) -> tuple[Resource, str]: ...
    @overload
    def __getitem__(self, index: slice) -> list[tuple[Resource, str]]: ...
    def __getitem__(self, index: int | slice) -> tuple[Resource, str] | list[tuple[Resource, str]]:
        if isinstance(index, int):
            return self[index : index + 1][0]
        per = len(self.languages)
        start, stop = index.start or 0, index.stop
        first, last = start // per, -(-stop // per)
        pairs = [(r, code) for r in self.resources[first:last] for code in self.languages]
        return pairs[start - first * per : stop - first * per]


class ResourceSitemap(Sitemap):
    i18n = True
    alternates = True
    x_default = True
    # Caps each page at 50,000 addresses (the protocol's limit), i.e. about 8,000 resources in
    # six languages; beyond that the view needs ?p=2 and a sitemap index.
    limit = 50_000

    def items(self) -> QuerySet[Resource]:
        return Resource.objects.published().only("slug", "updated_at").order_by("slug")

    @property
    def paginator(self) -> Paginator:
        return Paginator(_PerLanguage(self.items(), self._languages()), self.limit)

    def lastmod(self, item: Resource) -> datetime:
        return item.updated_at


class PageSitemap(Sitemap):
    i18n = True
    alternates = True
    x_default = True

    def items(self) -> list[str]:
        return ["resources:home", "resources:list", "resources:safety", "resources:about"]

    def location(self, item: str) -> str:
        return reverse(item)


SITEMAPS: dict[str, type[Sitemap]] = {"pages": PageSitemap, "resources": ResourceSitemap}


@require_safe
def sitemap(request: HttpRequest) -> HttpResponse:
    return sitemap_view(request, sitemaps=SITEMAPS)


# Path prefixes kept out of search indexes. Previews of unpublished resources will live under
# /preview/ (editorial issue); `/*/preview/` covers them should they sit below a language.
PRIVATE_PREFIXES = ("/admin/", "/api/v1/docs", "/preview/", "/*/preview/")


@require_safe
def robots_txt(request: HttpRequest) -> HttpResponse:
    # Everything not disallowed may be crawled. No "Allow: /": first-match parsers would let
    # it win over the Disallow lines.
    lines = ["User-agent: *", *(f"Disallow: {prefix}" for prefix in PRIVATE_PREFIXES)]
    lines += ["", f"Sitemap: {request.build_absolute_uri(reverse('sitemap'))}"]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
