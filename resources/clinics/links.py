"""For clinics: the link builder, QR codes and printable handouts (docs/clinics.md).

Everything here reads the same GET parameters as the browse page, plus `resource` (the slugs
of individual resources), `clinic` (a name for the handout) and `ref` (a partner's code, for
the referral counts). Every address made here points at this hub: the QR code endpoints
build the address themselves from those parameters, so they can never encode someone else's.

With individual resources chosen, each resource gets its own link (its detail page) and QR
code, and the handout lists them all; the embeddable widget is for filter sets only.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, Literal

import segno
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import get_language, gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from ..catalogue.filters import (
    ResourceFilter,
    browse,
    facets,
    first_page_query,
    with_query,
)
from ..models import Partner, Resource
from .prescription import Prescription, PrescriptionForm, read_prescription
from .referrals import not_a_referral

# Six QR codes with their titles and addresses still fit on one printed A4 page; two, with a
# prescription (the longest one takes the room of four codes).
MAX_RESOURCES = 6
MAX_RESOURCES_WITH_PRESCRIPTION = 2
# The individual-resource picker lists at most this many titles (a bounded query however large
# the hub grows); a title search narrows it.
PICKER_SIZE = 60
# How many titles a handout for a filter set lists before "and N more". A handout with a
# prescription prints it in place of the titles (and says how many the address opens), so
# that even the longest prescription stays on one A4 sheet.
HANDOUT_TITLES = 10
# The widget's frame, as partners paste it into their pages.
EMBED_HEIGHT = 600


class SlugListField(forms.Field):
    """Several values of one GET parameter (`?resource=a&resource=b`), de-duplicated."""

    widget = forms.MultipleHiddenInput
    # A request never brings a NUL here (hub.security refuses it with a 400); without this a
    # form filled some other way would reach PostgreSQL with one, which is a DataError.
    default_validators = [ProhibitNullCharactersValidator()]

    def run_validators(self, value: Any) -> None:
        for item in value:
            super().run_validators(item)

    def to_python(self, value: Any) -> list[str]:
        if not value:
            return []
        return sorted({str(item).strip() for item in value if str(item).strip()})


class LinkForm(forms.Form):
    """What the builder asks for besides the browse filters."""

    resource = SlugListField(label=_("Individual resources"), required=False)
    clinic = forms.CharField(
        label=_("Name of your clinic"),
        max_length=100,
        required=False,
        help_text=_("Optional. Printed at the top of the handout."),
    )
    ref = forms.CharField(
        label=_("Partner code"),
        max_length=50,
        required=False,
        help_text=_(
            "Optional, if the hub gave your organisation one. It is added to your links as "
            "?ref=… so that we can count how many visits they bring: one number per day, "
            "no cookie, nothing about the person."
        ),
    )

    def clean_resource(self) -> list[Resource]:
        slugs: list[str] = self.cleaned_data["resource"]
        if len(slugs) > MAX_RESOURCES:
            raise ValidationError(
                ngettext(
                    "Choose at most %(count)d resource.",
                    "Choose at most %(count)d resources: that many fit on one handout.",
                    MAX_RESOURCES,
                )
                % {"count": MAX_RESOURCES}
            )
        if not slugs:
            return []
        found = {r.slug: r for r in Resource.objects.published().filter(slug__in=slugs)}
        if len(found) != len(slugs):
            raise ValidationError(
                _("One of the chosen resources is not on the hub. Choose again from the list.")
            )
        return sorted(found.values(), key=lambda r: (r.title.casefold(), r.slug))

    def clean_ref(self) -> Partner | None:
        slug: str = self.cleaned_data["ref"]
        if not slug:
            return None
        partner = Partner.objects.active().filter(slug=slug).first()
        if partner is None:
            raise ValidationError(
                _("We do not know this partner code. Check it, or leave the field empty.")
            )
        return partner


@dataclass(frozen=True)
class LinkRequest:
    """The builder's parameters, read and checked once for the page, QR code or handout."""

    query: str  # the canonical browse query of the filters (first page)
    form: LinkForm
    filterset: ResourceFilter
    results: QuerySet[Resource]
    is_valid: bool
    prescription_form: PrescriptionForm

    @property
    def prescription(self) -> Prescription:
        return read_prescription(self.prescription_form)

    @property
    def resources(self) -> list[Resource]:
        return self.form.cleaned_data["resource"]

    @property
    def partner(self) -> Partner | None:
        return self.form.cleaned_data["ref"]

    @property
    def clinic(self) -> str:
        return self.form.cleaned_data["clinic"]

    def problems(self) -> list[str]:
        """Every error in words, each named after its field, for people and for 400s."""
        messages = []
        for form in (self.filterset.form, self.form, self.prescription_form):
            for name, errors in form.errors.items():
                label = form.fields[name].label if name in form.fields else ""
                for error in errors:
                    messages.append(f"{label}: {error}" if label else str(error))
        return messages


