"""The editors' admin: curate resources, never publish an unreviewed one by mistake."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AdminFileWidget
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import capfirst, format_lazy
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin
from modeltranslation.utils import get_translation_fields
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import ModelChange
from simple_history.template_utils import HistoricalRecordContextHelper

from .editorial import workflow
from .editorial.admin_links import LinkStatusAdminMixin, LinkStatusFilter
from .editorial.images import ResourceImageField, clean_resource_image
from .editorial.preview import MarkdownPreviewTextarea
from .editorial.readability import for_editors as readability_for_editors
from .editorial.review_due import REVIEW_LISTS
from .editorial.review_due import condition as review_condition
from .editorial.roles import can_publish, can_review, is_site_admin
from .editorial.spreadsheets import ResourceImportExportMixin
from .editorial.workflow import WorkflowError
from .models import (
    BoneSafety,
    Organisation,
    Partner,
    ReferralCount,
    Resource,
    SlugRedirect,
    Status,
    Tag,
    Transition,
    Vocabulary,
)

admin.site.site_header = _("Physical Activity Resource Hub: editors")
admin.site.site_title = _("Resource Hub admin")
admin.site.index_title = _("Curate resources")


class OrganisationAdminForm(forms.ModelForm):
    """Name and website of an organisation with published resources appear on those pages:
    only a clinical reviewer may change them (workflow.ORGANISATION_RULES)."""

    # Set by OrganisationAdmin.get_form for the request's user.
    may_change_public_fields = True

    class Meta:
        model = Organisation
        fields = ["name", "slug", "website", "country"]

    def public_changes(self) -> list[str]:
        """The recorded (patient-visible) fields this save changes."""
        return [
            name
            for name, rule in workflow.ORGANISATION_RULES.items()
            if rule == workflow.Consequence.RECORD and name in self.changed_data
        ]

    def clean(self) -> dict:
        cleaned = super().clean()
        if (
            self.instance.pk
            and not self.may_change_public_fields
            and self.public_changes()
            and self.instance.resources.filter(status=Status.PUBLISHED).exists()
        ):
            raise forms.ValidationError(
                _(
                    "This organisation has published resources, whose pages show its name and "
                    "website. Ask a clinical reviewer to change them."
                )
            )
        return cleaned


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    form = OrganisationAdminForm
    list_display = ["name", "country", "website"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}

    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.may_change_public_fields = can_publish(request.user)
        return form

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        fields = [
            str(Organisation._meta.get_field(name).verbose_name) for name in form.public_changes()
        ]
        if change and fields:
            workflow.record_organisation_change(obj, request.user, fields)


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


# Only clinical reviewers may change these; editors see them read-only and a crafted POST
# cannot change them (ResourceAdmin.save_model puts the stored values back).
REVIEWER_MODEL_FIELDS = [
    "bone_metastasis_safety",
    "rating_is_provisional",
    "reviewed_by",
    "reviewed_on",
    "next_review_due",
]
REVIEWER_FIELDS = [*REVIEWER_MODEL_FIELDS, _vocabulary_field(Vocabulary.MOVEMENT_FLAG)]
# Changed only by the workflow steps (buttons and actions), except by site admins.
WORKFLOW_FIELDS = ["status", "published_at"]


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
            "duration_minutes", "image", "image_alt", "image_author", "image_licence",
            "image_source_url", "author", "licence", "licence_url", "source_url", "evidence",
            "bone_metastasis_safety",
            "rating_is_provisional", "reviewed_by", "reviewed_on", "next_review_due",
            "review_notes", "status", "published_at",
            "has_captions", "transcript", "transcript_url", "translations",
        ]  # fmt: skip
        # Size, format and pixel checks before Django's own Pillow check
        # (resources/editorial/images.py).
        field_classes = {"image": ResourceImageField}
        # Django's file widget sits in a fieldset whose legend does not label the input.
        widgets = {
            "image": AdminFileWidget(attrs={"aria-label": _("Image")}),
            # A live preview of the guide, through the same sanitiser as the public page.
            "body": MarkdownPreviewTextarea(),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # Restoring an old version (history view): that version's tags, else today's.
            restore = getattr(self.instance, "_restore_tag_ids", None)
            current = list(
                self.instance.tags.all() if restore is None else Tag.objects.filter(pk__in=restore)
            )
            for vocabulary in Vocabulary:
                self.initial[_vocabulary_field(vocabulary)] = [
                    tag.pk for tag in current if tag.vocabulary == vocabulary
                ]

    def clean_image(self) -> object:
        """A new upload is re-encoded under a generated name, with its renditions."""
        return clean_resource_image(self.instance, self.cleaned_data.get("image"))

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
        # A vocabulary left out of the form (movement flags, for editors) keeps its tags.
        kept = [
            tag
            for tag in self.instance.tags.all()
            if _vocabulary_field(Vocabulary(tag.vocabulary)) not in self.fields
        ]
        chosen = [
            tag
            for vocabulary in Vocabulary
            if _vocabulary_field(vocabulary) in self.fields
            for tag in self.cleaned_data[_vocabulary_field(vocabulary)]
        ]
        self.instance.tags.set(kept + chosen)

    def edit_changes(self, before: Resource) -> workflow.Changes:
        """What this save changes, by the one rule table (resources/workflow.py EDIT_RULES).

        A vocabulary or field left out of the form (read-only for this user) is unchanged."""
        tags = [
            tag
            for vocabulary in Vocabulary
            if _vocabulary_field(vocabulary) in self.fields
            for tag in self.cleaned_data[_vocabulary_field(vocabulary)]
        ]
        after = workflow.snapshot(
            self.instance,
            translations=self.cleaned_data.get("translations")
            if "translations" in self.fields
            else None,
        )
        after.update(
            {
                workflow.tag_key(vocabulary): frozenset(
                    tag.pk for tag in tags if tag.vocabulary == vocabulary
                )
                for vocabulary in Vocabulary
                if _vocabulary_field(vocabulary) in self.fields
            }
        )
        return workflow.changes_between(
            workflow.snapshot(
                before, tags=before.tags.all(), translations=before.translations.all()
            ),
            after,
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
    """The review lists of the admin index, as a filter (editorial/review_due.py)."""

    title = _("review")
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [(key, review_list.label) for key, review_list in REVIEW_LISTS.items()]

    def queryset(self, request, queryset):
        if self.value() in REVIEW_LISTS:
            return queryset.filter(review_condition(self.value()))
        return queryset


def bulk_action(slug: str, step: workflow.Step, bulk: workflow.Bulk) -> Callable[..., None]:
    """The admin action `<slug>_selected` for a workflow step: the same step, the same checks,
    each refusal named (see ResourceAdmin._bulk)."""

    def run(modeladmin: ResourceAdmin, request: HttpRequest, queryset: QuerySet[Resource]) -> None:
        modeladmin._bulk(request, queryset, step.run, bulk.done)

    run.__name__ = f"{slug.replace('-', '_')}_selected"
    return admin.action(description=bulk.description, permissions=[bulk.permission])(run)


@admin.register(Resource)
class ResourceAdmin(LinkStatusAdminMixin, ResourceImportExportMixin, SimpleHistoryAdmin):
    form = ResourceAdminForm
    list_display = [
        "title",
        "status_label",
        "safety_label",
        "kind",
        "language",
        "organisation",
        "next_review_due",
        "link_status",
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
        LinkStatusFilter,
        ("organisation", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["organisation"]
    search_fields = ["title", "slug", "summary", "organisation__name"]
    # Not a class attribute: the restore view (simple-history) reads that one directly, and
    # a fixed slug has no input to fill (get_prepopulated_fields).
    prepopulated_fields: dict[str, list[str]] = {}
    # Not "translations": select2's multi-select search box has no label (axe: critical),
    # so that field keeps Django's plain, labelled multiple select.
    autocomplete_fields = ["organisation"]
    date_hierarchy = "published_at"
    readonly_fields = ["video_provider", "video_id", "readability", "created_at", "updated_at"]
    # The workflow's steps that are offered in bulk, then the tag action.
    actions = [
        *(bulk_action(slug, step, step.bulk) for slug, step in workflow.STEPS.items() if step.bulk),
        "add_tags_selected",
    ]
    # The history list without inline styles (CSP), with the status and readable tag changes.
    object_history_list_template = "admin/resources/resource/object_history_list.html"
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
                    "readability",
                    "duration_minutes",
                    "image",
                    "image_alt",
                    "image_author",
                    "image_licence",
                    "image_source_url",
                    "has_captions",
                    "transcript",
                    "transcript_url",
                ]
            },
        ),
        (
            _("Provenance and licence"),
            {
                "fields": ["author", "licence", "licence_url", "source_url", "evidence"],
                "description": _(
                    "Who made it, under which licence the hub may show it, and the trials or "
                    "guidelines it rests on; shown on the public page. Anything the hub shows "
                    "a copy of (a guide written here, an image) needs an author and a licence "
                    "before approval."
                ),
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

    @admin.display(description=_("Readability"))
    def readability(self, obj: Resource) -> str:
        """Advisory score of the saved text, per language (resources/editorial/readability.py)."""
        return readability_for_editors(obj.body, obj.summary, obj.language)

    # --- Roles: who may change which field (enforced on save, not only hidden) -----------

    def get_readonly_fields(self, request: HttpRequest, obj: Resource | None = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        if not can_review(request.user):
            fields += REVIEWER_FIELDS
        if not _is_site_admin(request):
            fields += WORKFLOW_FIELDS
        if obj is not None and self._slug_is_fixed(request, obj):
            fields.append("slug")
        return fields

    def get_prepopulated_fields(self, request: HttpRequest, obj: Resource | None = None) -> dict:
        # A read-only slug has no input to fill in from the title.
        if obj is not None and self._slug_is_fixed(request, obj):
            return {}
        return {"slug": ["title"]}

    @staticmethod
    def _slug_is_fixed(request: HttpRequest, obj: Resource) -> bool:
        """The slug of a resource that was ever public is part of printed addresses:
        only a site admin may change it (workflow.EDIT_RULES, Consequence.FIXED). Asked
        several times per page: worked out once per request and resource."""
        cache = request.__dict__.setdefault("_hub_fixed_slug", {})
        if obj.pk not in cache:
            cache[obj.pk] = not _is_site_admin(request) and obj.was_ever_published()
        return cache[obj.pk]

    @admin.display(description=Vocabulary.MOVEMENT_FLAG.label)
    def tags_flag(self, obj: Resource | None) -> str:
        """Read-only movement flags, for editors (a reviewer gets the checkboxes)."""
        if obj is None or obj.pk is None:
            return "-"
        return ", ".join(str(tag.name) for tag in obj.flags) or "-"

    def get_form(self, request: HttpRequest, obj: Resource | None = None, change=False, **kwargs):
        version = getattr(request, "_hub_restoring_version", None)
        if obj is not None and version is not None:
            record = Resource.history.filter(id=obj.pk, history_id=version).first()
            if record is None:
                raise Http404
            current = Resource.objects.filter(pk=obj.pk).first()
            if current is None:  # deleted: restoring deleted resources is not offered
                raise Http404
            obj._restore_tag_ids = list(record.tags.values_list("tag_id", flat=True))
            self._keep_what_the_user_may_not_change(request, obj, current)
        return super().get_form(request, obj, change=change, **kwargs)

    @staticmethod
    def _current(obj: Resource) -> Resource:
        return Resource.objects.prefetch_related("tags").get(pk=obj.pk)

    def _keep_what_the_user_may_not_change(
        self, request: HttpRequest, obj: Resource, before: Resource | None
    ) -> None:
        """Put back every field this user may not change, whatever the POST or old version says.

        The form already leaves them out; this also covers restoring an old version, whose
        ratings and status would otherwise come back with it.
        """
        protected = ["safety_edited_by", "changed_since_review"]
        if before is not None and self._slug_is_fixed(request, before):
            protected.append("slug")
        if not can_review(request.user):
            protected += REVIEWER_MODEL_FIELDS
        if not _is_site_admin(request):
            protected += WORKFLOW_FIELDS
        source = before if before is not None else Resource()
        for name in protected:
            attname = Resource._meta.get_field(name).attname
            setattr(obj, attname, getattr(source, attname))

    def save_model(
        self, request: HttpRequest, obj: Resource, form: ResourceAdminForm, change: bool
    ) -> None:
        before = self._current(obj) if change and obj.pk else None
        self._keep_what_the_user_may_not_change(request, obj, before)
        # The one rule table (workflow.EDIT_RULES): back to review, or recorded as a step.
        pending = workflow.prepare_edit(
            obj,
            request.user,
            form.edit_changes(before) if before is not None else None,
            from_status=before.status if before is not None else None,
        )
        super().save_model(request, obj, form, change)
        if before is not None and before.slug != obj.slug:
            self._keep_old_address(before, obj)
        if pending.comment is None and before is not None and obj.status != before.status:
            # Only site admins have the status select; their steps are logged too.
            pending.comment = "Status changed in the form by a site admin"
        workflow.finish_edit(obj, request.user, pending)
        if pending.went_back_to_review:
            self.message_user(
                request,
                _(
                    "You changed safety-relevant content of a published resource. It has left "
                    "the public site and is back in review until a clinical reviewer approves it."
                ),
                messages.WARNING,
            )

    @staticmethod
    def _keep_old_address(before: Resource, obj: Resource) -> None:
        """A site admin changed the slug: printed links to the old address must still work
        (301 to the new one, resources/views.py), if the old one was ever public."""
        # Back to a slug it had before: that address is its own again.
        SlugRedirect.objects.filter(old_slug=obj.slug, resource=obj).delete()
        if before.was_ever_published():
            SlugRedirect.objects.update_or_create(old_slug=before.slug, defaults={"resource": obj})

    def history_form_view(self, request: HttpRequest, object_id, version_id, extra_context=None):
        """Restore ("revert") an old version through the same form and the same rules."""
        request._hub_restoring_version = version_id
        return super().history_form_view(request, object_id, version_id, extra_context)

    def get_historical_record_context_helper(self, request, historical_record):
        return _ReadableHistory(self.model, historical_record)

    # --- Workflow buttons on the change form ---------------------------------------------

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/workflow/<slug:step>/",
                self.admin_site.admin_view(self.workflow_view),
                name="{}_{}_workflow".format(*info),
            ),
            *super().get_urls(),
        ]

    def change_view(self, request: HttpRequest, object_id, form_url="", extra_context=None):
        resource = self.get_object(request, unquote(object_id))
        extra = dict(extra_context or {})
        if resource is not None:
            extra["workflow_steps"] = workflow.available_steps(resource, request.user)
            extra["transitions"] = resource.transitions.all()[:20]
        return super().change_view(request, object_id, form_url, extra)

    def workflow_view(self, request: HttpRequest, object_id: str, step: str) -> HttpResponse:
        """One page per step: a comment (required to send back), then the step itself."""
        resource = self.get_object(request, unquote(object_id))
        if resource is None or step not in workflow.STEPS:
            raise Http404
        if not self.has_view_or_change_permission(request, resource):
            raise PermissionDenied
        definition = workflow.STEPS[step]
        form = WorkflowStepForm(
            request.POST if request.method == "POST" else None,
            comment_required=definition.comment_required,
            asks_review_date=step == "approve",
        )
        if request.method == "POST" and form.is_valid():
            try:
                definition.run(resource, request.user, **form.step_arguments())
            except WorkflowError as error:
                form.add_error(None, error.message)
            else:
                self.message_user(
                    request,
                    format_lazy(
                        _("“{title}”: {step}. Now: {status}."),
                        title=resource.title,
                        step=definition.label,
                        status=resource.get_status_display(),
                    ),
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:resources_resource_change", args=[resource.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": format_lazy("{}: {}", definition.label, resource.title),
            "opts": self.opts,
            "original": resource,
            "step": definition,
            "form": form,
            "allowed": definition.allowed(request.user),
        }
        status = 200 if definition.allowed(request.user) else 403
        return TemplateResponse(
            request, "admin/resources/resource/workflow_step.html", context, status=status
        )

    # --- Bulk actions: the same steps, the same checks, each refusal named ---------------

    def has_publish_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("resources.publish_resource")

    def _bulk(
        self,
        request: HttpRequest,
        queryset: QuerySet[Resource],
        run: Callable[[Resource, object], object],
        done_message: str,
    ) -> None:
        done, refused = 0, []
        for resource in queryset.select_related(None).order_by("title", "pk"):
            try:
                run(resource, request.user)
            except WorkflowError as error:
                refused.append(
                    format_lazy(_("Not changed: “{title}”: {why}"), title=resource.title, why=error)
                )
            else:
                done += 1
        if done:
            self.message_user(request, done_message % {"count": done}, messages.SUCCESS)
        for reason in refused:
            self.message_user(request, reason, messages.ERROR)

    @admin.action(
        description=_("Add fitness levels or exercise types to selected resources"),
        permissions=["change"],
    )
    def add_tags_selected(
        self, request: HttpRequest, queryset: QuerySet[Resource]
    ) -> HttpResponse | None:
        """An intermediate page with checkboxes; adds the chosen tags, removes none."""
        form = AddTagsForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            chosen = [*form.cleaned_data["levels"], *form.cleaned_data["types"]]
            to_review = []
            for resource in queryset.prefetch_related("tags"):
                try:
                    if workflow.add_tags(resource, request.user, chosen) is not None:
                        to_review.append(resource.title)
                except WorkflowError as error:
                    self.message_user(request, error.message, messages.ERROR)
                    return None
            self.message_user(request, _("The chosen tags were added."), messages.SUCCESS)
            if to_review:
                self.message_user(
                    request,
                    format_lazy(
                        _(
                            "A fitness level is safety-relevant, so these published resources "
                            "left the public site and are back in review: {titles}"
                        ),
                        titles=", ".join(sorted(to_review)),
                    ),
                    messages.WARNING,
                )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Add fitness levels or exercise types"),
            "opts": self.opts,
            "form": form,
            "resources": queryset.order_by("title"),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/resources/resource/add_tags.html", context)


def _is_site_admin(request: HttpRequest) -> bool:
    """Asked several times per page: one query per request."""
    if not hasattr(request, "_hub_site_admin"):
        request._hub_site_admin = is_site_admin(request.user)
    return request._hub_site_admin


class WorkflowStepForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Kept with the resource's workflow steps, visible to editors and reviewers."),
    )
    next_review_due = forms.DateField(
        label=_("Next review due"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("When a clinician should look at it again. Empty: the usual review cycle."),
    )

    def __init__(self, *args, comment_required: bool, asks_review_date: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["comment"].required = comment_required
        if comment_required:
            self.fields["comment"].error_messages["required"] = _(
                "Say what the editor should change."
            )
        if asks_review_date:
            self.fields["next_review_due"].initial = workflow.default_next_review()
        else:
            del self.fields["next_review_due"]

    def clean_next_review_due(self):
        due = self.cleaned_data["next_review_due"]
        if due is not None and due <= workflow.timezone.localdate():
            raise forms.ValidationError(_("The next review must be after today."))
        return due

    def step_arguments(self) -> dict[str, object]:
        arguments: dict[str, object] = {"comment": self.cleaned_data["comment"]}
        if "next_review_due" in self.fields:
            arguments["next_review_due"] = self.cleaned_data["next_review_due"]
        return arguments


class AddTagsForm(forms.Form):
    levels = _tag_choice_field(Vocabulary.FITNESS_LEVEL)
    types = _tag_choice_field(Vocabulary.EXERCISE_TYPE)

    def clean(self) -> dict:
        cleaned = super().clean()
        if not cleaned.get("levels") and not cleaned.get("types"):
            raise forms.ValidationError(_("Choose at least one fitness level or exercise type."))
        return cleaned


class _ReadableHistory(HistoricalRecordContextHelper):
    """Tag changes in the history as "removed → added" names, not two long lists."""

    def format_delta_change(self, change: ModelChange) -> ModelChange:
        if change.field != "tags":
            return super().format_delta_change(change)
        old = {str(row["tag"]) for row in change.old}
        new = {str(row["tag"]) for row in change.new}
        return dataclasses.replace(
            change,
            field=capfirst(_("tags (removed → added)")),
            old="; ".join(sorted(old - new)) or "-",
            new="; ".join(sorted(new - old)) or "-",
        )


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records the hub writes itself (workflow steps, visit counts): nobody edits them."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Transition)
class TransitionAdmin(ReadOnlyAdmin):
    """The latest workflow steps of every resource, read-only: the log cannot be edited."""

    list_display = ["created_at", "resource", "from_status", "to_status", "actor_name", "comment"]
    list_filter = ["to_status"]
    list_select_related = ["resource"]
    search_fields = ["resource__title", "actor_name", "comment"]
    date_hierarchy = "created_at"


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["name", "slug", "origins"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(ReferralCount)
class ReferralCountAdmin(ReadOnlyAdmin):
    """Aggregate visit counts per partner and day: read-only, for site admins only."""

    list_display = ["day", "partner", "visits"]
    list_filter = [("partner", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["partner"]
    date_hierarchy = "day"

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser


# Programme listings and problem reports (issue #13) register themselves here.
from .programmes import admin as _programmes_admin  # noqa: E402, F401
