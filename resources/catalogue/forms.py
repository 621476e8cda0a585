"""The "Find exercises for me" self-check: one short GET form; the answers live only in the URL."""

from __future__ import annotations

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from ..models import BoneSafety
from .personal import Site

UNSURE = "unsure"


class SelfCheckForm(forms.Form):
    stand = forms.ChoiceField(
        label=_("Can you stand up from a chair without using your arms?"),
        choices=[("yes", _("Yes")), ("difficult", _("Yes, but with difficulty")), ("no", _("No"))],
        widget=forms.RadioSelect,
    )
    walk = forms.ChoiceField(
        label=_("Can you walk for 10 minutes without stopping?"),
        choices=[("yes", _("Yes")), ("no", _("No"))],
        widget=forms.RadioSelect,
    )
    bones = forms.ChoiceField(
        label=_("Has your team told you that the cancer has spread to your bones?"),
        choices=[("yes", _("Yes")), ("no", _("No")), (UNSURE, _("I am not sure"))],
        widget=forms.RadioSelect,
    )
    site = forms.MultipleChoiceField(
        label=_("If yes: where? Tick all that apply."),
        choices=[*Site.choices, (UNSURE, _("I am not sure"))],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    supervised = forms.ChoiceField(
        label=_("Would you like to exercise with an expert (supervised)?"),
        choices=[("yes", _("Yes")), ("no", _("No"))],
        widget=forms.RadioSelect,
        required=False,
    )

    def browse_query(self) -> QueryDict:
        """The browse filters these answers suggest (a starting point, not an assessment)."""
        data = self.cleaned_data
        query = QueryDict(mutable=True)
        if data["stand"] == "no":
            levels = ["bed-or-chair"]
        elif data["stand"] == "difficult" or data["walk"] == "no":
            levels = ["gentle"]
        else:
            levels = ["gentle", "moderate"]
        query.setlist("level", levels)
        query["stage"] = "metastatic"
        if data["bones"] in ("yes", UNSURE):
            query.setlist("bone", [BoneSafety.SUITABLE, BoneSafety.WITH_MODIFICATIONS])
        sites = [site for site in data["site"] if site in Site.values]
        if data["bones"] == "yes" and sites:
            query.setlist("site", sites)
            query["hide_conflicts"] = "1"
        if data.get("supervised") == "yes":
            query["kind"] = "programme"
        return query
