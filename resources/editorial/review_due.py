"""Which resources need a clinical reviewer's attention: the one place that says so.

The admin index lists, the changelist's "review" filter and `manage.py review_due` all read
these definitions, so "overdue" means the same thing on every screen and in every e-mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from ..models import BoneSafety, Status

# "Due soon" looks this far ahead unless told otherwise (the index and the command's default).
DUE_SOON_DAYS = 30

WAITING = "waiting"
OVERDUE = "overdue"
DUE_SOON = "due-soon"
NEVER = "never"
CHANGED = "changed"


def _still_in_use() -> Q:
    # An archived resource is off the site for good: nobody needs to re-review it.
    return ~Q(status=Status.ARCHIVED)


def condition(key: str, today: date | None = None, days: int = DUE_SOON_DAYS) -> Q:
    """The filter for one review list; `today` defaults to the local date."""
    today = today or timezone.localdate()
    if key == WAITING:
        return Q(status=Status.IN_REVIEW)
    if key == OVERDUE:
        return Q(next_review_due__lt=today) & _still_in_use()
    if key == DUE_SOON:
        return Q(next_review_due__gte=today, next_review_due__lte=today + timedelta(days=days)) & (
            _still_in_use()
        )
    if key == NEVER:
        # Starter content with a proposed rating counts as not reviewed: no clinician saw it.
        return (
            Q(reviewed_on__isnull=True)
            | Q(rating_is_provisional=True)
            | Q(bone_metastasis_safety=BoneSafety.NOT_REVIEWED)
        ) & _still_in_use()
    if key == CHANGED:
        # Still public, with a recorded change (title, summary…) no reviewer confirmed yet
        # (resources/editorial/workflow.py EDIT_RULES).
        return Q(status=Status.PUBLISHED, changed_since_review__isnull=False)
    raise KeyError(key)


@dataclass(frozen=True)
class ReviewList:
    key: str
    label: Promise
    # How the list is sorted: the most urgent first.
    ordering: tuple[str, ...]


REVIEW_LISTS: dict[str, ReviewList] = {
    WAITING: ReviewList(WAITING, _("Waiting for review"), ("updated_at", "pk")),
    OVERDUE: ReviewList(OVERDUE, _("Review overdue"), ("next_review_due", "title", "pk")),
    # Written out, not interpolated: the label must stay lazy (translated per request).
    DUE_SOON: ReviewList(
        DUE_SOON, _("Due in the next 30 days"), ("next_review_due", "title", "pk")
    ),
    NEVER: ReviewList(NEVER, _("Not clinically reviewed"), ("title", "pk")),
    CHANGED: ReviewList(
        CHANGED, _("Changed since review"), ("changed_since_review", "title", "pk")
    ),
}

# The lists on the admin index; "not clinically reviewed" is a changelist filter only.
INDEX_LISTS = (WAITING, CHANGED, OVERDUE, DUE_SOON)
