"""RSS and Atom feeds of newly published resources, per language (`/<lang>/feeds/rss/`).

A feed takes the browse page's parameters (`?level=gentle&lang=de`) and reads through
`browse()`, so it shows exactly the browse page's resources for the same filters, newest
first. An unknown value answers 400 with the reason in words: never an unfiltered feed
that a clinic would mistake for a filtered one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.syndication.views import Feed
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.html import escape, format_html
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from ..catalogue.filters import (
    ResourceFilter,
    browse,
    first_page_query,
    with_query,
)
from ..models import Resource

FEED_SIZE = 50


class InvalidFilters(Exception):
    def __init__(self, filterset: ResourceFilter) -> None:
        super().__init__("invalid feed filters")
        self.filterset = filterset


@dataclass(frozen=True)
class Selection:
    """One request's feed: its resources, newest first, and the filters that chose them."""

    resources: list[Resource]
    query: str
    filters: list[str]


class NewlyPublishedFeed(Feed):
    feed_type = Rss201rev2Feed
    url_name = "resources:feed-rss"

    def get_object(self, request: HttpRequest) -> Selection:
        filterset, results = browse(request.GET, get_language())
        if not filterset.is_valid():
            raise InvalidFilters(filterset)
        filters = filterset.in_words()
        newest = results.order_by("-published_at", "slug")[:FEED_SIZE]
        return Selection(
            resources=list(newest), query=first_page_query(request.GET), filters=filters
        )

    def title(self, obj: Selection) -> str:
        return _("Physical Activity Resource Hub: newly published")

    def description(self, obj: Selection) -> str:
        text = _("Exercise videos, guides and supervised programmes, newest first.")
        if obj.filters:
            text += " " + _("Filters: %(filters)s.") % {"filters": "; ".join(obj.filters)}
        return text

    def subtitle(self, obj: Selection) -> str:
        return self.description(obj)

    def link(self, obj: Selection) -> str:
        return with_query(reverse("resources:list"), obj.query)

    def feed_url(self, obj: Selection) -> str:
        return with_query(reverse(self.url_name), obj.query)

    def items(self, obj: Selection) -> list[Resource]:
        return obj.resources

    def item_title(self, item: Resource) -> str:
        return escape(item.title)  # feed readers treat titles as HTML (Django's default)

    def item_description(self, item: Resource) -> str:
        rating = _("Safety with bone metastases: %(rating)s.") % {
            "rating": item.get_bone_metastasis_safety_display()
        }
        if item.rating_is_provisional:
            rating += " " + _("Proposed rating: not yet checked by a clinician.")
        return format_html("<p>{}</p><p>{}</p>", item.summary, rating)

    def item_pubdate(self, item: Resource) -> datetime | None:
        return item.published_at

    def item_updateddate(self, item: Resource) -> datetime:
        return item.updated_at

    def item_author_name(self, item: Resource) -> str:
        return item.organisation.name

    def item_categories(self, item: Resource) -> list[str]:
        return [str(item.get_kind_display()), *(tag.name for tag in item.tags.all())]


class NewlyPublishedAtomFeed(NewlyPublishedFeed):
    feed_type = Atom1Feed
    url_name = "resources:feed-atom"


def _serve(feed: NewlyPublishedFeed, request: HttpRequest) -> HttpResponse:
    try:
        return feed(request)
    except InvalidFilters as error:
        lines = [_("This feed cannot be made: some filters are not known.")]
        for name, messages in error.filterset.form.errors.items():
            lines.append(f"{name}: {' '.join(messages)}")
        return HttpResponseBadRequest(
            "\n".join(lines) + "\n", content_type="text/plain; charset=utf-8"
        )


_rss = NewlyPublishedFeed()
_atom = NewlyPublishedAtomFeed()


@require_safe
def rss_feed(request: HttpRequest) -> HttpResponse:
    return _serve(_rss, request)


@require_safe
def atom_feed(request: HttpRequest) -> HttpResponse:
    return _serve(_atom, request)
