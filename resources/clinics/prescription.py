"""The exercise prescription a clinician adds to a printed handout (README "Prescription").

FITT (frequency, intensity, time, type), the movements and bone sites to keep load away from,
what the person is cleared for, and a short note. It lives only in the handout's address: the
hub stores nothing, logs no form, and the QR code on the paper opens the filters without it.
Every value is optional and checked (ranges, lengths, no control characters), so a printed
prescription never says something the clinician did not choose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from ..catalogue.personal import Site

MAX_NOTE = 300
# A note is one line; control characters (line breaks included) never print as anything.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class Intensity(models.TextChoices):
    """How hard, in words and as the talk test (a person needs no device to use it)."""

    LIGHT = "light", _("Light: you can talk and sing")
    MODERATE = "moderate", _("Moderate: you can talk, but not sing")
    VIGOROUS = "vigorous", _("Hard: you can say only a few words at a time")


class ExerciseKind(models.TextChoices):
    AEROBIC = "aerobic", _("Aerobic: walking, cycling, swimming")
    STRENGTH = "strength", _("Strength: bands, light weights, body weight")
    BALANCE = "balance", _("Balance, with support")
    FLEXIBILITY = "flexibility", _("Gentle stretching")
    BREATHING = "breathing", _("Breathing and relaxation")


class Avoid(models.TextChoices):
    """Movements to keep load away from (the trial protocol's adaptations, DOMAIN vocabulary)."""

    SPINAL_FLEXION = "spinal-flexion", _("Loaded spinal flexion (bending forward with weight)")
    SPINAL_TWIST = "spinal-twist", _("Loaded twisting or bending backward of the spine")
    LOADED_HIP = "loaded-hip", _("Loaded hip movements")
    LOADED_SHOULDER = "loaded-shoulder", _("Loaded shoulder movements")
    IMPACT = "impact", _("Impact, jumping or running")
    HEAVY_LOAD = "heavy-load", _("Heavy weights")
    FALL_RISK = "fall-risk", _("Balance without support, getting down to the floor")
    END_RANGE = "end-range-stretch", _("Bouncing or deep stretching")


class Cleared(models.TextChoices):
    WALKING = "walking", _("Walking")
    HOME = "home", _("Exercise at home with resources from the hub")
    CLASS = "class", _("A community exercise class")
    SUPERVISED = "supervised", _("A supervised exercise programme")
    STRENGTH = "strength", _("Strength training with supervision")


def _no_control_characters(value: str) -> None:
    if _CONTROL.search(value):
        raise ValidationError(
            _("Remove the invisible control characters from this text."), code="control"
        )


class PrescriptionForm(forms.Form):
    """Optional FITT fields; the names start with rx_ so they never clash with a filter."""

    rx_days = forms.IntegerField(
        label=_("How often: days a week"),
        min_value=1,
        max_value=7,
        required=False,
        error_messages={
            "min_value": _("Give between 1 and 7 days a week."),
            "max_value": _("Give between 1 and 7 days a week."),
            "invalid": _("Give the number of days a week as a whole number, 1 to 7."),
        },
    )
    rx_intensity = forms.ChoiceField(
        label=_("How hard (talk test)"),
        choices=[("", "—"), *Intensity.choices],
        required=False,
    )
    rx_borg = forms.IntegerField(
        label=_("How hard on the scale from 0 to 10 (Borg CR10)"),
        min_value=0,
        max_value=10,
        required=False,
        help_text=_("0 is rest, 10 the hardest effort the person can imagine."),
        error_messages={
            "min_value": _("Give a number from 0 to 10."),
            "max_value": _("Give a number from 0 to 10."),
            "invalid": _("Give a number from 0 to 10."),
        },
    )
    rx_minutes = forms.IntegerField(
        label=_("How long: minutes each time"),
        min_value=5,
        max_value=180,
        required=False,
        error_messages={
            "min_value": _("Give between 5 and 180 minutes."),
            "max_value": _("Give between 5 and 180 minutes."),
            "invalid": _("Give the minutes as a whole number, 5 to 180."),
        },
    )
    rx_type = forms.MultipleChoiceField(
        label=_("What type"),
        choices=ExerciseKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    rx_avoid = forms.MultipleChoiceField(
        label=_("Movements to avoid"),
        choices=Avoid.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    rx_site = forms.MultipleChoiceField(
        label=_("Keep load away from these bones"),
        choices=Site.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    rx_cleared = forms.MultipleChoiceField(
        label=_("Cleared for"),
        choices=Cleared.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    rx_note = forms.CharField(
        label=_("Note for the person"),
        max_length=MAX_NOTE,
        required=False,
        strip=True,
        validators=[_no_control_characters],
        help_text=_(
            "Optional, up to 300 characters. Never the person's name or anything that "
            "identifies them: the note is part of the handout's web address."
        ),
    )

    # The order the fields are printed and carried in the address.
    NAMES = (
        "rx_days",
        "rx_intensity",
        "rx_borg",
        "rx_minutes",
        "rx_type",
        "rx_avoid",
        "rx_site",
        "rx_cleared",
        "rx_note",
    )


@dataclass(frozen=True)
class Prescription:
    """A checked prescription, with its labels in the current language."""

    days: int | None
    intensity: str
    borg: int | None
    minutes: int | None
    types: list[str]
    avoid: list[str]
    sites: list[str]
    cleared: list[str]
    note: str
    query: str  # the rx_ parameters, canonical, for the handout and the builder

    def __bool__(self) -> bool:
        return bool(self.query)


def _labels(choices: type[models.TextChoices], values: list[str]) -> list[str]:
    """In the vocabulary's order, whatever order the address gave."""
    return [str(label) for value, label in choices.choices if value in values]


def read_prescription(form: PrescriptionForm) -> Prescription:
    """The prescription of a valid form; an empty one when nothing was given."""
    data = form.cleaned_data
    query = QueryDict(mutable=True)
    for name in PrescriptionForm.NAMES:
        value = data.get(name)
        if isinstance(value, list):
            query.setlist(name, [v for v, _label in form.fields[name].choices if v in value])
        elif value not in (None, ""):
            query[name] = str(value)
    return Prescription(
        days=data.get("rx_days"),
        intensity=str(dict(Intensity.choices).get(data.get("rx_intensity") or "", "")),
        borg=data.get("rx_borg"),
        minutes=data.get("rx_minutes"),
        types=_labels(ExerciseKind, data.get("rx_type") or []),
        avoid=_labels(Avoid, data.get("rx_avoid") or []),
        sites=_labels(Site, data.get("rx_site") or []),
        cleared=_labels(Cleared, data.get("rx_cleared") or []),
        note=data.get("rx_note") or "",
        query=query.urlencode(),
    )
