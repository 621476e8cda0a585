"""Read-only JSON API for clinics' websites and apps: /api/v1/ (django-ninja).

- `GET /api/v1/resources/` — the browse page as JSON: the same parameters, the same results in
  the same order (both go through `filters.browse()`), paginated with `HUB_PAGE_SIZE`.
- `GET /api/v1/resources/{slug}/` — one published resource.
- `GET /api/v1/vocabularies/` — every parameter's values, with labels.
- `GET /api/v1/openapi.json` and `/api/v1/docs` — the schema and its Swagger UI page.

Published resources only; no authentication; no cookies. Every response allows any origin
(`Access-Control-Allow-Origin: *`, never with credentials) and preflight requests are answered,
so a clinic's page can call the API from the browser.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.paginator import InvalidPage, Paginator
from django.db.models import Prefetch
from django.forms import Form
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.urls import URLPattern, URLResolver, re_path
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Path, Query, Status
from ninja.errors import ValidationError
from ninja.openapi.docs import Swagger

from ...catalogue.filters import ResourceFilter, browse, with_query
from ...models import BoneSafety, Kind, Resource, Tag, Vocabulary, is_slug
from .cors import read_only_cross_origin
from .schemas import (
    Message,
    ParameterErrors,
    ResourceDetailOut,
    ResourcePage,
    ResourceQuery,
    UiQuery,
    VocabulariesOut,
)


def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return JsonResponse(
        {"detail": _("There is nothing at this address. The API is described at /api/v1/docs.")},
        status=404,
    )


def _docs_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response["X-Robots-Tag"] = "noindex"
        return response

    return wrapper


class ReadOnlyAPI(NinjaAPI):
    """A NinjaAPI whose every address (docs and schema included) is read-only and open to
    any origin, and whose unknown addresses answer a JSON 404."""

    @property
    def urls(self) -> tuple[list[URLPattern | URLResolver], str, str]:
        patterns, app_name, namespace = super().urls
        for pattern in patterns:
            if isinstance(pattern, URLPattern):
                if pattern.name == "api-root":  # ninja's answers an HTML 404
                    pattern.callback = not_found
                pattern.callback = read_only_cross_origin(pattern.callback)
        # After ninja's own root (""); addresses without the final slash are left to
        # APPEND_SLASH, which redirects them to the slashed form.
        catch_all = re_path(r"^(?:.*/)?$", read_only_cross_origin(not_found))
        return [*patterns, catch_all], app_name, namespace


api = ReadOnlyAPI(
    title="Physical Activity Resource Hub API",
    version="1",
    urls_namespace="api",
    description=(
        "Read-only access to the hub's published exercise resources for people living with "
        "advanced breast cancer. No authentication; any origin may call it (CORS, no "
        "credentials). The list takes the same parameters as the browse page "
        "(`/<lang>/resources/`) and returns the same resources in the same order. "
        "Unknown filter values give a 400 naming the parameter; a page past the end, a 404."
    ),
    # Swagger UI from the files django-ninja bundles (served by us: the CSP allows no CDN)
    # with its external init script; no validator badge, which would call a third party.
    docs=Swagger(settings={"validatorUrl": None}),
    docs_decorator=_docs_page,
)


# --- Errors ----------------------------------------------------------------------------------


@api.exception_handler(ValidationError)
def parameter_errors(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """A parameter that does not even parse (a page that is not a number, an unknown `ui`):
    400 in the same shape as an unknown filter value."""
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        location = [str(part) for part in error.get("loc", ())]
        name = location[1] if len(location) > 1 else "__all__"
        errors.setdefault(name, []).append(str(error.get("msg", "")))
    detail = _("Some parameters could not be used.")
    return api.create_response(request, {"detail": detail, "errors": errors}, status=400)


def _form_errors(form: Form) -> dict[str, list[str]]:
    return {name: [str(message) for message in messages] for name, messages in form.errors.items()}


# --- Serialisation ---------------------------------------------------------------------------


def _tags(tags: list[Tag]) -> list[dict[str, str]]:
    return [{"slug": tag.slug, "name": tag.name} for tag in tags]


def _resource(request: HttpRequest, resource: Resource) -> dict[str, Any]:
    """What the public detail page shows, as data. Never: review notes, status, or a
    reviewer's name or review dates for a merely proposed rating."""
    organisation = resource.organisation
    reviewed = not resource.rating_is_provisional
    return {
        "slug": resource.slug,
        "title": resource.title,
        "kind": resource.kind,
        "summary": resource.summary,
        "url": resource.url or None,
        "html_url": request.build_absolute_uri(resource.get_absolute_url()),
        "language": resource.language,
        "duration_minutes": resource.duration_minutes,
        "organisation": {
            "name": organisation.name,
            "website": organisation.website or None,
            "country": organisation.country or None,
        },
        "fitness_levels": _tags(resource.fitness_levels),
        "cancer_stages": _tags(resource.cancer_stages),
        "exercise_types": _tags(resource.exercise_types),
        "bone_metastasis_safety": {
            "slug": resource.bone_metastasis_safety,
            "label": str(resource.get_bone_metastasis_safety_display()),
        },
        "rating_is_provisional": resource.rating_is_provisional,
        "reviewed_by": (resource.reviewed_by or None) if reviewed else None,
        "reviewed_on": resource.reviewed_on if reviewed else None,
        "next_review_due": resource.next_review_due if reviewed else None,
        "published_at": resource.published_at,
        "video": (
            {
                "provider": resource.video_provider,
                "id": resource.video_id,
                "embed_url": resource.embed_url,
            }
            if resource.embed_url
            else None
        ),
        "has_captions": resource.has_captions,
        "transcript_url": resource.transcript_url or None,
    }


