"""Resources as spreadsheets (CSV, XLSX) through django-import-export.

Editors export what they see and import new or corrected resources from a spreadsheet.
Importing is not a way round the clinical review: every imported row arrives as a draft, a
new row is "not yet reviewed", the safety rating of an existing row is never touched, and a
published resource cannot be changed by import at all (it must go through review in the
admin). Any bad row rejects the whole file, so nothing is ever half imported.
"""

from __future__ import annotations

from decimal import InvalidOperation
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Q, QuerySet
from django.template.response import TemplateResponse
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources, widgets
from import_export.admin import ImportExportMixin
from import_export.formats import base_formats
from import_export.forms import ExportForm, ImportForm

from ..models import BoneSafety, Organisation, Resource, Status, Tag, Transition, Vocabulary
from . import workflow
from .content_import import tags_by_key, unknown_slugs

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse
    from import_export.results import Result

# A cell starting with one of these is run as a formula by spreadsheet programs (CSV
# injection, OWASP). On export such a cell gets a leading apostrophe; import removes it.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

# Tag columns: which vocabulary each one fills. Movement flags are a reviewer's decision
# (they change the safety advice), so they are exported but never imported.
TAG_COLUMNS: dict[str, Vocabulary] = {
    "fitness_levels": Vocabulary.FITNESS_LEVEL,
    "cancer_stages": Vocabulary.CANCER_STAGE,
    "exercise_types": Vocabulary.EXERCISE_TYPE,
}
TAG_SEPARATOR = ";"

# Columns whose text is kept exactly as written (Markdown cares about leading spaces).
UNSTRIPPED_COLUMNS = {"body"}


def sheet_row(number: int) -> int:
    """The row an editor sees in the spreadsheet program: the header is row 1."""
    return number + 1


