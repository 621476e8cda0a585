"""Public browse filters: stable GET parameters with slug values (docs/clinics.md).

OR within one parameter (`?level=gentle&level=moderate`), AND across parameters.
Each filter can express itself as a condition, so the facet counts reuse exactly the
conditions the result list uses.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import overload

import django_filters
from django import forms
from django.conf import settings
from django.core.validators import RegexValidator
from django.db import DatabaseError, connection
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    prefetch_related_objects,
)
from django.db.models.expressions import RawSQL
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from hub.cache import (
    breaker,
    cache_failed,
    content_version,
    has_uncommitted_content_changes,
    page_cache,
)
from hub.security import CONTROL_CHARACTERS

from ..models import BoneSafety, Kind, Resource, Tag, Vocabulary
from .personal import Site, conflicting_flags
from .search import matching, search


def _has_tag_array() -> bool:
    """PostgreSQL keeps every resource's tag ids in `tag_ids` (migration 0013)."""
    return connection.vendor == "postgresql"


def tags_overlap(tag_ids: Sequence[int]) -> Q:
    """Resources carrying any of these tags: `tag_ids && '{…}'`, answered by the GIN index."""
    table = Resource._meta.db_table
    return Q(
        RawSQL(  # noqa: S611 - constant SQL, the ids travel as a parameter
            f'"{table}"."tag_ids" && %s::integer[]',
            (sorted(tag_ids),),
            output_field=BooleanField(),
        )
    )


class InFilter(django_filters.MultipleChoiceFilter):
    """Several values of one parameter, OR-ed; an empty parameter filters nothing."""

    def condition(self, values: Sequence[str]) -> Q:
        return Q(**{f"{self.field_name}__{self.lookup_expr}": list(values)})

    def filter(self, qs: QuerySet, value: Sequence[str]) -> QuerySet:
        return qs.filter(self.condition(value)) if value else qs


class TagFilter(InFilter):
    """Resources carrying any of the chosen tags of one vocabulary.

    A subquery rather than a join, so a resource with two matching tags is still one row
    and no DISTINCT is needed. An uncorrelated `id IN (…)` rather than a correlated EXISTS:
    PostgreSQL runs it once and hashes it, where an EXISTS inside the facet counts' FILTER
    clauses ran once per resource and option (seconds at 10,000 resources, bench/README.md).
    """

    def __init__(self, *, vocabulary: str, **kwargs) -> None:
        self.vocabulary = vocabulary
        self.tag_ids: dict[str, int] = {}  # slug -> id, set by ResourceFilter
        super().__init__(field_name="tags__slug", lookup_expr="in", **kwargs)

    def condition(self, values: Sequence[str]) -> Q:
        if _has_tag_array() and self.tag_ids:
            return tags_overlap([self.tag_ids[v] for v in values if v in self.tag_ids])
        tagged = Resource.tags.through.objects.filter(
            tag__vocabulary=self.vocabulary, tag__slug__in=list(values)
        ).values("resource_id")
        return Q(pk__in=tagged)


class ResourceFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        field_name="title",
        lookup_expr="search",
        label=_("Search"),
        method="filter_search",
        max_length=200,
        # Control characters cannot travel in XML (feeds) or mean anything in a search. A
        # request never gets here with one (hub.security refuses the whole query string with a
        # 400); this keeps other callers of the filters to the same rule.
        validators=[
            RegexValidator(
                CONTROL_CHARACTERS,
                inverse_match=True,
                message=_("Please remove the control characters from the search text."),
            )
        ],
    )
    level = TagFilter(
        vocabulary=Vocabulary.FITNESS_LEVEL,
        label=_("Fitness level"),
        widget=forms.CheckboxSelectMultiple,
    )
    stage = TagFilter(
        vocabulary=Vocabulary.CANCER_STAGE,
        label=_("Cancer stage"),
        widget=forms.CheckboxSelectMultiple,
    )
    bone = InFilter(
        field_name="bone_metastasis_safety",
        lookup_expr="in",
        label=_("Safety with bone metastases"),
        choices=BoneSafety.public_choices(),
        widget=forms.CheckboxSelectMultiple,
    )
    type = TagFilter(
        vocabulary=Vocabulary.EXERCISE_TYPE,
        label=_("Type of exercise"),
        widget=forms.CheckboxSelectMultiple,
    )
    kind = InFilter(
        field_name="kind",
        lookup_expr="in",
        label=_("Format"),
        choices=Kind.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    lang = InFilter(
        field_name="language",
        lookup_expr="in",
        label=_("Language of the resource"),
        choices=settings.LANGUAGES,
        widget=forms.CheckboxSelectMultiple,
    )

    # "Has captions" means: a video with captions, or any resource with a transcript
    # (uploaded or linked). Only `1` is a value; not a counted facet.
    captions = django_filters.ChoiceFilter(
        label=_("Only videos with captions or a transcript"),
        choices=[("1", "1")],
        method="filter_captions",
    )
    # Where the cancer is in the visitor's bones: drives warnings (resources/catalogue/personal.py),
    # and filters only together with `hide_conflicts`. Not a facet: no counts.
    site = django_filters.MultipleChoiceFilter(
        label=_("Where is the cancer in your bones?"),
        choices=Site.choices,
        widget=forms.CheckboxSelectMultiple,
        method="filter_site",
    )
    hide_conflicts = django_filters.ChoiceFilter(
        label=_("Hide resources that include these movements"),
        choices=[("1", "1")],
        method="filter_hide_conflicts",
    )

    class Meta:
        model = Resource
        fields: list[str] = []

    FACETS = ("level", "stage", "bone", "type", "kind", "lang")

    def __init__(self, data=None, queryset=None, *, tags: Sequence[Tag], **kwargs) -> None:
        super().__init__(data, queryset, **kwargs)
        self.tags = tags
        self._facet_data: FacetData | None = None
        # Choices come from the one vocabulary query the view already made.
        for flt in self.filters.values():
            if isinstance(flt, TagFilter):
                flt.extra["choices"] = [
                    (t.slug, t.name) for t in tags if t.vocabulary == flt.vocabulary
                ]
                flt.tag_ids = {t.slug: t.pk for t in tags if t.vocabulary == flt.vocabulary}

    def filter_search(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return search(qs, value)

    def filter_captions(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        if value != "1":
            return qs
        return qs.filter(
            Q(kind=Kind.VIDEO, has_captions=True) | ~Q(transcript="") | ~Q(transcript_url="")
        )

    def filter_site(self, qs: QuerySet, name: str, value: Sequence[str]) -> QuerySet:
        return qs  # on its own, the sites only choose the warnings

    def hide_condition(self) -> Q:
        """Leave out resources with a flag that conflicts with the chosen sites, if asked."""
        data = self.form.cleaned_data
        if data.get("hide_conflicts") != "1" or not data.get("site"):
            return Q()
        flags = sorted(conflicting_flags(data["site"]))
        if _has_tag_array():
            return ~tags_overlap(
                [
                    t.pk
                    for t in self.tags
                    if t.vocabulary == Vocabulary.MOVEMENT_FLAG and t.slug in flags
                ]
            )
        through = Resource.tags.through.objects.filter(
            resource_id=OuterRef("pk"),
            tag__vocabulary=Vocabulary.MOVEMENT_FLAG,
            tag__slug__in=flags,
        )
        return ~Q(Exists(through))

    def filter_hide_conflicts(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(self.hide_condition())

    def selected(self) -> dict[str, list[str]]:
        """The valid facet values in the request, in declaration order."""
        data = self.form.cleaned_data
        return {name: list(data.get(name) or []) for name in self.FACETS}

    def choice_labels(self) -> dict[str, dict[str, str]]:
        """Each facet's option labels by value, in the request's language."""
        return {name: dict(self.filters[name].field.choices) for name in self.FACETS}

    def in_words(self) -> list[str]:
        """The valid filters chosen, as a person reads them: "Fitness level: Gentle, Moderate",
        then the search words in quotes. Feeds and the link builder show these."""
        labels = self.choice_labels()
        words = [
            f"{self.filters[name].label}: "
            + ", ".join(str(labels[name].get(value, value)) for value in values)
            for name, values in self.selected().items()
            if values
        ]
        if search := self.form.cleaned_data.get("q"):
            words.append(f"{self.filters['q'].label}: “{search}”")
        return words

    def facet_counts(self) -> dict[str, dict[str, int]]:
        """How many results each option would give (see `facet_data()`)."""
        return self.facet_data().counts

    def facet_data(self) -> FacetData:
        """The facet counts and the number of results, from the shared cache when this filter
        set was counted under the current content version, else in ONE query.

        For each option we count resources matching every *other* facet's selection plus
        this option, so ticking it shows exactly that many results (OR within a facet, AND
        across facets). The search term, captions and hidden conflicts apply to every count.
        Requires a valid filter set.
        """
        if self._facet_data is None:
            self._facet_data = _cached(self.cache_key(), self._count_facets)
        return self._facet_data

    def cache_key(self) -> str:
        """What the counts depend on: the cleaned filters, never the page or the language."""
        data = self.form.cleaned_data
        hide = data.get("hide_conflicts") == "1" and bool(data.get("site"))
        signature = {
            **{name: sorted(values) for name, values in self.selected().items()},
            "q": " ".join((data.get("q") or "").split()),
            "captions": data.get("captions") or "",
            "conflicts": sorted(data["site"]) if hide else [],
        }
        encoded = json.dumps(signature, sort_keys=True).encode()
        return hashlib.sha256(encoded).hexdigest()[:32]

    def _count_facets(self) -> FacetData:
        """One aggregate over the resources that count for at least one facet.

        Each option is a `COUNT(*) FILTER (WHERE …)` whose conditions are plain column tests
        or `tag_ids && '{…}'` on the row itself (PostgreSQL), so the matching rows are read
        once, with no join and no subquery per option. (Before: a UNION ALL of one GROUP BY
        per facet over the tag join, six scans of the matches, bench/README.md.) The total is
        one more FILTER: every selection together. Every column read here is in
        `resource_facet_cover_idx`, so the rows come from that narrow index alone (an
        index-only scan), not from the wide table.
        """
        data = self.form.cleaned_data
        selected = {name: values for name, values in self.selected().items() if values}
        base = matching(self.queryset, data.get("q") or "")
        base = self.filter_captions(base, "captions", data.get("captions") or "")
        base = base.filter(self.hide_condition()).order_by()
        conditions = {
            name: self.filters[name].condition(values) for name, values in selected.items()
        }

        aggregates: dict[str, Count] = {}
        options: list[tuple[str, str, str]] = []
        others_by_facet: list[Q] = []
        for name in self.FACETS:
            others = Q()
            for other, condition in conditions.items():
                if other != name:
                    others &= condition
            others_by_facet.append(others)
            for value, _label in self.filters[name].field.choices:
                alias = f"c{len(options)}"
                options.append((alias, name, str(value)))
                aggregates[alias] = Count(
                    "pk", filter=others & self.filters[name].condition([value])
                )
        everything = Q()
        for condition in conditions.values():
            everything &= condition
        aggregates["total"] = Count("pk", filter=everything) if conditions else Count("pk")
        # Only rows that count somewhere: those failing at most one facet's selection.
        if all(others_by_facet):
            relevant = others_by_facet[0]
            for others in others_by_facet[1:]:
                relevant |= others
            base = base.filter(relevant)
        row = base.aggregate(**aggregates)
        counts: dict[str, dict[str, int]] = {name: {} for name in self.FACETS}
        for alias, name, value in options:
            if row[alias]:
                counts[name][value] = row[alias]
        return FacetData(counts=counts, total=row["total"])

    def results_in_language(self, language: str) -> int:
        """How many results are in `language`: the `lang` facet's count for it, unless the
        visitor's `lang` selection leaves that language out."""
        chosen = self.selected()["lang"]
        if chosen and language not in chosen:
            return 0
        return self.facet_data().counts["lang"].get(language, 0)


@dataclass(frozen=True)
class FacetData:
    counts: dict[str, dict[str, int]]
    total: int


FACET_KEY = "hub.facets"


def _cached(key: str, compute: Callable[[], FacetData]) -> FacetData:
    """`compute()` once per filter set and content version, shared by every process.

    Never stored from a transaction holding uncommitted content changes (the numbers might
    be rolled back), and never read in one (the cached numbers predate the change), the same
    rule as the page cache (hub/cache.py). A cache outage costs the query, never the page.
    """
    seconds = settings.HUB_FACET_CACHE_SECONDS
    if seconds <= 0 or has_uncommitted_content_changes():
        return compute()
    from hub.db_router import read_is_current

    if not breaker.allows():  # the shared cache failed a moment ago: don't wait for it again
        return compute()
    try:
        version = content_version()
    except DatabaseError:  # the primary is out of reach: a replica may still count
        return compute()
    full_key = f"{FACET_KEY}.{version.token}.{key}"
    try:
        stored = page_cache().get(full_key)
    except Exception as error:
        cache_failed("facet counts", error)
        return compute()
    breaker.succeeded()
    if stored is not None:
        return FacetData(*stored)
    data = compute()
    left = version.seconds_left(time.time())
    if left is not None:
        seconds = min(seconds, int(left))
    if seconds > 0 and read_is_current(version):
        try:
            page_cache().set(full_key, (data.counts, data.total), seconds)
        except Exception as error:
            cache_failed("facet counts", error)
    return data


class BrowseResults(Sequence[Resource]):
    """A browse result list for the paginator, at a cost that depends on the page, not on the
    number of resources.

    The number of results comes with the facet counts (no second `COUNT(*)`). Without a
    search the browse order, "the visitor's language first, then the rest, each by title",
    is read as two index-ordered slices (`resource_language_order_idx`, then
    `resource_title_order_idx`), split where the visitor's language ends: the same order as
    `visitor_language_first()`, whose `CASE` no index can serve, so every visible resource
    was sorted for every page. A search keeps its relevance order.
    """

    def __init__(self, filterset: ResourceFilter, results: QuerySet[Resource], language: str):
        self.results = results
        self.total = filterset.facet_data().total
        self.searched = bool(filterset.form.cleaned_data.get("q"))
        self.language = language
        self.own = 0 if self.searched else filterset.results_in_language(language)

    def count(self) -> int:
        return self.total

    def __len__(self) -> int:
        return self.total

    def __iter__(self) -> Iterator[Resource]:
        return iter(self[0 : self.total])

    @overload
    def __getitem__(self, key: int) -> Resource: ...
    @overload
    def __getitem__(self, key: slice) -> list[Resource]: ...
    def __getitem__(self, key: int | slice) -> Resource | list[Resource]:
        if isinstance(key, int):
            return self[key : key + 1][0]
        start, stop = (
            key.start or 0,
            min(key.stop if key.stop is not None else self.total, self.total),
        )
        if start >= stop:
            return []
        if self.searched:
            return list(self.results[start:stop])
        # The prefetch of tags runs once for the whole page, not once per slice.
        unordered = self.results.prefetch_related(None).order_by()
        rows: list[Resource] = []
        if start < self.own:
            own = unordered.filter(language=self.language).order_by("title", "slug")
            rows += own[start : min(stop, self.own)]
        if stop > self.own:
            rest = unordered.exclude(language=self.language).order_by("title", "slug")
            rows += rest[max(0, start - self.own) : stop - self.own]
        prefetch_related_objects(rows, "tags")
        return rows


# The parameters that make up a browse address (docs/clinics.md).
BROWSE_PARAMETERS = (
    "level",
    "stage",
    "bone",
    "type",
    "kind",
    "lang",
    "captions",
    "q",
    "site",
    "hide_conflicts",
)


def canonical_query(data: QueryDict) -> str:
    """The one query string for a filter set: known parameters only, sorted by name (the
    page number last), values sorted and de-duplicated, empty values dropped; page 1 is the
    default. `ref` and any other parameter are dropped.

    Purely syntactic: an unknown value stays in, so the page can say it is unknown.
    """
    canonical = QueryDict(mutable=True)
    for name in sorted(BROWSE_PARAMETERS):
        values = sorted({value.strip() for value in data.getlist(name) if value.strip()})
        if name == "q":
            values = [" ".join(values[0].split())] if values else []
        if values:
            canonical.setlist(name, values)
    page = data.get("page", "").strip()
    if page and page != "1":
        canonical["page"] = page
    return canonical.urlencode()


def first_page_query(data: QueryDict) -> str:
    """The canonical query of a filter set's first page: what links, feeds and the widget's
    "See all" hand out, whatever page the request was on."""
    query = data.copy()
    query.pop("page", None)
    return canonical_query(query)


def with_query(path: str, query: str) -> str:
    """`path?query`, or the bare path when there is no query (no dangling "?")."""
    return f"{path}?{query}" if query else path


def browse(data: QueryDict, language: str) -> tuple[ResourceFilter, QuerySet[Resource]]:
    """Published resources for a browse query, in browse order: the filter set (valid or
    not) and the results. Invalid input gives no results, never an unfiltered list.

    The browse page, the API, the feeds and the widget all read resources through here,
    so they agree on filter semantics and order.
    """
    filterset = ResourceFilter(
        data, queryset=Resource.objects.published(), tags=list(Tag.objects.all())
    )
    if not filterset.is_valid():
        return filterset, Resource.objects.none()
    results = filterset.qs.for_listing()
    if not filterset.form.cleaned_data.get("q"):  # a search is ordered by relevance
        results = results.visitor_language_first(language)
    return filterset, results


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    count: int | None
    checked: bool


@dataclass(frozen=True)
class Facet:
    name: str
    label: str
    options: list[Option]


def facets(
    filterset: django_filters.FilterSet, counts: dict[str, dict[str, int]] | None
) -> list[Facet]:
    """The checkbox groups of a finder form (the filter set's `FACETS`, in order), with a count
    per option when known; a group with no options (an empty vocabulary) is left out."""
    chosen = {name: set(filterset.data.getlist(name)) for name in filterset.FACETS}
    return [
        Facet(
            name=name,
            label=str(filterset.filters[name].label),
            options=[
                Option(
                    value=str(value),
                    label=str(label),
                    count=None if counts is None else counts[name].get(str(value), 0),
                    checked=str(value) in chosen[name],
                )
                for value, label in filterset.filters[name].field.choices
            ],
        )
        for name in filterset.FACETS
        if filterset.filters[name].field.choices
    ]
