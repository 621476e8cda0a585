"""Small template helpers for the public pages."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django import template
from django.conf import settings
from django.http import HttpRequest
from django.urls import translate_url
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, get_language_from_path
from django.utils.translation import gettext as _

from resources.catalogue.filters import canonical_query, first_page_query, with_query
from resources.models import Kind, Resource

register = template.Library()


@register.simple_tag(takes_context=True)
def url_in_language(context: template.Context, language: str) -> str:
    """This page, with its filters, in another language."""
    request: HttpRequest | None = context.get("request")
    if request is None:
        return f"/{language}/"
    url = translate_url(request.get_full_path(), language)
    # translate_url() hands back an address it cannot resolve (a 404) unchanged, so a crafted
    # one such as ///evil.example, which browsers read as //evil.example, would become a link
    # to another site. Only a path on this site is let through.
    if not url.startswith("/") or not url_has_allowed_host_and_scheme(url, allowed_hosts=None):
        return f"/{language}/"
    return url


# --- What search engines, feed readers and link previews read (feeds, sitemap, sharing) ---

# Open Graph wants language_TERRITORY; most English sources are UK charities (docs/domain.md).
OG_LOCALES = {
    "en": "en_GB",
    "de": "de_DE",
    "nl": "nl_NL",
    "es": "es_ES",
    "pl": "pl_PL",
    "sv": "sv_SE",
}

SCHEMA_ORG = "https://schema.org"

# Django's json_script escaping: "</script>" in a title cannot end the data block.
_JSON_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


@dataclass(frozen=True)
class PageLinks:
    canonical: str
    alternates: list[tuple[str, str]]  # (hreflang, absolute URL); "x-default" last
    feed_query: str | None  # None: the page offers no feed
    og_type: str
    og_title: str
    og_description: str
    og_image: str
    og_image_alt: str
    og_locale: str
    og_locale_alternates: list[str]


def language_alternates(request: HttpRequest, path: str) -> list[tuple[str, str]]:
    """This page in every language, plus x-default: the address without a language, which
    redirects to the visitor's best one (the same as the sitemap's x-default)."""
    links = [
        (code, request.build_absolute_uri(translate_url(path, code)))
        for code, _name in settings.LANGUAGES
    ]
    default = translate_url(path, settings.LANGUAGE_CODE).replace(
        f"/{settings.LANGUAGE_CODE}/", "/", 1
    )
    return [*links, ("x-default", request.build_absolute_uri(default))]


@register.simple_tag(takes_context=True)
def page_links(context: template.Context, shared: Resource | str = "") -> PageLinks | None:
    """Canonical address, language alternates, feed and sharing tags of the current page.

    The browse page's canonical address keeps its filters in canonical form (and drops
    `ref` and anything else that does not change the results); other pages drop the query.
    """
    request: HttpRequest | None = context.get("request")
    # Error pages (the 404 handler passes `request_path`) have no canonical address.
    if request is None or request.resolver_match is None or "request_path" in context:
        return None
    view_name = request.resolver_match.view_name
    path = request.path
    if view_name == "resources:list":
        path = with_query(path, canonical_query(request.GET))
    localised = get_language_from_path(request.path_info) is not None
    feed = None
    if view_name == "resources:home":
        feed = ""
    elif view_name == "resources:list" and context.get("valid", True):
        feed = first_page_query(request.GET)
    language = get_language()
    og = {
        "og_type": "website",
        "og_title": _("Physical Activity Resource Hub"),
        "og_description": _(
            "Safe exercise videos, guides and supervised programmes for people living with "
            "advanced breast cancer, filtered by fitness level and bone-metastasis safety."
        ),
        "og_image": "",
        "og_image_alt": "",
    }
    if isinstance(shared, Resource):
        og = {
            "og_type": "video.other" if shared.kind == Kind.VIDEO else "article",
            "og_title": shared.title,
            "og_description": shared.summary,
            "og_image": request.build_absolute_uri(shared.image.url) if shared.image else "",
            "og_image_alt": shared.image_alt,
        }
    return PageLinks(
        canonical=request.build_absolute_uri(path),
        alternates=language_alternates(request, path) if localised else [],
        feed_query=feed,
        og_locale=OG_LOCALES.get(language, language),
        og_locale_alternates=[
            locale for code, locale in OG_LOCALES.items() if code != language and localised
        ],
        **og,
    )


def real_review(resource: Resource) -> bool:
    """A clinician signed the rating off (demo content only carries a proposed rating)."""
    return (
        not resource.rating_is_provisional
        and resource.reviewed_on is not None
        and bool(resource.reviewed_by.strip())
    )


def structured_data(resource: Resource, request: HttpRequest) -> dict[str, Any]:
    """schema.org description of a detail page: a VideoObject for a video, otherwise a
    MedicalWebPage, the WebPage type for health information, which (unlike Article) has
    `lastReviewed` and `reviewedBy` for the clinical review."""
    page_url = request.build_absolute_uri(resource.get_absolute_url())
    organisation = resource.organisation
    publisher: dict[str, Any] = {"@type": "Organization", "name": organisation.name}
    if organisation.website:
        publisher["url"] = organisation.website
    image = request.build_absolute_uri(resource.image.url) if resource.image else ""
    review: dict[str, Any] = {}
    if real_review(resource):
        review = {
            "lastReviewed": resource.reviewed_on.isoformat(),
            "reviewedBy": {"@type": "Person", "name": resource.reviewed_by},
        }
    # Who the page is written for: patients (and the carers with them), not clinicians.
    # schema.org's MedicalAudience is the PeopleAudience for medical pages; "Patient" is the
    # audience type search engines document for patient-facing health information.
    audience: dict[str, Any] = {"@type": "MedicalAudience", "audienceType": "Patient"}
    common: dict[str, Any] = {
        "name": resource.title,
        "description": resource.summary,
        "url": page_url,
        "inLanguage": resource.language,
        "publisher": publisher,
    }
    published = resource.published_at.isoformat() if resource.published_at else None
    if resource.kind == Kind.VIDEO:
        data = {"@context": SCHEMA_ORG, "@type": "VideoObject", **common, "uploadDate": published}
        # The privacy-enhanced player, without the autoplay the Play button adds.
        if player := resource.player_url(autoplay=False):
            data["embedUrl"] = player
        if resource.duration_minutes:
            data["duration"] = f"PT{resource.duration_minutes}M"
        if image:
            data["thumbnailUrl"] = image
        # Review dates belong to a web page, not to a video: the page the video is on.
        data["mainEntityOfPage"] = {
            "@type": "MedicalWebPage",
            "@id": page_url,
            "audience": audience,
            **review,
        }
        return data
    data = {
        "@context": SCHEMA_ORG,
        "@type": "MedicalWebPage",
        **common,
        "datePublished": published,
        "dateModified": resource.updated_at.isoformat(),
        "audience": audience,
        **review,
    }
    if resource.url:
        data["significantLink"] = resource.url
    if image:
        data["image"] = image
    return data


@register.simple_tag(takes_context=True)
def resource_json_ld(context: template.Context, resource: Resource) -> str:
    """The structured data as a JSON-LD data block (never executed, so CSP allows it)."""
    request: HttpRequest | None = context.get("request")
    if request is None:
        return ""
    text = json.dumps(structured_data(resource, request), ensure_ascii=False)
    # Safe: every <, > and & is escaped above, so the JSON cannot close the element.
    escaped = mark_safe(text.translate(_JSON_SCRIPT_ESCAPES))  # noqa: S308
    return format_html('<script type="application/ld+json">{}</script>', escaped)