def read_link_request(data: QueryDict) -> LinkRequest:
    # The filters are checked in their canonical form, which is exactly what the link holds.
    query = first_page_query(data)
    filterset, results = browse(QueryDict(query), get_language())
    form = LinkForm(data)
    form_ok = form.is_valid()
    filters_ok = filterset.is_valid()
    prescription_form = PrescriptionForm(data)
    prescription_ok = prescription_form.is_valid()
    if form_ok and form.cleaned_data["resource"] and query:
        form.add_error(
            "resource", _("Choose either filters or individual resources, not both at once.")
        )
        form_ok = False
    if (
        form_ok
        and prescription_ok
        and len(form.cleaned_data["resource"]) > MAX_RESOURCES_WITH_PRESCRIPTION
        and read_prescription(prescription_form)
    ):
        form.add_error(
            "resource",
            _(
                "With a prescription, choose at most %(count)d resources: then they and the "
                "prescription fit on one handout. Or choose filters."
            )
            % {"count": MAX_RESOURCES_WITH_PRESCRIPTION},
        )
        form_ok = False
    return LinkRequest(
        query,
        form,
        filterset,
        results,
        form_ok and filters_ok and prescription_ok,
        prescription_form,
    )


def _join(*parts: str) -> str:
    return "&".join(part for part in parts if part)


def _encode(name: str, values: list[str]) -> str:
    query = QueryDict(mutable=True)
    query.setlist(name, values)
    return query.urlencode()


@dataclass(frozen=True)
class Link:
    """One address to hand out, with what the QR code endpoints need to draw it."""

    heading: str
    url: str  # absolute; carries ?ref= when a partner code was given
    canonical_url: str  # absolute; the same page without ?ref=
    params: str  # the query string that asks the QR code endpoints for this link
    resource: Resource | None = None
    matching: int | None = None


def _absolute(request: HttpRequest, path: str, query: str) -> str:
    return request.build_absolute_uri(with_query(path, query))


def filter_link(request: HttpRequest, link_request: LinkRequest, matching: int | None) -> Link:
    query = link_request.query
    ref = _encode("ref", [link_request.partner.slug]) if link_request.partner else ""
    path = reverse("resources:list")
    return Link(
        heading=describe_filters(link_request.filterset),
        url=_absolute(request, path, _join(query, ref)),
        canonical_url=_absolute(request, path, query),
        params=_join(query, ref),
        matching=matching,
    )


def resource_link(request: HttpRequest, resource: Resource, partner: Partner | None) -> Link:
    ref = _encode("ref", [partner.slug]) if partner else ""
    path = resource.get_absolute_url()
    return Link(
        heading=resource.title,
        url=_absolute(request, path, ref),
        canonical_url=_absolute(request, path, ""),
        params=_join(_encode("resource", [resource.slug]), ref),
        resource=resource,
    )


def describe_filters(filterset: ResourceFilter) -> str:
    """The chosen filters in words: "Fitness level: Gentle; Language of the resource: German"."""
    return "; ".join(filterset.in_words()) or gettext("Every resource on the hub")


def embed_snippet(request: HttpRequest, query: str) -> str:
    """The <iframe> a partner pastes into a page (shown as text, so not marked safe)."""
    src = _absolute(request, reverse("embed"), query)
    title = gettext("Exercise resources from the Physical Activity Resource Hub")
    return (
        f'<iframe src="{escape(src)}" title="{escape(title)}" width="100%" '
        f'height="{EMBED_HEIGHT}" loading="lazy"></iframe>'
    )


def _links(request: HttpRequest, link_request: LinkRequest) -> list[Link]:
    if link_request.resources:
        return [resource_link(request, r, link_request.partner) for r in link_request.resources]
    return [filter_link(request, link_request, link_request.results.count())]


def _handout_params(link_request: LinkRequest, links: list[Link]) -> str:
    if link_request.resources:
        chosen = _encode("resource", [r.slug for r in link_request.resources])
        ref = _encode("ref", [link_request.partner.slug]) if link_request.partner else ""
        params = _join(chosen, ref)
    else:
        params = links[0].params
    clinic = _encode("clinic", [link_request.clinic]) if link_request.clinic else ""
    # The prescription travels in the handout's address only, never in a QR code.
    return _join(params, clinic, link_request.prescription.query)


def _picker(request: HttpRequest) -> dict[str, Any]:
    """The checkboxes for individual resources: the first PICKER_SIZE titles (or those matching
    the "find" box), plus any already chosen. Two bounded queries, never the whole catalogue."""
    chosen = request.GET.getlist("resource")[: MAX_RESOURCES + 1]
    find = request.GET.get("find", "").strip()[:100]
    published = Resource.objects.published().only("slug", "title", "language", "kind")
    matching = published.filter(title__icontains=find) if find else published
    choices = list(
        published.filter(
            Q(pk__in=matching.order_by("title", "slug")[:PICKER_SIZE].values("pk"))
            | Q(slug__in=chosen)
        ).order_by("title", "slug")
    )
    return {
        "resource_choices": choices,
        "chosen_resources": set(chosen),
        "picker_find": find,
        "picker_more": len(choices) >= PICKER_SIZE,
    }