def escape_formula(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula, made inert with a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def unescape_formula(value: Any) -> Any:
    """Undo `escape_formula`, so that an exported file can be imported again unchanged."""
    if isinstance(value, str) and value[:1] == "'" and value[1:2] and value[1] in "=+-@\t\r":
        return value[1:]
    return value


class OrganisationWidget(widgets.ForeignKeyWidget):
    """An organisation by its name or slug. Never creates one: a typo would add a stray
    organisation to the public site's filters."""

    def __init__(self) -> None:
        super().__init__(Organisation, field="name")

    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> Organisation:
        text = str(value if value is not None else "").strip()
        if not text:
            raise ValueError(gettext("Give the name or slug of the organisation."))
        match = Organisation.objects.filter(Q(name__iexact=text) | Q(slug__iexact=text)).first()
        if match is None:
            raise ValueError(
                gettext(
                    "There is no organisation called “%(name)s”. Add it under Organisations "
                    "first, or use the name or slug of an existing one."
                )
                % {"name": text}
            )
        return match


class MinutesWidget(widgets.IntegerWidget):
    """Whole minutes; "abc" or "12.5" is a row error in words, not a crash."""

    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> int | None:
        try:
            number = super().clean(value, row, **kwargs)
        except (ValueError, InvalidOperation):
            number = -1
        if number is None:
            return None
        if number < 0 or str(value).strip() not in {str(number), f"{number}.0"}:
            raise ValueError(
                gettext("“%(value)s” is not a whole number of minutes.") % {"value": value}
            )
        return number


class YesNoWidget(widgets.BooleanWidget):
    """Spreadsheet people write yes/no as often as TRUE/FALSE or 1/0."""

    TRUE_VALUES = [*widgets.BooleanWidget.TRUE_VALUES, "yes", "Yes", "YES", "y", "Y"]
    FALSE_VALUES = [*widgets.BooleanWidget.FALSE_VALUES, "no", "No", "NO", "n", "N"]

    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> bool:
        if value in self.NULL_VALUES:
            return False
        if value in self.TRUE_VALUES:
            return True
        if value in self.FALSE_VALUES:
            return False
        raise ValueError(gettext("Write yes or no, not “%(value)s”.") % {"value": value})


class ResourceSheet(resources.ModelResource):
    """One spreadsheet row per resource, keyed by its stable slug.

    Named "sheet" because "ResourceResource" would be confusing: import-export calls its
    mapping classes "resources" too.
    """

    organisation = fields.Field(
        attribute="organisation", column_name="organisation", widget=OrganisationWidget()
    )
    duration_minutes = fields.Field(
        attribute="duration_minutes", column_name="duration_minutes", widget=MinutesWidget()
    )
    has_captions = fields.Field(
        attribute="has_captions", column_name="has_captions", widget=YesNoWidget()
    )
    # No attribute: import-export leaves these alone; import_instance / save_m2m handle them,
    # because three columns share one many-to-many field.
    fitness_levels = fields.Field(column_name="fitness_levels")
    cancer_stages = fields.Field(column_name="cancer_stages")
    exercise_types = fields.Field(column_name="exercise_types")
    # Read-only: exported for information, ignored when a file comes back.
    movement_flags = fields.Field(column_name="movement_flags", readonly=True)
    status = fields.Field(attribute="status", column_name="status", readonly=True)
    bone_metastasis_safety = fields.Field(
        attribute="bone_metastasis_safety", column_name="bone_metastasis_safety", readonly=True
    )
    reviewed_on = fields.Field(
        attribute="reviewed_on",
        column_name="reviewed_on",
        readonly=True,
        widget=widgets.DateWidget(),
    )
    next_review_due = fields.Field(
        attribute="next_review_due",
        column_name="next_review_due",
        readonly=True,
        widget=widgets.DateWidget(),
    )
    public_url = fields.Field(column_name="public_url", readonly=True)

    class Meta:
        model = Resource
        name = _("Resources (CSV or Excel)")
        fields = [
            "title", "slug", "kind", "summary", "body", "url", "language", "organisation",
            "duration_minutes", "fitness_levels", "cancer_stages", "exercise_types",
            "has_captions", "transcript_url", "image_alt",
            "movement_flags", "status", "bone_metastasis_safety", "reviewed_on",
            "next_review_due", "public_url",
        ]  # fmt: skip
        import_id_fields = ["slug"]
        clean_model_instances = True  # the model's own rules: https, kind, slug, lengths
        use_transactions = True
        skip_unchanged = False

    def __init__(self, request: HttpRequest | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.request = request
        self._public_pks: set[int] = set()
        self._seen_slugs: dict[str, int] = {}
        self._tags: dict[tuple[str, str], Tag] = {}

    # Import ---------------------------------------------------------------------------

    def import_data(self, dataset, **kwargs: Any) -> Result:
        """All or nothing, in the dry run and in the confirmed import alike.

        The admin's confirm step does not ask for a rollback on validation errors (only on
        exceptions); a file changed between preview and confirm would then be half saved.
        """
        kwargs["use_transactions"] = True
        kwargs["rollback_on_validation_errors"] = True
        return super().import_data(dataset, **kwargs)

    def get_import_fields(self) -> list[fields.Field]:
        """The columns read from a file (also listed on the import page)."""
        return [field for field in super().get_import_fields() if not field.readonly]

    def before_import(self, dataset, **kwargs: Any) -> None:
        self._seen_slugs = {}
        self._tags = tags_by_key()

    def before_import_row(self, row: dict, **kwargs: Any) -> None:
        for column, value in row.items():
            if value is None:  # an empty Excel cell
                value = ""
            if isinstance(value, str):
                value = unescape_formula(value if column in UNSTRIPPED_COLUMNS else value.strip())
            row[column] = value

    def import_field(self, field: fields.Field, instance: Resource, row: dict, *args, **kwargs):
        """A cell the widget cannot read is that cell's error, never a crash of the row."""
        try:
            return super().import_field(field, instance, row, *args, **kwargs)
        except (TypeError, InvalidOperation, ArithmeticError) as error:
            raise ValueError(
                gettext("“%(value)s” cannot be read here.") % {"value": row.get(field.column_name)}
            ) from error

    def import_instance(self, instance: Resource, row: dict, **kwargs: Any) -> None:
        """Read the cells, then apply the rules that make importing safe."""
        original_status = instance.status if instance.pk else None
        original_title = instance.title
        # What the row changes is judged by the same rule table as the change form's
        # (workflow.EDIT_RULES): who changes safety-relevant content may not approve it.
        before = workflow.snapshot(instance, tags=instance.tags.all()) if instance.pk else None
        errors: dict[str, list] = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        instance._import_tags = self._read_tags(row, errors)

        user = kwargs.get("user")
        if before is None:
            changes = None
        else:
            after = workflow.snapshot(instance)
            after.update(
                {
                    workflow.tag_key(vocabulary): frozenset(tag.pk for tag in tags)
                    for vocabulary, tags in instance._import_tags.items()
                }
            )
            changes = workflow.changes_between(before, after)
        # Never published through an import (see below), so this only names the contributor.
        instance._import_pending = workflow.prepare_edit(instance, user, changes)
        if original_status is not None:
            if original_status == Status.PUBLISHED:
                errors.setdefault(NON_FIELD_ERRORS, []).append(
                    gettext(
                        "“%(title)s” is published; edit it in the admin so that the change "
                        "goes through review."
                    )
                    % {"title": original_title}
                )
            elif user is not None and not user.has_perm("resources.change_resource"):
                errors.setdefault(NON_FIELD_ERRORS, []).append(
                    gettext(
                        "A resource with the slug “%(slug)s” exists already, and you may only "
                        "add new resources. Choose another slug."
                    )
                    % {"slug": instance.slug}
                )
        row_number = kwargs.get("row_number")
        first_row = self._seen_slugs.setdefault(instance.slug, row_number)
        if instance.slug and first_row != row_number:
            errors.setdefault("slug", []).append(
                gettext("The slug “%(slug)s” is used in row %(row)d of this file already.")
                % {"slug": instance.slug, "row": sheet_row(first_row)}
            )

        # Whatever the file says: a draft; a new row is not reviewed. The safety rating of an
        # existing row is not a column that is read, so it stays as the reviewer left it.
        instance._import_original_status = original_status
        instance.status = Status.DRAFT
        if original_status is None:
            instance.bone_metastasis_safety = BoneSafety.NOT_REVIEWED
            instance.published_at = None
        if errors:
            raise ValidationError(errors)

    def _read_tags(self, row: dict, errors: dict[str, list]) -> dict[str, list[Tag]]:
        """The tags of each tag column present in the row, by vocabulary; unknown slugs
        become an error naming them and the slugs that would be accepted."""
        found: dict[str, list[Tag]] = {}
        for column, vocabulary in TAG_COLUMNS.items():
            if column not in row:
                continue
            cell = row[column]
            slugs = [
                slug.strip().lower()
                for slug in str(cell if cell is not None else "").split(TAG_SEPARATOR)
                if slug.strip()
            ]
            unknown, valid = unknown_slugs(self._tags, vocabulary.value, slugs)
            if unknown:
                errors.setdefault(column, []).append(
                    gettext("Unknown %(vocabulary)s: %(unknown)s. Use one of: %(valid)s.")
                    % {
                        "vocabulary": vocabulary.label.lower(),
                        "unknown": ", ".join(f"“{slug}”" for slug in unknown),
                        "valid": ", ".join(valid),
                    }
                )
                continue
            found[vocabulary.value] = [self._tags[vocabulary.value, slug] for slug in slugs]
        return found

    def validate_instance(self, instance: Resource, import_validation_errors=None, **kwargs):
        """The model's rules (full_clean), with the accepted values added to a wrong choice."""
        try:
            super().validate_instance(instance, import_validation_errors, **kwargs)
        except ValidationError as error:
            raise ValidationError(self._with_choices(instance, error)) from error

    @staticmethod
    def _with_choices(instance: Resource, error: ValidationError) -> dict[str, list]:
        hints = {
            "kind": Resource._meta.get_field("kind").choices,
            "language": Resource._meta.get_field("language").choices,
        }
        messages_by_field = error.update_error_dict({})
        for column, choices in hints.items():
            problems = error.error_dict.get(column, [])
            if any(getattr(problem, "code", "") == "invalid_choice" for problem in problems):
                messages_by_field[column] = [
                    gettext("“%(value)s” is not accepted here. Use one of: %(values)s.")
                    % {
                        "value": getattr(instance, column),
                        "values": ", ".join(value for value, _label in choices),
                    }
                ]
        return messages_by_field

    def before_save_instance(self, instance: Resource, row: dict, **kwargs: Any) -> None:
        """The history (simple-history) names the importing editor and the file."""
        instance._history_user = kwargs.get("user")
        reason = gettext("Imported from the spreadsheet %(file)s") % {
            "file": kwargs.get("file_name") or ""
        }
        instance._change_reason = reason[:100]  # the history's column holds 100 characters

    def after_save_instance(self, instance: Resource, row: dict, **kwargs: Any) -> None:
        """An in-review or archived resource changed by import is a draft again: say so
        in its workflow log, as a button in the admin would."""
        original = getattr(instance, "_import_original_status", None)
        user = kwargs.get("user")
        pending = getattr(instance, "_import_pending", None)
        if pending is not None and pending.contributor and user is not None:
            instance.safety_contributors.add(user)
        if original and original != Status.DRAFT and not kwargs.get("dry_run"):
            Transition.objects.create(
                resource=instance,
                from_status=original,
                to_status=Status.DRAFT,
                actor=user,
                actor_name=user.get_username() if user else "",
                comment=gettext("Changed by a spreadsheet import: back to draft."),
            )

    def save_m2m(self, instance: Resource, row: dict, **kwargs: Any) -> None:
        """Replace the tags of each vocabulary that has a column in the file; keep the others
        (movement flags above all, which only a reviewer sets)."""
        if kwargs.get("dry_run") and not kwargs.get("using_transactions"):
            return
        pending: dict[str, list[Tag]] = getattr(instance, "_import_tags", {})
        if not pending:
            return
        kept = [tag for tag in instance.tags.all() if tag.vocabulary not in pending]
        instance.tags.set([*kept, *(tag for tags in pending.values() for tag in tags)])

    # Export ---------------------------------------------------------------------------

    def export(self, queryset: QuerySet[Resource] | None = None, **kwargs: Any):
        """Two queries for any number of rows (organisation joined, tags prefetched), and a
        third to know which rows are public."""
        if queryset is None:
            queryset = self.get_queryset()
        queryset = queryset.select_related("organisation").prefetch_related("tags")
        self._public_pks = set(queryset.published().values_list("pk", flat=True))
        return super().export(queryset=queryset, **kwargs)

    def export_field(self, field: fields.Field, instance: Resource, **kwargs: Any) -> Any:
        return escape_formula(super().export_field(field, instance, **kwargs))

    def _tag_slugs(self, instance: Resource, vocabulary: str) -> str:
        if instance.pk is None:
            return ""
        return TAG_SEPARATOR.join(tag.slug for tag in instance.tags_in(vocabulary))

    def dehydrate_fitness_levels(self, instance: Resource) -> str:
        return self._tag_slugs(instance, Vocabulary.FITNESS_LEVEL)

    def dehydrate_cancer_stages(self, instance: Resource) -> str:
        return self._tag_slugs(instance, Vocabulary.CANCER_STAGE)

    def dehydrate_exercise_types(self, instance: Resource) -> str:
        return self._tag_slugs(instance, Vocabulary.EXERCISE_TYPE)

    def dehydrate_movement_flags(self, instance: Resource) -> str:
        return self._tag_slugs(instance, Vocabulary.MOVEMENT_FLAG)

    def dehydrate_public_url(self, instance: Resource) -> str:
        """The address patients use, in the resource's own language; empty while the public
        cannot see it (the visibility rule decided in `export`, by `published()`)."""
        if instance.pk not in self._public_pks:
            return ""
        with translation.override(instance.language):
            path = instance.get_absolute_url()
        return self.request.build_absolute_uri(path) if self.request else path


class ResourceImportForm(ImportForm):
    """The upload form, with a size limit that answers in words instead of a server error."""

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        limit_mb = settings.HUB_IMPORT_MAX_MB
        if upload.size > limit_mb * 1024 * 1024:
            raise forms.ValidationError(
                gettext(
                    "This file is larger than %(limit)d MB. Split it into smaller files and "
                    "import them one after the other."
                )
                % {"limit": limit_mb}
            )
        return upload


class ResourceImportExportMixin(ImportExportMixin):
    """The import and export pages of the resource admin (used by `ResourceAdmin`)."""

    resource_classes = [ResourceSheet]
    # Class attribute over import-export's property: only the two formats editors use.
    formats = [base_formats.CSV, base_formats.XLSX]
    # Excel writes a byte-order mark in "CSV UTF-8"; this reads files with and without it.
    from_encoding = "utf-8-sig"
    import_form_class = ResourceImportForm
    import_template_name = "admin/import_export/resource_import.html"
    # Every column, always (a file that can come back in); the selectable-fields form needs
    # an inline event handler that the admin's Content Security Policy refuses.
    export_form_class = ExportForm

    def get_import_context_data(self, **kwargs: Any) -> dict:
        return {"import_max_mb": settings.HUB_IMPORT_MAX_MB}

    def get_resource_kwargs(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict:
        return {"request": request}

    def add_data_read_fail_error_to_form(self, form: forms.Form, error: Exception) -> None:
        form.add_error(
            "import_file",
            gettext(
                "This file could not be read in the format you chose. Save it from your "
                "spreadsheet program as “CSV UTF-8” or as an Excel workbook (.xlsx), choose "
                "that format here, and try again."
            ),
        )

    def process_result(self, result: Result, request: HttpRequest) -> HttpResponse:
        """After the confirm step: if anything failed (the file changed since the preview),
        nothing was saved; show the errors again instead of a success message."""
        if not result.has_errors() and not result.has_validation_errors():
            return super().process_result(result, request)
        messages.error(request, gettext("Nothing was imported. Correct the rows below."))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Import"),
            "form": self.get_import_form_class(request)(
                self.get_import_formats(), self.get_import_resource_classes(request)
            ),
            "opts": self.model._meta,
            "result": result,
            "import_error_display": self.import_error_display,
            "fields_list": [],
            **self.get_import_context_data(),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, [self.import_template_name], context)
