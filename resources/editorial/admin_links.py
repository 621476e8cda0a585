"""What editors see of the link checker in the admin: a column, a filter and the checks.

This module only reads LinkCheck rows; it never imports resources.editorial.linkcheck, so no web
request can start a check (they are made by ``manage.py check_links`` from cron).
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ..models import LinkCheck, Resource


def _worst_check() -> QuerySet[LinkCheck]:
    """The check of a resource's address or transcript address that is in the worst state."""
    return LinkCheck.objects.filter(
        Q(url=OuterRef("url")) | Q(url=OuterRef("transcript_url"))
    ).order_by("-is_broken", "-consecutive_failures", "url")


def with_link_status(queryset: QuerySet[Resource]) -> QuerySet[Resource]:
    """Annotate each resource with its worst link check, in the changelist's own query.

    ``link_failures`` is NULL when none of its addresses has been checked yet.
    """
    worst = _worst_check()
    return queryset.annotate(
        link_failures=Subquery(worst.values("consecutive_failures")[:1]),
        link_broken=Subquery(worst.values("is_broken")[:1]),
        link_error=Subquery(worst.values("error")[:1]),
    )


def _has_link() -> Q:
    return ~Q(url="") | ~Q(transcript_url="")


class LinkStatusFilter(admin.SimpleListFilter):
    title = _("link status")
    parameter_name = "link"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [
            ("broken", _("Broken")),
            ("failing", _("Failing (one run)")),
            ("ok", _("OK")),
            ("unchecked", _("Not checked yet")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Resource]) -> QuerySet[Resource]:
        # Needs with_link_status(); LinkStatusAdminMixin.get_queryset adds it.
        match self.value():
            case "broken":
                return queryset.filter(link_broken=True)
            case "failing":
                return queryset.filter(link_broken=False, link_failures__gte=1)
            case "ok":
                return queryset.filter(link_failures=0)
            case "unchecked":
                return queryset.filter(_has_link(), link_failures__isnull=True)
        return queryset


class LinkStatusAdminMixin:
    """For ResourceAdmin: the "Link" column and the annotation that feeds it and the filter."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Resource]:
        return with_link_status(super().get_queryset(request))  # type: ignore[misc]

    @admin.display(description=_("link"), ordering="link_failures")
    def link_status(self, obj: Resource) -> str:
        if not (obj.url or obj.transcript_url):
            return self.get_empty_value_display()  # type: ignore[attr-defined]
        return link_status_text(
            failures=getattr(obj, "link_failures", None),
            broken=bool(getattr(obj, "link_broken", False)),
            error=getattr(obj, "link_error", "") or "",
        )


def link_status_text(*, failures: int | None, broken: bool, error: str) -> str:
    """The link state in words (never colour alone): OK, failing, BROKEN, with the problem."""
    if failures is None:
        return str(_("not checked yet"))
    if broken:
        return str(_("BROKEN: %(problem)s")) % {"problem": error}
    if failures:
        runs = ngettext("failing (%(count)d run)", "failing (%(count)d runs)", failures) % {
            "count": failures
        }
        return f"{runs}: {error}"
    return str(_("OK"))


@admin.register(LinkCheck)
class LinkCheckAdmin(admin.ModelAdmin):
    """The link checker's records, read-only: they are written by ``check_links`` alone."""

    list_display = [
        "url",
        "state",
        "status_code",
        "error",
        "elapsed_ms",
        "checked_at",
        "broken_since",
    ]
    list_filter = ["is_broken", "checked_at"]
    search_fields = ["url", "final_url", "error"]

    @admin.display(description=_("state"), ordering="consecutive_failures")
    def state(self, obj: LinkCheck) -> str:
        return link_status_text(
            failures=obj.consecutive_failures if obj.checked_at else None,
            broken=obj.is_broken,
            error=obj.error,
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: LinkCheck | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: LinkCheck | None = None) -> bool:
        return False