def _builder_page(request: HttpRequest, link_request: LinkRequest) -> HttpResponse:
    submitted = bool(request.GET)
    # "Find" only narrows the picker: nothing is built (or refused) yet.
    finding = request.GET.get("picker") == "find"
    built = submitted and link_request.is_valid and not finding
    context: dict[str, Any] = {
        "form": link_request.form,
        "prescription_form": link_request.prescription_form,
        "filter_errors": link_request.filterset.form.errors,
        "facets": facets(link_request.filterset, None),
        **_picker(request),
        "max_resources": MAX_RESOURCES,
        "problems": link_request.problems() if submitted and not finding else [],
        "built": built,
    }
    if built:
        links = _links(request, link_request)
        context |= {
            "links": links,
            "partner": link_request.partner,
            "handout_params": _handout_params(link_request, links),
            "embed_snippet": ""
            if link_request.resources
            else embed_snippet(request, link_request.query),
        }
    status = 400 if submitted and not finding and not link_request.is_valid else 200
    return render(request, "resources/clinics.html", context, status=status)


@not_a_referral
@require_safe
def link_builder(request: HttpRequest) -> HttpResponse:
    return _builder_page(request, read_link_request(request.GET))


@not_a_referral
@require_safe
def handout(request: HttpRequest) -> HttpResponse:
    link_request = read_link_request(request.GET)
    if not link_request.is_valid:
        # The builder shows what is wrong and lets the clinician put it right.
        return _builder_page(request, link_request)
    links = _links(request, link_request)
    prescription = link_request.prescription
    listed: list[Resource] = []
    if not link_request.resources and not prescription:
        listed = list(link_request.results[:HANDOUT_TITLES])
    total = links[0].matching or 0
    context = {
        "clinic": link_request.clinic,
        "prescription": prescription,
        "links": links,
        "listed": listed,
        "any_provisional": any(
            resource.rating_is_provisional for resource in [*listed, *link_request.resources]
        ),
        "total": total,
        "more": total - len(listed),
        # The builder reads the same parameters, so "Change" reopens it filled in.
        "builder_params": _handout_params(link_request, links),
    }
    return render(request, "resources/handout.html", context)


@not_a_referral
@require_safe
def referral_letter(request: HttpRequest) -> HttpResponse:
    """A printable letter to a supervised programme, built from the handout's parameters.

    The person's name, date of birth, the date and the signature are blank lines to fill in
    by hand: nothing personal is ever typed into (or sent to) the hub, so the page is the same
    for everyone with the same address and can be cached like the handout.
    """
    link_request = read_link_request(request.GET)
    if not link_request.is_valid:
        return _builder_page(request, link_request)
    links = _links(request, link_request)
    context = {
        "clinic": link_request.clinic,
        "prescription": link_request.prescription,
        "links": links,
        # The exercises suggested, in words: the filters, or the chosen resources' titles.
        "suggested": [] if link_request.resources else [describe_filters(link_request.filterset)],
        "handout_params": _handout_params(link_request, links),
    }
    return render(request, "resources/letter.html", context)


def _bad_request(problems: list[str]) -> HttpResponse:
    text = "\n".join([gettext("This QR code cannot be made:"), *problems]) + "\n"
    return HttpResponseBadRequest(text, content_type="text/plain; charset=utf-8")


@not_a_referral
@require_safe
def qr_code(request: HttpRequest, image_format: Literal["png", "svg"]) -> HttpResponse:
    """A QR code for a hub link, never for an address given from outside."""
    if "url" in request.GET:
        return _bad_request(
            [
                gettext(
                    "QR codes here are for links to this hub only: give the filters "
                    "(level, stage, bone, type, kind, lang) or one resource, not a url."
                )
            ]
        )
    link_request = read_link_request(request.GET)
    if not link_request.is_valid:
        return _bad_request(link_request.problems())
    if len(link_request.resources) > 1:
        return _bad_request([gettext("One QR code holds one resource: ask for each separately.")])
    if link_request.resources:
        link = resource_link(request, link_request.resources[0], link_request.partner)
    else:
        link = filter_link(request, link_request, None)
    return qr_response(link.url, image_format)


def make_qr(url: str) -> segno.QRCode:
    # Error correction M survives a crease or a smudge on a printed handout; never a
    # Micro QR code, which many phone cameras do not read.
    return segno.make_qr(url, error="m")


def qr_response(url: str, image_format: Literal["png", "svg"]) -> HttpResponse:
    code = make_qr(url)
    buffer = io.BytesIO()
    if image_format == "png":
        code.save(buffer, kind="png", scale=10, border=4)
        content_type = "image/png"
    else:
        # Millimetres and a viewBox: sharp at any size in print and in documents.
        title = gettext("QR code for %(url)s") % {"url": url}
        code.save(buffer, kind="svg", scale=1, unit="mm", border=4, title=title, nl=True)
        content_type = "image/svg+xml"
    response = HttpResponse(buffer.getvalue(), content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="hub-qr-code.{image_format}"'
    return response