def _page_url(request: HttpRequest, number: int) -> str:
    """This query with another page number; every other parameter is kept as given."""
    query: QueryDict = request.GET.copy()
    query["page"] = str(number)
    return request.build_absolute_uri(with_query(request.path, query.urlencode()))


# --- Operations ------------------------------------------------------------------------------


@api.get(
    "/resources/",
    response={200: ResourcePage, 400: ParameterErrors, 404: Message},
    summary="Published resources for a filter set",
    description=(
        "The browse page as JSON: `/api/v1/resources/?level=gentle&bone=suitable&lang=de&ui=de` "
        "gives the resources `/de/resources/?level=gentle&bone=suitable&lang=de` lists, in the "
        "same order. Other parameters (such as `utm_source`) are ignored."
    ),
    tags=["resources"],
)
def list_resources(request: HttpRequest, filters: Query[ResourceQuery]) -> Status[dict[str, Any]]:
    filterset, results = browse(request.GET, filters.ui)
    if not filterset.is_valid():
        detail = _(
            "One of the values is not an option. The values are listed at /api/v1/vocabularies/."
        )
        return Status(400, {"detail": detail, "errors": _form_errors(filterset.form)})
    paginator = Paginator(results, settings.HUB_PAGE_SIZE)
    try:
        page = paginator.page(filters.page)
    except InvalidPage:
        return Status(404, {"detail": _("There is no such page of results.")})
    return Status(
        200,
        {
            "count": paginator.count,
            "page": page.number,
            "pages": paginator.num_pages,
            "next": _page_url(request, page.next_page_number()) if page.has_next() else None,
            "previous": (
                _page_url(request, page.previous_page_number()) if page.has_previous() else None
            ),
            "results": [_resource(request, resource) for resource in page.object_list],
        },
    )


@api.get(
    "/resources/{slug}/",
    response={200: ResourceDetailOut, 400: ParameterErrors, 404: Message},
    summary="One published resource",
    tags=["resources"],
)
def resource_detail(
    request: HttpRequest,
    options: Query[UiQuery],
    slug: str = Path(
        ..., description="As in the detail page's address.", example="a-seated-strength-routine"
    ),
) -> Status[dict[str, Any]]:
    resource = None
    if is_slug(slug, Resource):  # anything else cannot be a slug (and a NUL would upset PostgreSQL)
        translations = Prefetch(
            "translations",
            queryset=Resource.objects.published().only("slug", "language").order_by("language"),
        )
        resource = (
            Resource.objects.published()
            .for_listing()
            .prefetch_related(translations)
            .filter(slug=slug)
            .first()
        )
    if resource is None:
        return Status(404, {"detail": _("No published resource has this address.")})
    data = _resource(request, resource)
    data["translations"] = [
        {
            "language": other.language,
            "slug": other.slug,
            "html_url": request.build_absolute_uri(other.get_absolute_url()),
        }
        for other in resource.translations.all()
    ]
    return Status(200, data)


@api.get(
    "/vocabularies/",
    response={200: VocabulariesOut, 400: ParameterErrors},
    summary="Every filter parameter's values, with labels",
    tags=["vocabularies"],
)
def vocabularies(request: HttpRequest, options: Query[UiQuery]) -> Status[dict[str, Any]]:
    tags = list(Tag.objects.all())
    labels = ResourceFilter.base_filters

    def vocabulary(parameter: str, values: list[tuple[str, Any]]) -> dict[str, Any]:
        return {
            "parameter": parameter,
            "label": str(labels[parameter].label),
            "values": [{"slug": slug, "label": str(label)} for slug, label in values],
        }

    def tag_values(name: str) -> list[tuple[str, Any]]:
        return [(tag.slug, tag.name) for tag in tags if tag.vocabulary == name]

    return Status(
        200,
        {
            "levels": vocabulary("level", tag_values(Vocabulary.FITNESS_LEVEL)),
            "stages": vocabulary("stage", tag_values(Vocabulary.CANCER_STAGE)),
            "bone_safety": vocabulary("bone", BoneSafety.public_choices()),
            "types": vocabulary("type", tag_values(Vocabulary.EXERCISE_TYPE)),
            "kinds": vocabulary("kind", Kind.choices),
            "languages": vocabulary("lang", list(settings.LANGUAGES)),
        },
    )
