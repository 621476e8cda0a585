"""The programme finder's filters: stable GET parameters, like browse (resources/filters.py).

OR within one parameter, AND across parameters. Online programmes are offered to everyone:
the place filters (`country`, the place part of `q`) narrow only the programmes people go to;
a programme that can be joined online matches any place.

`near=lat,lon` sorts by distance. The page's script rounds the position to two decimals
(about 1 km) before it leaves the device and the server rounds again; it is never stored
(the answer is `private, no-store`, so no cache keeps a page keyed by it) and never logged
(the request log has the path only, hub/logging.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

import django_filters
from django import forms
from django.conf import settings
from django.core.validators import RegexValidator
from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import ACos, Cast, Cos, Greatest, Least, Radians, Replace, Sin
from django.utils.translation import gettext_lazy as _

from resources.models import (
    BoneAcceptance,
    Cost,
    Delivery,
    Programme,
    ProgrammeLocation,
    languages_condition,
)

EARTH_RADIUS_KM = 6371.0
ONLINE = Q(delivery__in=[Delivery.ONLINE, Delivery.HYBRID])


def country_choices() -> list[tuple[str, str]]:
    """The countries that published listings meet in: one query."""
    codes = (
        ProgrammeLocation.objects.filter(programme__in=Programme.objects.published())
        .order_by("country")
        .values_list("country", flat=True)
        .distinct()
    )
    return [(code, code) for code in codes]


def parse_near(value: str) -> tuple[float, float] | None:
    """'52.0907,5.1214' → (52.09, 5.12): rounded to about a kilometre, or None if not a point."""
    try:
        lat_text, lon_text = value.split(",")
        lat = round(float(Decimal(lat_text.strip())), 2)
        lon = round(float(Decimal(lon_text.strip())), 2)
    except (ValueError, InvalidOperation):
        return None
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lat, lon


def _near_validator(value: str) -> None:
    if parse_near(value) is None:
        raise forms.ValidationError(
            _("The position could not be read. Search by town or postcode instead.")
        )


class InFilter(django_filters.MultipleChoiceFilter):
    def condition(self, values: Sequence[str]) -> Q:
        return Q(**{f"{self.field_name}__in": list(values)})

    def filter(self, qs: QuerySet, value: Sequence[str]) -> QuerySet:
        return qs.filter(self.condition(value)) if value else qs


class LanguageFilter(InFilter):
    def condition(self, values: Sequence[str]) -> Q:
        found = Q(pk__in=[])
        for code in values:
            found |= languages_condition(code)
        return found


class CountryFilter(InFilter):
    """Programmes meeting in one of these countries, and every online programme."""

    def condition(self, values: Sequence[str]) -> Q:
        # An uncorrelated `id IN (…)`, run once and hashed: a correlated EXISTS inside the
        # facet counts' FILTER clauses ran once per programme and option (as in browse).
        located = ProgrammeLocation.objects.filter(country__in=list(values)).values("programme_id")
        return Q(pk__in=located) | ONLINE


def place_condition(text: str) -> Q:
    """A town, postcode or name: programmes that match it, and every online programme."""
    compact = "".join(text.split())
    # Postcodes compared without spaces: "3584CX" finds "3584 CX", and "3584" finds both.
    located = (
        ProgrammeLocation.objects.annotate(
            compact_postcode=Replace("postal_code", Value(" "), Value(""))
        )
        .filter(Q(city__icontains=text) | Q(compact_postcode__istartswith=compact))
        .values("programme_id")
    )
    return (
        Q(name__icontains=text)
        | Q(organisation__name__icontains=text)
        | Q(service_area__icontains=text)
        | Q(pk__in=located)
        | ONLINE
    )


_NO_CONTROL_CHARACTERS = RegexValidator(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]",
    inverse_match=True,
    message=_("Please remove the control characters from the search text."),
)


class ProgrammeFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Town, postcode or name"),
        method="filter_place",
        max_length=100,
        validators=[_NO_CONTROL_CHARACTERS],
    )
    bone = InFilter(
        field_name="bone_metastases",
        label=_("People with bone metastases"),
        choices=[
            (BoneAcceptance.ACCEPTED.value, _("Accepted")),
            (BoneAcceptance.CLEARANCE.value, _("Accepted with their doctor's clearance")),
            (BoneAcceptance.NOT_STATED.value, _("Not stated")),
        ],
        widget=forms.CheckboxSelectMultiple,
    )
    delivery = InFilter(
        field_name="delivery",
        label=_("How it takes place"),
        choices=Delivery.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    lang = LanguageFilter(
        field_name="languages",
        label=_("Language of the sessions"),
        choices=settings.LANGUAGES,
        widget=forms.CheckboxSelectMultiple,
    )
    cost = InFilter(
        field_name="cost",
        label=_("Cost"),
        choices=[(Cost.FREE.value, _("Free only"))],
        widget=forms.CheckboxSelectMultiple,
    )
    country = CountryFilter(
        field_name="country",
        label=_("Country"),
        widget=forms.CheckboxSelectMultiple,
    )
    near = django_filters.CharFilter(
        label=_("Near me"),
        method="filter_near",
        max_length=40,
        validators=[_near_validator],
    )

    class Meta:
        model = Programme
        fields: list[str] = []

    FACETS = ("bone", "delivery", "lang", "cost", "country")

    def __init__(self, data=None, queryset=None, *, countries: list[tuple[str, str]], **kw):
        super().__init__(data, queryset, **kw)
        self.filters["country"].extra["choices"] = countries

    def filter_place(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(place_condition(value.strip())) if value.strip() else qs

    def filter_near(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs  # sorts only (finder_results)

    def point(self) -> tuple[float, float] | None:
        value = self.form.cleaned_data.get("near") if self.is_valid() else None
        return parse_near(value) if value else None

    def facet_counts(self) -> dict[str, dict[str, int]]:
        """How many programmes each option would give, in ONE query of conditional counts.

        Each option counts the programmes matching every *other* facet's choice plus this
        option (as browse does). Few options, so one FILTER clause per option is cheap.
        """
        data = self.form.cleaned_data
        selected = {name: list(data.get(name) or []) for name in self.FACETS if data.get(name)}
        base = self.filter_place(self.queryset, "q", data.get("q") or "").order_by()
        aggregates = {}
        for name in self.FACETS:
            others = Q()
            for other, values in selected.items():
                if other != name:
                    others &= self.filters[other].condition(values)
            for index, (value, _label) in enumerate(self.filters[name].field.choices):
                option = self.filters[name].condition([value])
                aggregates[f"{name}__{index}"] = Count("pk", filter=others & option)
        totals = base.aggregate(**aggregates) if aggregates else {}
        counts: dict[str, dict[str, int]] = {name: {} for name in self.FACETS}
        for name in self.FACETS:
            for index, (value, _label) in enumerate(self.filters[name].field.choices):
                counts[name][str(value)] = totals[f"{name}__{index}"]
        return counts


def _distance_km(lat: float, lon: float) -> Subquery:
    """The nearest location's great-circle distance (spherical law of cosines, clamped)."""
    # Decimal columns as floats: one numeric type through the whole expression.
    here_lat, here_lon = Radians(Value(lat)), Radians(Value(lon))
    there_lat = Radians(Cast("latitude", FloatField()))
    there_lon = Radians(Cast("longitude", FloatField()))
    cosine = Sin(here_lat) * Sin(there_lat) + Cos(here_lat) * Cos(there_lat) * Cos(
        there_lon - here_lon
    )
    nearest = (
        ProgrammeLocation.objects.filter(programme=OuterRef("pk"), latitude__isnull=False)
        .annotate(
            km=ACos(Greatest(Least(cosine, Value(1.0)), Value(-1.0))) * Value(EARTH_RADIUS_KM)
        )
        .order_by("km")
        .values("km")[:1]
    )
    return Subquery(nearest, output_field=FloatField())


def finder_results(data, countries: list[tuple[str, str]]) -> tuple[ProgrammeFilter, QuerySet]:
    """Published programmes for a finder query: programmes people go to first (nearest first
    with `near`, else by name), then those joined only online. Invalid input: no results."""
    filterset = ProgrammeFilter(data, queryset=Programme.objects.published(), countries=countries)
    if not filterset.is_valid():
        return filterset, Programme.objects.none()
    online_only = Case(
        When(delivery=Delivery.ONLINE, then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )
    results = filterset.qs.for_listing().annotate(online_only=online_only)
    point = filterset.point()
    if point is not None:
        results = results.annotate(distance_km=_distance_km(*point)).order_by(
            "online_only", F("distance_km").asc(nulls_last=True), "name", "slug"
        )
    else:
        results = results.order_by("online_only", "name", "slug")
    return filterset, results
