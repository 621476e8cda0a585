""" "Which support suits me": a short question set that suggests a level of supervision.

Modelled on the EXCEEDS algorithm (Exercise in Cancer Evaluation and Decision Support:
Covington KR, Marshall T, Campbell G, et al. Support Care Cancer 2021;29(11):6469-6480,
doi:10.1007/s00520-021-06208-7), which routes people with cancer through yes/no questions to
levels of exercise or rehabilitation services. The hub's questions are its own plain-language
wording, fewer than the published eleven, and three levels instead of four (the two most
specialised are one: "clinically supervised"). The wording NEEDS CLINICAL REVIEW before launch.

Nothing is stored or sent: the answers travel only in the GET address, like the self-check.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from resources.models import BoneAcceptance, Delivery, Programme, Resource

CLINICAL = "clinical"
COMMUNITY = "community"
SELF_GUIDED = "self-guided"

YES_NO = [("yes", _("Yes")), ("no", _("No"))]


def _question(label: Promise) -> forms.ChoiceField:
    return forms.ChoiceField(label=label, choices=YES_NO, widget=forms.RadioSelect)


class SupportForm(forms.Form):
    # Any "yes" here suggests exercise in a clinic (physiotherapy or exercise physiology).
    unstable = _question(
        _(
            "Has your team said a bone metastasis is at risk of breaking, or do you have bone "
            "pain that is new or getting worse?"
        )
    )
    daily = _question(
        _("Do you need help with everyday things, like getting dressed or out of a chair?")
    )
    falls = _question(_("Have you fallen in the last 6 months, or do you often feel unsteady?"))
    symptoms = _question(
        _(
            "Do you have a heart or lung condition, get very short of breath, or have numbness "
            "or weakness in your legs?"
        )
    )
    # Any "yes" here (and none above) suggests a supervised community programme.
    metastases = _question(_("Do you have bone metastases?"))
    treatment = _question(_("Are you having treatment now, or did it end in the last 6 months?"))
    new_to_exercise = _question(
        _("Are you new to exercise, or active for less than 30 minutes on most days?")
    )

    CLINICAL_QUESTIONS = ("unstable", "daily", "falls", "symptoms")
    COMMUNITY_QUESTIONS = ("metastases", "treatment", "new_to_exercise")

    def level(self) -> str:
        data = self.cleaned_data
        if any(data[name] == "yes" for name in self.CLINICAL_QUESTIONS):
            return CLINICAL
        if any(data[name] == "yes" for name in self.COMMUNITY_QUESTIONS):
            return COMMUNITY
        return SELF_GUIDED


@dataclass(frozen=True)
class Level:
    key: str
    title: Promise
    explanation: Promise
    finder_query: str


LEVELS = {
    CLINICAL: Level(
        CLINICAL,
        _("Exercise supervised in a clinic"),
        _(
            "Your answers suggest starting with a physiotherapist or exercise physiologist who "
            "works with your medical team, in a clinic or hospital. Ask your team for a referral."
        ),
        "bone=accepted&bone=clearance&delivery=in-person&delivery=hybrid",
    ),
    COMMUNITY: Level(
        COMMUNITY,
        _("A supervised programme in the community"),
        _(
            "Your answers suggest a programme led by a trainer with cancer training, in a group "
            "near you or online. Ask your team whether it is right for you."
        ),
        "bone=accepted&bone=clearance",
    ),
    SELF_GUIDED: Level(
        SELF_GUIDED,
        _("Exercise on your own, with your team's agreement"),
        _(
            "Your answers suggest you could exercise on your own with videos and guides, once "
            "your team agrees. A supervised programme is still a good choice."
        ),
        "",
    ),
}


def _matches(level: str, has_metastases: bool) -> tuple[list[Programme], list[Resource]]:
    """A few published programmes and resources for the level: four queries at most."""
    programmes = Programme.objects.published().select_related("organisation")
    if has_metastases or level == CLINICAL:
        programmes = programmes.filter(
            bone_metastases__in=[BoneAcceptance.ACCEPTED, BoneAcceptance.CLEARANCE]
        )
    if level == CLINICAL:
        programmes = programmes.exclude(delivery=Delivery.ONLINE)
    resources = Resource.objects.published().select_related("organisation")
    resources = resources.filter(bone_metastasis_safety="suitable") if has_metastases else resources
    return (
        list(programmes.order_by("name", "slug")[:5]),
        list(resources.order_by("-published_at", "slug")[:3]) if level != CLINICAL else [],
    )


def _answered(request: HttpRequest) -> tuple[SupportForm, int]:
    form = SupportForm(request.GET or None)
    if not request.GET:
        return form, 200
    return form, 200 if form.is_valid() else 400


def _answers_query(form: SupportForm) -> str:
    query = QueryDict(mutable=True)
    for name in form.fields:
        query[name] = form.cleaned_data[name]
    return query.urlencode()


@require_safe
def support(request: HttpRequest) -> HttpResponse:
    form, status = _answered(request)
    context: dict[str, object] = {"form": form}
    if request.GET and form.is_valid():
        level = LEVELS[form.level()]
        programmes, resources = _matches(level.key, form.cleaned_data["metastases"] == "yes")
        finder = reverse("resources:programmes")
        context.update(
            level=level,
            programmes=programmes,
            resources=resources,
            finder_url=f"{finder}?{level.finder_query}" if level.finder_query else finder,
            sheet_url=f"{reverse('resources:support-sheet')}?{_answers_query(form)}",
        )
    return render(request, "resources/programmes/support.html", context, status=status)


@require_safe
def support_sheet(request: HttpRequest) -> HttpResponse:
    """The one-page "questions for my care team", to print."""
    form = SupportForm(request.GET or None)
    level = LEVELS[form.level()] if form.is_valid() else None
    context = {
        "level": level,
        "has_metastases": level is not None and form.cleaned_data["metastases"] == "yes",
        "back_url": f"{reverse('resources:support')}?{_answers_query(form)}" if level else "",
    }
    return render(request, "resources/programmes/support_sheet.html", context)
