"""The admin index's programme lists: listings not checked for 12 months, open problem reports."""

from __future__ import annotations

from dataclasses import dataclass

from django import template
from django.urls import reverse

from resources.models import ProblemReport, Programme

register = template.Library()

ROWS_PER_LIST = 10


@dataclass
class ProgrammeLists:
    stale: list[Programme]
    stale_count: int
    stale_url: str
    reports: list[ProblemReport]
    reports_count: int
    reports_url: str


@register.simple_tag(takes_context=True)
def programme_lists(context: template.Context) -> ProgrammeLists | None:
    """For users who may view resources (the listings follow the same roles); four queries."""
    request = context.get("request")
    if request is None or not request.user.has_perm("resources.view_resource"):
        return None
    stale = Programme.objects.not_checked_since().order_by("assured_date", "name", "pk")
    reports = ProblemReport.objects.filter(state=ProblemReport.State.OPEN).select_related(
        "programme", "resource"
    )
    return ProgrammeLists(
        stale=list(stale.only("pk", "name", "assured_date")[:ROWS_PER_LIST]),
        stale_count=stale.count(),
        stale_url=reverse("admin:resources_programme_changelist") + "?checked=stale",
        reports=list(reports[:ROWS_PER_LIST]),
        reports_count=reports.count(),
        reports_url=reverse("admin:resources_problemreport_changelist") + "?state__exact=open",
    )
