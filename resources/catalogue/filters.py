"""Public browse filters: stable GET parameters with slug values (docs/clinics.md).

OR within one parameter (`?level=gentle&level=moderate`), AND across parameters.
Each filter can express itself as a condition, so the facet counts reuse exactly the
conditions the result list uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import django_filters
from django import forms
from django.conf import settings
from django.core.validators import RegexValidator
from django.db.models import CharField, Count, Exists, F, OuterRef, Q, QuerySet, Value
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from hub.security import CONTROL_CHARACTERS

from ..models import BoneSafety, Kind, Resource, Tag, Vocabulary
from .personal import Site, conflicting_flags
from .search import search


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
        super().__init__(field_name="tags__slug", lookup_expr="in", **kwargs)

    def condition(self, values: Sequence[str]) -> Q:
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
        # Choices come from the one vocabulary query the view already made.
        for flt in self.filters.values():
            if isinstance(flt, TagFilter):
                flt.extra["choices"] = [
                    (t.slug, t.name) for t in tags if t.vocabulary == flt.vocabulary
                ]

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
        through = Resource.tags.through.objects.filter(
            resource_id=OuterRef("pk"),
            tag__vocabulary=Vocabulary.MOVEMENT_FLAG,
            tag__slug__in=sorted(conflicting_flags(data["site"])),
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
        """How many results each option would give, in ONE query.

        For each option we count resources matching every *other* facet's selection
        plus this option, so ticking it shows exactly that many results (OR within a
        facet, AND across facets). The search term applies to every count.

        One GROUP BY per facet, joined with UNION ALL: each scans the matching resources
        once, however many options the facet has. (Conditional counts per option, one
        FILTER clause each, re-ran the tag subqueries for every option: 15 s for a
        three-filter page at 100,000 resources, bench/README.md.)
        """
        selected = {name: values for name, values in self.selected().items() if values}
        base = self.filter_search(self.queryset, "q", self.form.cleaned_data.get("q") or "")
        base = self.filter_captions(base, "captions", self.form.cleaned_data.get("captions") or "")
        base = base.filter(self.hide_condition()).order_by()
        groups = []
        for name in self.FACETS:
            others = Q()
            for other, values in selected.items():
                if other != name:
                    others &= self.filters[other].condition(values)
            groups.append(self._facet_group(name, base.filter(others)))
        counts: dict[str, dict[str, int]] = {name: {} for name in self.FACETS}
        for name, value, number in groups[0].union(*groups[1:], all=True).order_by():
            counts[name][value] = number
        return counts

    def _facet_group(self, name: str, matching: QuerySet) -> QuerySet:
        """(facet, option value, number of matching resources) rows for one facet."""
        facet = Value(name, output_field=CharField())
        flt = self.filters[name]
        # Each group is a top-level SELECT on the resource table (not a subquery), so the
        # search's SQL, which names that table, stays valid.
        if isinstance(flt, TagFilter):
            # The join made by this filter() is the one values() groups by: one row per
            # (resource, tag of this vocabulary).
            matching = matching.filter(tags__vocabulary=flt.vocabulary)
            value = F("tags__slug")
        else:
            value = F(flt.field_name)
        return (
            matching.values(facet=facet, value=value)
            .annotate(number=Count("pk"))
            .values_list("facet", "value", "number")
        )


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


def facets(filterset: ResourceFilter, counts: dict[str, dict[str, int]] | None) -> list[Facet]:
    """The checkbox groups of the browse form, with a count per option when known."""
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
    ]
