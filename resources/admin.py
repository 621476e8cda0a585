"""The editors' admin: curate resources, never publish an unreviewed one by mistake."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminFileWidget
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from import_export.admin import ImportExportMixin
from modeltranslation.admin import TranslationAdmin
from modeltranslation.utils import get_translation_fields
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    BoneSafety,
    Organisation,
    Partner,
    ReferralCount,
    Resource,
    Status,
    Tag,
    Vocabulary,
)

admin.site.site_header = _("Physical Activity Resource Hub: editors")
admin.site.site_title = _("Resource Hub admin")
admin.site.index_title = _("Curate resources")


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "country", "website"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Tag)
class TagAdmin(TranslationAdmin):
    """One name and description field per language (django-modeltranslation); English is
    required and shown wherever a translation is empty. The plain admin, not the tabbed one:
    that loads jQuery UI from a CDN, which the CSP refuses."""

    list_display = ["name", "vocabulary", "slug", "position"]
    list_filter = ["vocabulary"]
    list_editable = ["position"]
    # Every language's name, not only the editor's.
    search_fields = [*get_translation_fields("name"), "slug"]
    prepopulated_fields = {"slug": ["name"]}  # from the English name (settings)


def _vocabulary_field(vocabulary: Vocabulary) -> str:
    return f"tags_{vocabulary.value}"


def _tag_choice_field(vocabulary: Vocabulary) -> forms.ModelMultipleChoiceField:
    return forms.ModelMultipleChoiceField(
        queryset=Tag.objects.filter(vocabulary=vocabulary),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=vocabulary.label,
    )


class ResourceAdminForm(forms.ModelForm):
    """One group of checkboxes per vocabulary, all stored in `Resource.tags`."""

    # Declared on the class (not added in __init__) so ModelAdmin's fieldsets accept them.
    tags_level = _tag_choice_field(Vocabulary.FITNESS_LEVEL)
    tags_stage = _tag_choice_field(Vocabulary.CANCER_STAGE)
    tags_type = _tag_choice_field(Vocabulary.EXERCISE_TYPE)
    tags_flag = _tag_choice_field(Vocabulary.MOVEMENT_FLAG)

    class Meta:
        model = Resource
        # Tags are edited through the checkbox groups above.
        fields = [
            "kind", "title", "slug", "summary", "organisation", "language", "url", "body",
            "duration_minutes", "image", "image_alt", "bone_metastasis_safety",
            "rating_is_provisional", "reviewed_by", "reviewed_on", "next_review_due",
            "review_notes", "status", "published_at",
            "has_captions", "transcript", "transcript_url", "translations",
        ]  # fmt: skip
        # Django's file widget sits in a fieldset whose legend does not label the input.
        widgets = {"image": AdminFileWidget(attrs={"aria-label": _("Image")})}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            current = list(self.instance.tags.all())
            for vocabulary in Vocabulary:
                self.initial[_vocabulary_field(vocabulary)] = [
                    tag.pk for tag in current if tag.vocabulary == vocabulary
                ]

    def clean(self) -> dict:
        cleaned = super().clean()
        linked = list(cleaned.get("translations") or [])
        language = cleaned.get("language")
        if self.instance.pk and any(other.pk == self.instance.pk for other in linked):
            self.add_error(
                "translations", _("A resource cannot be a translation of itself. Remove it.")
            )
        else:
            languages = [other.language for other in linked]
            clashes = sorted(
                {other.title for other in linked if other.language == language}
                | {other.title for other in linked if languages.count(other.language) > 1}
            )
            if clashes:
                self.add_error(
                    "translations",
                    _(
                        "Each linked translation must be in a different language, and not in "
                        "this resource's language. Check: %(titles)s."
                    )
                    % {"titles": ", ".join(clashes)},
                )
        return cleaned

    def _save_m2m(self) -> None:
        super()._save_m2m()
        self.instance.tags.set(
            [
                tag
                for vocabulary in Vocabulary
                for tag in self.cleaned_data[_vocabulary_field(vocabulary)]
            ]
        )


def _tag_filter(vocabulary: Vocabulary) -> type[admin.SimpleListFilter]:
    """A changelist filter for one vocabulary of the shared tag table."""

    class VocabularyFilter(admin.SimpleListFilter):
        title = vocabulary.label
        parameter_name = vocabulary.value

        def lookups(self, request, model_admin):
            return Tag.objects.filter(vocabulary=vocabulary).values_list("slug", "name")

        def queryset(self, request, queryset):
            if self.value():
                return queryset.filter(tags__vocabulary=vocabulary, tags__slug=self.value())
            return queryset

    VocabularyFilter.__name__ = f"{vocabulary.name.title().replace('_', '')}Filter"
    return VocabularyFilter


class ReviewDueFilter(admin.SimpleListFilter):
    title = _("review")
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [
            ("overdue", _("Review overdue")),
            ("never", _("Not clinically reviewed")),
        ]

    def queryset(self, request, queryset):
        from django.utils import timezone

        if self.value() == "overdue":
            return queryset.filter(next_review_due__lt=timezone.localdate())
        if self.value() == "never":
            return queryset.filter(Q(reviewed_on__isnull=True) | Q(rating_is_provisional=True))
        return queryset


@admin.register(Resource)
class ResourceAdmin(ImportExportMixin, SimpleHistoryAdmin):
    form = ResourceAdminForm
    list_display = [
        "title",
        "status_label",
        "safety_label",
        "kind",
        "language",
        "organisation",
        "next_review_due",
    ]
    list_display_links = ["title"]
    list_filter = [
        "status",
        "bone_metastasis_safety",
        "kind",
        "language",
        *(_tag_filter(v) for v in Vocabulary),
        "rating_is_provisional",
        ReviewDueFilter,
        ("organisation", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["organisation"]
    search_fields = ["title", "slug", "summary", "organisation__name"]
    prepopulated_fields = {"slug": ["title"]}
    # Not "translations": select2's multi-select search box has no label (axe: critical),
    # so that field keeps Django's plain, labelled multiple select.
    autocomplete_fields = ["organisation"]
    date_hierarchy = "published_at"
    readonly_fields = ["video_provider", "video_id", "created_at", "updated_at"]
    actions = ["publish_selected", "unpublish_selected"]
    fieldsets = [
        (None, {"fields": ["kind", "title", "slug", "summary", "organisation", "language"]}),
        (
            _("Content"),
            {
                "fields": [
                    "url",
                    "video_provider",
                    "video_id",
                    "body",
                    "duration_minutes",
                    "image",
                    "image_alt",
                    "has_captions",
                    "transcript",
                    "transcript_url",
                ]
            },
        ),
        (_("Languages"), {"fields": ["translations"]}),
        (
            _("Tags"),
            {"fields": [_vocabulary_field(v) for v in Vocabulary]},
        ),
        (
            _("Clinical review"),
            {
                "fields": [
                    "bone_metastasis_safety",
                    "rating_is_provisional",
                    "reviewed_by",
                    "reviewed_on",
                    "next_review_due",
                    "review_notes",
                ],
                "description": _(
                    "A resource can only be published once a clinical reviewer has rated its "
                    "safety for people with bone metastases and the review date is filled in."
                ),
            },
        ),
        (_("Publication"), {"fields": ["status", "published_at", "created_at", "updated_at"]}),
    ]

    @admin.display(description=_("status"), ordering="status")
    def status_label(self, obj: Resource) -> str:
        return obj.get_status_display()

    @admin.display(description=_("bone-metastasis safety"), ordering="bone_metastasis_safety")
    def safety_label(self, obj: Resource) -> str:
        label = obj.get_bone_metastasis_safety_display()
        if obj.bone_metastasis_safety == BoneSafety.NOT_REVIEWED:
            return format_html("<strong>{}</strong>", label)
        if obj.rating_is_provisional:
            return format_lazy("{} ({})", label, _("proposed, not clinically reviewed"))
        return label

    @admin.action(description=_("Publish selected resources"), permissions=["change"])
    def publish_selected(self, request: HttpRequest, queryset: QuerySet[Resource]) -> None:
        published, refused = [], []
        for resource in queryset:
            if resource.status == Status.PUBLISHED:
                continue
            try:
                resource.publish()
            except ValidationError as error:
                reasons = " ".join(
                    message for messages_ in error.message_dict.values() for message in messages_
                )
                refused.append(f"“{resource.title}”: {reasons}")
            else:
                published.append(resource)
        if published:
            self.message_user(
                request,
                ngettext(
                    "Published %(count)d resource.",
                    "Published %(count)d resources.",
                    len(published),
                )
                % {"count": len(published)},
                messages.SUCCESS,
            )
        for reason in refused:
            self.message_user(request, format_lazy(_("Not published: {}"), reason), messages.ERROR)

    @admin.action(description=_("Unpublish selected resources"), permissions=["change"])
    def unpublish_selected(self, request: HttpRequest, queryset: QuerySet[Resource]) -> None:
        count = 0
        for resource in queryset.filter(status=Status.PUBLISHED):
            resource.status = Status.DRAFT
            resource.published_at = None
            resource.save(update_fields=["status", "published_at", "updated_at"])
            count += 1
        self.message_user(
            request,
            ngettext(
                "Unpublished %(count)d resource: it is no longer on the public site.",
                "Unpublished %(count)d resources: they are no longer on the public site.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["name", "slug", "origins"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(ReferralCount)
class ReferralCountAdmin(admin.ModelAdmin):
    """Aggregate visit counts per partner and day: read-only, for site admins only."""

    list_display = ["day", "partner", "visits"]
    list_filter = [("partner", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["partner"]
    date_hierarchy = "day"

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
