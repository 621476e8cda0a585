"""The review lists on the admin index: what waits for a reviewer, what is overdue or due soon."""

from __future__ import annotations

from dataclasses import dataclass

from django import template
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise

from resources.editorial.review_due import INDEX_LISTS, REVIEW_LISTS, condition
from resources.models import Resource

register = template.Library()

# Enough to act on from the index; "see all" opens the filtered changelist for the rest.
ROWS_PER_LIST = 10


@dataclass
class IndexList:
    key: str
    label: Promise
    count: int
    rows: list[Resource]
    see_all_url: str


@register.simple_tag(takes_context=True)
def review_lists(context: template.Context) -> list[IndexList]:
    """The index lists for a user who may view resources; nothing for anyone else.

    One query counts all the lists, then one per list fetches its first rows: the index costs
    the same however many resources are waiting.
    """
    request = context.get("request")
    if request is None or not request.user.has_perm("resources.view_resource"):
        return []
    today = timezone.localdate()
    conditions = {key: condition(key, today) for key in INDEX_LISTS}
    counts = Resource.objects.aggregate(
        **{key.replace("-", "_"): Count("pk", filter=q) for key, q in conditions.items()}
    )
    changelist = reverse("admin:resources_resource_changelist")
    lists = []
    for key, q in conditions.items():
        count = counts[key.replace("-", "_")]
        rows = (
            list(
                Resource.objects.filter(q)
                .order_by(*REVIEW_LISTS[key].ordering)
                .only("pk", "title", "status", "next_review_due")[:ROWS_PER_LIST]
            )
            if count
            else []
        )
        lists.append(
            IndexList(key, REVIEW_LISTS[key].label, count, rows, f"{changelist}?review={key}")
        )
    return lists
