"""The editors' admin for programme listings and problem reports.

Same roles as resources, without new permissions: whoever may view, change or publish
resources may do the same with listings (resources/roles.py), and the steps go through
resources/programmes/workflow.py like the resource buttons go through resources/workflow.py.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from resources.editorial.roles import can_edit, can_publish, is_site_admin
from resources.editorial.workflow import WorkflowError
from resources.models import (
    ProblemReport,
    Programme,
    ProgrammeLocation,
    Status,
)

from . import workflow


def _may_view(request: HttpRequest) -> bool:
    return request.user.has_perm("resources.view_resource")


class _ResourceRolesMixin:
    """Listings follow the resource roles: no separate permissions to keep in step."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _may_view(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return _may_view(request)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm("resources.add_resource")

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return can_edit(request.user)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return is_site_admin(request.user)


class NotCheckedFilter(admin.SimpleListFilter):
    title = _("details checked")
    parameter_name = "checked"

    def lookups(self, request, model_admin):
        return [("stale", _("Not checked for 12 months"))]

    def queryset(self, request, queryset):
        if self.value() == "stale":
            return queryset.not_checked_since()
        return queryset


class ProgrammeLocationInline(_ResourceRolesMixin, admin.TabularInline):
    model = ProgrammeLocation
    extra = 0
    fields = ["name", "address", "city", "postal_code", "country", "latitude", "longitude"]


@admin.register(Programme)
class ProgrammeAdmin(_ResourceRolesMixin, SimpleHistoryAdmin):
    list_display = [
        "name",
        "status",
        "delivery",
        "bone_metastases",
        "organisation",
        "assured_date",
        "checked_label",
    ]
    list_filter = ["status", "delivery", "bone_metastases", "cost", "is_demo", NotCheckedFilter]
    list_select_related = ["organisation"]
    search_fields = ["name", "slug", "organisation__name", "locations__city"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["organisation"]
    filter_horizontal: list[str] = []
    inlines = [ProgrammeLocationInline]
    actions = [
        "submit_selected",
        "approve_selected",
        "unpublish_selected",
        "archive_selected",
        "mark_checked_selected",
    ]
    fieldsets = [
        (None, {"fields": ["name", "slug", "organisation", "description"]}),
        (
            _("How to take part"),
            {"fields": ["referral", "application_process", "url", "email", "phone"]},
        ),
        (
            _("Who can take part"),
            {"fields": ["eligibility_description", "bone_metastases", "stages"]},
        ),
        (
            _("Practical details"),
            {
                "fields": [
                    "delivery",
                    "service_area",
                    "schedule",
                    "languages",
                    "cost",
                    "fees_description",
                    "accessibility",
                ]
            },
        ),
        (
            _("Checking"),
            {"fields": ["assured_date", "assurer", "source_url", "is_demo", "review_notes"]},
        ),
        (_("Publication"), {"fields": ["status", "published_at"]}),
    ]

    @admin.display(description=_("checked recently"), boolean=True)
    def checked_label(self, obj: Programme) -> bool:
        return not obj.not_checked_recently

    def get_readonly_fields(self, request: HttpRequest, obj: Programme | None = None):
        # Status changes go through the steps (actions), except for site admins.
        if is_site_admin(request.user):
            return []
        return ["status", "published_at"]

    def save_model(self, request, obj, form, change) -> None:
        # An edit of a published listing's eligibility is safety-relevant: back to review.
        safety = {"bone_metastases", "eligibility_description", "delivery"}
        # A reviewer's own edit stays published: they may approve it.
        if (
            change
            and obj.status == Status.PUBLISHED
            and safety & set(form.changed_data)
            and not can_publish(request.user)
        ):
            obj.status = Status.IN_REVIEW
            obj.published_at = None
            obj._change_reason = "Back to review: eligibility changed"
            messages.warning(
                request,
                _(
                    "The eligibility changed, so the listing is back in review until a "
                    "clinical reviewer approves it."
                ),
            )
        super().save_model(request, obj, form, change)

    def _bulk(
        self,
        request: HttpRequest,
        queryset: QuerySet[Programme],
        run: Callable[[Programme, object], None],
    ) -> None:
        done, refused = 0, []
        for programme in queryset:
            try:
                run(programme, request.user)
            except WorkflowError as error:
                refused.append(f"{programme.name}: {error.message}")
            else:
                done += 1
        if done:
            self.message_user(
                request,
                ngettext("%(count)d listing changed.", "%(count)d listings changed.", done)
                % {"count": done},
                messages.SUCCESS,
            )
        for line in refused:
            self.message_user(request, line, messages.ERROR)

    @admin.action(description=_("Submit selected listings for review"))
    def submit_selected(self, request, queryset) -> None:
        self._bulk(request, queryset, workflow.submit)

    @admin.action(description=_("Approve and publish selected listings"))
    def approve_selected(self, request, queryset) -> None:
        self._bulk(request, queryset, workflow.approve)

    @admin.action(description=_("Unpublish selected listings"))
    def unpublish_selected(self, request, queryset) -> None:
        self._bulk(request, queryset, workflow.unpublish)

    @admin.action(description=_("Archive selected listings"))
    def archive_selected(self, request, queryset) -> None:
        self._bulk(request, queryset, workflow.archive)

    @admin.action(description=_("Mark selected listings as checked today"))
    def mark_checked_selected(self, request, queryset) -> None:
        self._bulk(request, queryset, workflow.mark_checked)


@admin.register(ProblemReport)
class ProblemReportAdmin(_ResourceRolesMixin, admin.ModelAdmin):
    list_display = ["created_at", "subject_link", "state", "short_message"]
    list_filter = ["state"]
    list_select_related = ["programme", "resource"]
    readonly_fields = ["created_at", "programme", "resource", "message", "contact"]
    fields = ["created_at", "programme", "resource", "message", "contact", "state", "editor_notes"]

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # reports come from the public form only

    @admin.display(description=_("about"))
    def subject_link(self, obj: ProblemReport) -> str:
        if obj.programme_id:
            url = reverse("admin:resources_programme_change", args=[obj.programme_id])
        else:
            url = reverse("admin:resources_resource_change", args=[obj.resource_id])
        return format_html('<a href="{}">{}</a>', url, obj.subject)

    @admin.display(description=_("what is wrong"))
    def short_message(self, obj: ProblemReport) -> str:
        return obj.message[:120]
