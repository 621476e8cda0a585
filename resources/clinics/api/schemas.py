"""The API's request and response schemas (OpenAPI, via django-ninja)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

import django_filters
from django.utils import translation
from django_filters.filters import Filter
from ninja import Field, Schema
from pydantic import create_model

from ...catalogue.filters import BROWSE_PARAMETERS, ResourceFilter
from ...models import UI_LANGUAGES, BoneSafety, Kind

UiLanguage = Literal[UI_LANGUAGES]  # type: ignore[valid-type]
KindSlug = Literal[tuple(Kind.values)]  # type: ignore[valid-type]
SafetySlug = Literal[tuple(value for value, _label in BoneSafety.public_choices())]  # type: ignore[valid-type]

UI_DESCRIPTION = (
    "Language of the labels and messages, of `html_url`, and of the result order: like "
    "`/<ui>/resources/`, resources in this language come first. Default `en`."
)


def _values_description(text: str, parameter: str) -> str:
    return (
        f"{text} Repeat the parameter for several values (they are OR-ed); different "
        f"parameters are AND-ed. Values: `{parameter}` in `/api/v1/vocabularies/`."
    )


# Where `/api/v1/vocabularies/` lists each filter's values, and values the docs show as examples.
VOCABULARY_KEYS = {
    "level": "levels",
    "stage": "stages",
    "bone": "bone_safety",
    "type": "types",
    "kind": "kinds",
    "lang": "languages",
}
EXAMPLES = {"level": ["gentle", "moderate"], "stage": ["metastatic"], "type": ["balance"]}


def _filter_parameter(name: str, flt: Filter) -> tuple[Any, Any]:
    """The API's declaration of one browse parameter, read from the browse page's own filter,
    so the two cannot drift apart (the filtering itself is `filters.browse()` for both)."""
    label = str(flt.label)
    if isinstance(flt, django_filters.MultipleChoiceFilter):
        extra: dict[str, Any] = {}
        if name in EXAMPLES:
            extra["example"] = EXAMPLES[name]
        elif choices := flt.extra.get("choices"):
            extra["items"] = {"type": "string", "enum": [value for value, _label in choices]}
        if name in VOCABULARY_KEYS:
            description = _values_description(f"{label}.", VOCABULARY_KEYS[name])
        else:
            description = f"{label} Repeat the parameter for several values."
        field = Field(default_factory=list, description=description, json_schema_extra=extra)
        return list[str], field
    if isinstance(flt, django_filters.ChoiceFilter):  # a switch: `1` or absent
        return Literal["1"] | None, Field(None, description=f"`1`: {label}.")
    return str | None, Field(
        None,
        max_length=flt.extra.get("max_length"),
        description=f"{label}: free text. Results are then ordered by relevance.",
    )


def _resource_query() -> type[Schema]:
    """The browse page's parameters, plus the API's own `page` and `ui`. Declared for the
    schema; the filtering itself is done by `filters.browse()` on the raw query string,
    exactly as for the browse page. In English, whatever language is active on import."""
    with translation.override("en"):
        fields = {
            name: _filter_parameter(name, ResourceFilter.base_filters[name])
            for name in BROWSE_PARAMETERS
        }
    page = Field(
        1,
        ge=1,
        description=(
            "Page number, from 1. Not a whole number of at least 1: 400. Past the last page: 404."
        ),
    )
    return create_model(
        "ResourceQuery",
        __base__=Schema,
        **fields,
        page=(int, page),
        ui=(UiLanguage, Field("en", description=UI_DESCRIPTION)),
    )


ResourceQuery = _resource_query()


class UiQuery(Schema):
    ui: UiLanguage = Field("en", description=UI_DESCRIPTION)


class TagOut(Schema):
    slug: str
    name: str


class SafetyOut(Schema):
    slug: SafetySlug
    label: str


class OrganisationOut(Schema):
    name: str
    website: str | None
    country: str | None = Field(description="Two-letter ISO code.")


class VideoOut(Schema):
    provider: Literal["youtube", "vimeo"]
    id: str
    embed_url: str = Field(
        description="Privacy-enhanced player (youtube-nocookie.com, or Vimeo with dnt=1)."
    )


class ResourceOut(Schema):
    slug: str = Field(description="Stable: it never changes once published.")
    title: str
    kind: KindSlug
    summary: str
    url: str | None = Field(description="The external page or video page, if any.")
    html_url: str = Field(description="The hub's own page for this resource, in the ui language.")
    language: UiLanguage = Field(description="Language of the resource itself.")
    duration_minutes: int | None
    organisation: OrganisationOut
    fitness_levels: list[TagOut]
    cancer_stages: list[TagOut]
    exercise_types: list[TagOut]
    bone_metastasis_safety: SafetyOut
    rating_is_provisional: bool = Field(
        description="True: the rating is a proposal by the hub team; no clinician reviewed it."
    )
    reviewed_by: str | None = Field(description="The clinical reviewer; null when provisional.")
    reviewed_on: date | None = Field(description="Null when the rating is provisional.")
    next_review_due: date | None = Field(description="Null when the rating is provisional.")
    published_at: datetime
    video: VideoOut | None
    has_captions: bool = Field(description="Videos: true when the video has captions.")
    transcript_url: str | None = Field(description="A transcript published elsewhere, if any.")


class TranslationOut(Schema):
    language: UiLanguage = Field(description="Language of the translated resource.")
    slug: str
    html_url: str = Field(description="The hub's page for the translation, in the ui language.")


class ResourceDetailOut(ResourceOut):
    translations: list[TranslationOut] = Field(
        description="The same resource in other languages (published ones only)."
    )


class ResourcePage(Schema):
    count: int = Field(description="Results over all pages.")
    page: int
    pages: int
    next: str | None = Field(description="Absolute URL of the next page, or null.")
    previous: str | None = Field(description="Absolute URL of the previous page, or null.")
    results: list[ResourceOut]


class ParameterErrors(Schema):
    detail: str
    errors: dict[str, list[str]] = Field(description="Messages by parameter name.")


class Message(Schema):
    detail: str


class VocabularyValue(Schema):
    slug: str
    label: str


class VocabularyOut(Schema):
    parameter: str = Field(description="The query parameter that takes these values.")
    label: str
    values: list[VocabularyValue]


class VocabulariesOut(Schema):
    levels: VocabularyOut
    stages: VocabularyOut
    bone_safety: VocabularyOut
    types: VocabularyOut
    kinds: VocabularyOut
    languages: VocabularyOut
