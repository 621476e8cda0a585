"""Personal bone-metastasis warnings (docs/domain.md, "Movement flags").

A visitor may say where the cancer is in their bones (`?site=spine&site=ribs`). Each lesion
site conflicts with some movement flags, after the trial protocol's adaptation table (Galvão et
al. 2011); some flags conflict with any site. Nothing is stored: the sites live in the URL.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import models
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _


class Site(models.TextChoices):
    SPINE = "spine", _("Spine")
    PELVIS_HIP = "pelvis-hip", _("Pelvis or hip")
    RIBS = "ribs", _("Ribs")
    UPPER_ARM = "upper-arm", _("Upper arm")
    THIGH = "thigh", _("Thigh")


# Flags that conflict with cancer in ANY bone.
ANY_SITE = ("impact", "heavy-load", "fall-risk", "end-range-stretch")

CONFLICTS: dict[str, tuple[str, ...]] = {
    Site.SPINE: ("loaded-spine", *ANY_SITE),
    Site.RIBS: ("loaded-spine", "loaded-shoulder", *ANY_SITE),
    Site.PELVIS_HIP: ("loaded-hip", *ANY_SITE),
    Site.THIGH: ("loaded-hip", *ANY_SITE),  # the upper thigh bone
    Site.UPPER_ARM: ("loaded-shoulder", *ANY_SITE),
}

# One plain sentence per flag, in the order they are shown.
WARNINGS = {
    "loaded-spine": _(
        "This resource includes loaded twisting or bending of the spine. "
        "Skip that part or ask your team first."
    ),
    "loaded-hip": _(
        "This resource includes loaded hip movements. Skip that part or ask your team first."
    ),
    "loaded-shoulder": _(
        "This resource includes loaded shoulder movements. Skip that part or ask your team first."
    ),
    "impact": _(
        "This resource includes impact, jumping or running. Skip that part or ask your team first."
    ),
    "heavy-load": _("This resource includes heavy weights. Skip that part or ask your team first."),
    "fall-risk": _(
        "This resource includes balance without support or getting down to the floor. "
        "Skip that part or ask your team first."
    ),
    "end-range-stretch": _(
        "This resource includes bouncing or deep stretching. Skip that part or ask your team first."
    ),
}


def conflicting_flags(sites: Iterable[str]) -> set[str]:
    """The flag slugs that need care for these lesion sites (unknown sites ignored)."""
    return {flag for site in sites for flag in CONFLICTS.get(site, ())}


@dataclass(frozen=True)
class Warning:
    flag: str
    text: str


def warnings_for(flags: Iterable[str], sites: Iterable[str]) -> list[Warning]:
    """The warnings for a resource with these flag slugs, for a visitor with these sites."""
    conflicts = conflicting_flags(sites)
    present = set(flags) & conflicts
    return [Warning(flag, str(text)) for flag, text in WARNINGS.items() if flag in present]


def chosen_sites(query: QueryDict) -> list[str]:
    """The valid lesion sites in a query, sorted and de-duplicated (canonical order)."""
    return sorted(set(query.getlist("site")) & set(Site.values))


def site_query(sites: Iterable[str]) -> str:
    """`site=…&site=…`, for links that carry the visitor's sites to a detail page."""
    query = QueryDict(mutable=True)
    query.setlist("site", sorted(sites))
    return query.urlencode()


def attach_warnings(resources: Iterable, sites: Sequence[str]) -> list:
    """The resources as a list, each with `personal_warnings` for these sites.

    Reads the prefetched tags (`Resource.flags`), so it adds no query.
    """
    listed = list(resources)
    for resource in listed:
        resource.personal_warnings = (
            warnings_for([tag.slug for tag in resource.flags], sites) if sites else []
        )
    return listed
