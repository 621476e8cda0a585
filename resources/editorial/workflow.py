"""The editorial workflow: draft → in review → published → archived.

Every step goes through one function here, so that the admin buttons, the bulk actions and
any later caller meet the same permission checks and leave the same trace: a `Transition`
row (who, when, from → to, comment) and a history version naming the step. A step that is
not allowed raises `WorkflowError` with a sentence an editor can act on.

These are writes spanning two models (resource + transition) outside a plain form save,
which is why they live in a module of their own (docs/architecture.md) rather than on the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy

from ..models import Organisation, Resource, Status, Tag, Transition, Vocabulary
from .roles import can_edit, can_publish, can_review, is_site_admin, public_name

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from django.contrib.auth.models import User


class WorkflowError(Exception):
    """A workflow step that is not allowed, with a plain message for the editor."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise WorkflowError(message)


def _require_status(resource: Resource, allowed: Iterable[str], message: str) -> None:
    if resource.status not in allowed:
        raise WorkflowError(message)


def record_transition(
    resource: Resource, user: User | None, from_status: str, comment: str
) -> Transition:
    """Log one step: who, when, from → to, and why."""
    return Transition.objects.create(
        resource=resource,
        from_status=from_status,
        to_status=resource.status,
        actor=user,
        actor_name=public_name(user) if user is not None else "",
        comment=comment.strip(),
    )


@transaction.atomic
def _record(
    resource: Resource,
    user: User | None,
    to_status: str,
    comment: str,
    reason: str,
    fields: Iterable[str] = (),
    from_status: str | None = None,
) -> Transition:
    """Save the new status (one history version, named after the step) and log the step.

    `from_status` when the caller has already set the new status (to validate it)."""
    from_status = from_status or resource.status
    resource.status = to_status
    resource._change_reason = reason[:100]
    if user is not None:
        resource._history_user = user
    resource.save(update_fields=["status", "published_at", *fields, "updated_at"])
    return record_transition(resource, user, from_status, comment)


def submit(resource: Resource, user: User, comment: str = "") -> Transition:
    """An editor hands a draft to the clinical reviewers."""
    _require(can_edit(user), _("Only editors and reviewers can submit a resource for review."))
    _require_status(
        resource, [Status.DRAFT], _("Only a draft can be submitted for review; this one is not.")
    )
    return _record(resource, user, Status.IN_REVIEW, comment, "Submitted for review")


def default_next_review(today: date | None = None) -> date:
    """When an approval falls due again unless the reviewer says otherwise."""
    return (today or timezone.localdate()) + timedelta(days=settings.HUB_REVIEW_CYCLE_DAYS)


@transaction.atomic
def approve(
    resource: Resource, user: User, comment: str = "", next_review_due: date | None = None
) -> Transition:
    """A clinical reviewer signs the resource off and publishes it.

    Sets the public "reviewed by" name, today's review date and the next review date. A
    reviewer may not approve their own safety edits (a second clinician must look), unless
    they are a site admin.
    """
    _require(can_publish(user), _("Only a clinical reviewer can approve and publish."))
    _require_status(
        resource,
        [Status.IN_REVIEW],
        _("Only a resource that is in review can be approved. Submit it for review first."),
    )
    # Everyone who changed safety-relevant content since the last approval, not only the
    # last of them: a reviewer who set the rating cannot approve after a colleague's edit.
    _require(
        not is_contributor(resource, user) or is_site_admin(user),
        _(
            "You changed this resource's safety-relevant content yourself, so another "
            "clinical reviewer must approve it."
        ),
    )
    today = timezone.localdate()
    resource.reviewed_on = today
    resource.reviewed_by = public_name(user)
    resource.next_review_due = next_review_due or default_next_review(today)
    # A clinician has now checked the rating: it is no longer only a proposal.
    resource.rating_is_provisional = False
    resource.status = Status.PUBLISHED
    resource.published_at = resource.published_at or timezone.now()
    # The approval covers every change so far: a new round of contributors starts.
    resource.safety_edited_by = None
    resource.changed_since_review = None
    try:
        resource.full_clean()
    except ValidationError as error:
        raise WorkflowError(" ".join(error.messages)) from error
    resource.safety_contributors.clear()
    return _record(
        resource,
        user,
        Status.PUBLISHED,
        comment,
        "Approved and published",
        fields=[
            "reviewed_on",
            "reviewed_by",
            "next_review_due",
            "rating_is_provisional",
            "safety_edited_by",
            "changed_since_review",
        ],
        from_status=Status.IN_REVIEW,
    )


def confirm_changes(resource: Resource, user: User, comment: str = "") -> Transition:
    """A reviewer has looked at the recorded changes of a published resource (its title,
    summary…): it leaves the "changed since review" list and stays public."""
    _require(can_publish(user), _("Only a clinical reviewer can confirm changes."))
    _require(
        resource.status == Status.PUBLISHED and resource.changed_since_review is not None,
        _("This resource has no changes since its review to confirm."),
    )
    resource.changed_since_review = None
    return _record(
        resource,
        user,
        Status.PUBLISHED,
        comment or "Changes since review confirmed",
        "Changes since review confirmed",
        fields=["changed_since_review"],
    )


def send_back(resource: Resource, user: User, comment: str) -> Transition:
    """A reviewer returns a resource to the editors, saying what to change."""
    _require(can_review(user), _("Only a clinical reviewer can send a resource back."))
    _require_status(
        resource, [Status.IN_REVIEW], _("Only a resource that is in review can be sent back.")
    )
    _require(bool(comment.strip()), _("Say what the editor should change."))
    return _record(resource, user, Status.DRAFT, comment, "Sent back to the editor")


def unpublish(resource: Resource, user: User, comment: str = "") -> Transition:
    """Take a resource off the public site at once; it becomes a draft again."""
    _require(can_publish(user), _("Only a clinical reviewer can unpublish a resource."))
    _require_status(resource, [Status.PUBLISHED], _("This resource is not published."))
    resource.published_at = None
    return _record(resource, user, Status.DRAFT, comment, "Unpublished")


def archive(resource: Resource, user: User, comment: str = "") -> Transition:
    """Retire a resource for good (kept, never public)."""
    _require(can_publish(user), _("Only a clinical reviewer can archive a resource."))
    _require_status(
        resource,
        [Status.DRAFT, Status.IN_REVIEW, Status.PUBLISHED],
        _("This resource is already archived."),
    )
    resource.published_at = None
    return _record(resource, user, Status.ARCHIVED, comment, "Archived")


def restore_to_draft(resource: Resource, user: User, comment: str = "") -> Transition:
    """Bring an archived resource back as a draft, to be reviewed again before it is public."""
    _require(can_edit(user), _("Only editors and reviewers can restore a resource."))
    _require_status(
        resource, [Status.ARCHIVED], _("Only an archived resource can be restored to draft.")
    )
    return _record(resource, user, Status.DRAFT, comment, "Restored to draft")


class Consequence(StrEnum):
    """What happens when a field of a resource changes (see EDIT_RULES)."""

    # Safety-relevant: a published resource leaves the public site and goes back to review;
    # the editor joins the contributors, who may not approve the change themselves.
    REVIEW = "review"
    # Stays public, but the change is logged as a workflow step and the resource is listed as
    # "changed since review" until a clinical reviewer confirms it.
    RECORD = "record"
    # Fixed once the resource was ever published (printed handouts, QR codes). Only a site
    # admin may change it, and the old address then answers 301 to the new one.
    FIXED = "fixed"
    # Changed only by the workflow steps (and by site admins, who are logged too).
    WORKFLOW = "workflow"
    # Never shown to patients: no consequence.
    INTERNAL = "internal"


# THE rule for editing published content: every field of a resource a patient can see (detail
# page, result cards, feeds, API, widget, structured data) and what changing it does. The
# admin form, restoring an old version (same form) and the spreadsheet import all read it
# through `changes_between`; docs/editors.md shows it as a table. A field that
# is not listed here is a mistake: tests/editorial/test_workflow.py checks every editable field is.
EDIT_RULES: dict[str, Consequence] = {
    "kind": Consequence.REVIEW,  # video player vs. guide: what the patient does
    "title": Consequence.RECORD,
    "slug": Consequence.FIXED,
    "summary": Consequence.RECORD,
    "body": Consequence.REVIEW,  # instructions
    "url": Consequence.REVIEW,  # where the patient is sent; the video played
    "duration_minutes": Consequence.REVIEW,  # the dose of exercise
    "language": Consequence.RECORD,
    "organisation": Consequence.RECORD,  # who stands behind it (see ORGANISATION_RULES)
    "image": Consequence.REVIEW,  # a picture can show a movement, or carry text
    "image_alt": Consequence.RECORD,
    "has_captions": Consequence.RECORD,
    "transcript": Consequence.REVIEW,  # instructions, as the body
    "transcript_url": Consequence.REVIEW,  # a link, as the address
    "translations": Consequence.RECORD,  # each linked resource is reviewed on its own
    "bone_metastasis_safety": Consequence.REVIEW,  # reviewers only (admin roles)
    # Reviewers only (admin roles); shown as "reviewed by … on …".
    "rating_is_provisional": Consequence.RECORD,
    "reviewed_by": Consequence.RECORD,
    "reviewed_on": Consequence.RECORD,
    "next_review_due": Consequence.RECORD,
    "review_notes": Consequence.INTERNAL,
    "status": Consequence.WORKFLOW,
    "published_at": Consequence.WORKFLOW,
}
# Tags, per vocabulary. A vocabulary added later and not listed here counts as REVIEW: the
# safe default (filters send patients to a resource by these tags).
VOCABULARY_RULES: dict[str, Consequence] = {
    Vocabulary.FITNESS_LEVEL: Consequence.REVIEW,
    Vocabulary.CANCER_STAGE: Consequence.REVIEW,
    # What kind of activity (walking, strength…): for finding, not instructions; the safety
    # of the movements is the movement flags' and the fitness level's business.
    Vocabulary.EXERCISE_TYPE: Consequence.RECORD,
    Vocabulary.MOVEMENT_FLAG: Consequence.REVIEW,  # reviewers only (admin roles)
}
# An organisation with published resources: its name and website appear on their pages.
# Only a clinical reviewer may change them then, and each published resource logs the
# change and is listed as "changed since review" (resources/admin.py OrganisationAdmin).
ORGANISATION_RULES: dict[str, Consequence] = {
    "name": Consequence.RECORD,
    "website": Consequence.RECORD,
    "country": Consequence.INTERNAL,
    "slug": Consequence.INTERNAL,
}

# Kept for callers that ask "is this field safety-relevant?".
SAFETY_FIELDS: tuple[str, ...] = tuple(
    name for name, rule in EDIT_RULES.items() if rule == Consequence.REVIEW
)
SAFETY_VOCABULARIES: tuple[str, ...] = tuple(
    vocabulary
    for vocabulary in Vocabulary
    if VOCABULARY_RULES.get(vocabulary, Consequence.REVIEW) == Consequence.REVIEW
)


def vocabulary_rule(vocabulary: str) -> Consequence:
    return VOCABULARY_RULES.get(vocabulary, Consequence.REVIEW)


def tag_key(vocabulary: str) -> str:
    """The key of one vocabulary's tags in a snapshot."""
    return f"tags:{vocabulary}"


def _comparable(value: object) -> object:
    """Browsers send text areas with CRLF line ends: not a change of content."""
    if isinstance(value, str):
        return value.replace("\r\n", "\n").strip()
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, FieldFile):
        return value.name or ""
    return value


def snapshot(
    resource: Resource,
    tags: Iterable[Tag] | None = None,
    translations: Iterable[Resource] | None = None,
) -> dict[str, object]:
    """The values the rules compare: the resource's fields, its tags per vocabulary and its
    linked translations (each only when given: left out, it counts as unchanged)."""
    values: dict[str, object] = {
        name: _comparable(getattr(resource, Resource._meta.get_field(name).attname))
        for name, rule in EDIT_RULES.items()
        if name != "translations" and rule != Consequence.INTERNAL
    }
    if tags is not None:
        tags = list(tags)
        for vocabulary in Vocabulary:
            values[tag_key(vocabulary)] = frozenset(
                tag.pk for tag in tags if tag.vocabulary == vocabulary
            )
    if translations is not None:
        values["translations"] = frozenset(other.pk for other in translations)
    return values


@dataclass
class Changes:
    """The changed fields of one edit, by consequence, as names an editor reads."""

    review: list[str] = field(default_factory=list)
    record: list[str] = field(default_factory=list)
    fixed: list[str] = field(default_factory=list)


def _label(key: str) -> str:
    if key.startswith("tags:"):
        return str(Vocabulary(key.removeprefix("tags:")).label)
    return str(Resource._meta.get_field(key).verbose_name)


def changes_between(before: dict[str, object], after: dict[str, object]) -> Changes:
    """Which rules an edit meets: keys present in both snapshots and different."""
    changes = Changes()
    for key, old in before.items():
        if key not in after or after[key] == old:
            continue
        if key.startswith("tags:"):
            rule = vocabulary_rule(key.removeprefix("tags:"))
        else:
            rule = EDIT_RULES[key]
        target = {
            Consequence.REVIEW: changes.review,
            Consequence.RECORD: changes.record,
            Consequence.FIXED: changes.fixed,
        }.get(rule)
        if target is not None:
            target.append(_label(key))
    return changes


@dataclass
class PendingEdit:
    """What `prepare_edit` decided before the save; `finish_edit` logs it after."""

    from_status: str
    comment: str | None = None
    contributor: bool = False
    went_back_to_review: bool = False


def prepare_edit(
    resource: Resource,
    user: User | None,
    changes: Changes | None,
    from_status: str | None = None,
) -> PendingEdit:
    """Apply the rules to an unsaved, edited resource (None: a new resource); the caller
    saves it, then calls `finish_edit`.

    No permission check: any allowed edit may trigger this, and it only ever makes the
    resource less public or more visible to reviewers.
    """
    # `from_status`: the stored status, when a site admin's form also changed it.
    pending = PendingEdit(from_status=from_status or resource.status)
    if changes is None:
        # The author of new content may not approve it alone either.
        pending.contributor = user is not None
        resource.safety_edited_by = user
        return pending
    if changes.review:
        pending.contributor = user is not None
        pending.comment = note_safety_change(resource, user, changes.review)
        pending.went_back_to_review = pending.comment is not None
    elif (changes.record or changes.fixed) and resource.status == Status.PUBLISHED:
        # (A fixed field only changes here when a site admin changed it.)
        resource.changed_since_review = timezone.now()
        pending.comment = "Changed since review (still public): " + ", ".join(
            sorted({*changes.record, *changes.fixed})
        )
    return pending


def finish_edit(resource: Resource, user: User | None, pending: PendingEdit) -> Transition | None:
    """After the save: name the contributor and log the step `prepare_edit` decided."""
    if pending.contributor and user is not None:
        resource.safety_contributors.add(user)
    if pending.comment is None:
        return None
    return record_transition(resource, user, pending.from_status, pending.comment)


def note_safety_change(resource: Resource, user: User | None, fields: Iterable[str]) -> str | None:
    """Mark a safety-relevant change on an unsaved resource; the caller saves it (and adds
    the user to `safety_contributors`, which needs the saved row).

    Records who made the change (they may not approve it themselves). A published resource
    goes back to review and leaves the public site: no public copy of the old version is
    kept, so patients never see a rating or instruction no clinician has checked, and there
    is no second copy to drift from `Resource.objects.published()`. Returns the comment for
    the transition to log after saving, or None when the status did not change.
    """
    resource.safety_edited_by = user
    if resource.status != Status.PUBLISHED:
        return None
    resource.status = Status.IN_REVIEW
    resource.published_at = None
    resource._change_reason = "Back to review: safety-relevant change"
    return "Safety-relevant fields changed: " + ", ".join(sorted(set(fields)))


def is_contributor(resource: Resource, user: User) -> bool:
    """Did this user change safety-relevant content since the last approval?"""
    return resource.safety_edited_by_id == user.pk or (
        resource.pk is not None and resource.safety_contributors.filter(pk=user.pk).exists()
    )


@transaction.atomic
def record_organisation_change(
    organisation: Organisation, user: User, fields: Iterable[str]
) -> int:
    """An organisation's public name or website changed: each of its published resources
    logs the step and is listed as "changed since review". Returns how many."""
    comment = "Organisation changed since review (still public): " + ", ".join(sorted(fields))
    now = timezone.now()
    published = list(Resource.objects.filter(organisation=organisation, status=Status.PUBLISHED))
    for resource in published:
        resource.changed_since_review = now
        resource._history_user = user
        resource._change_reason = "Organisation changed"
        resource.save(update_fields=["changed_since_review", "updated_at"])
        record_transition(resource, user, Status.PUBLISHED, comment)
    return len(published)


@transaction.atomic
def add_tags(resource: Resource, user: User, tags: Iterable[Tag]) -> Transition | None:
    """Add tags to a resource (bulk editing), with the safety rule for safety vocabularies.

    Returns the transition when the resource had to leave the public site.
    """
    _require(can_edit(user), _("Only editors and reviewers can change tags."))
    new = [tag for tag in tags if tag.pk not in {t.pk for t in resource.tags.all()}]
    if any(tag.vocabulary == Vocabulary.MOVEMENT_FLAG for tag in new):
        _require(can_review(user), _("Only a clinical reviewer can set movement flags."))
    if not new:
        return None
    safety = sorted(
        {str(tag.get_vocabulary_display()) for tag in new if tag.vocabulary in SAFETY_VOCABULARIES}
    )
    recorded = sorted(
        {
            str(tag.get_vocabulary_display())
            for tag in new
            if vocabulary_rule(tag.vocabulary) == Consequence.RECORD
        }
    )
    pending = prepare_edit(resource, user, Changes(review=safety, record=recorded))
    resource._history_user = user
    if pending.comment is not None or pending.contributor:
        resource.save(
            update_fields=[
                "status",
                "published_at",
                "safety_edited_by",
                "changed_since_review",
                "updated_at",
            ]
        )
    resource.tags.add(*new)
    transition = finish_edit(resource, user, pending)
    return transition if pending.went_back_to_review else None


@dataclass(frozen=True)
class Bulk:
    """A step offered as a bulk action on the resource list (resources/admin.py makes it)."""

    description: str
    done: str  # ngettext_lazy with a `count` placeholder
    permission: str  # the admin's has_<permission>_permission


@dataclass(frozen=True)
class Step:
    """One button of the change form: what it is called and when it is offered."""

    label: str
    run: Callable[..., Transition]
    from_statuses: tuple[str, ...]
    allowed: Callable[[User], bool]
    comment_required: bool = False
    bulk: Bulk | None = None
    # Offered only for resources in this state too (beyond the status).
    offered: Callable[[Resource], bool] | None = None


STEPS: dict[str, Step] = {
    "submit": Step(
        gettext_lazy("Submit for review"),
        submit,
        (Status.DRAFT,),
        can_edit,
        bulk=Bulk(
            gettext_lazy("Submit selected resources for review"),
            ngettext_lazy(
                "Submitted %(count)d resource for review.",
                "Submitted %(count)d resources for review.",
                "count",
            ),
            "change",
        ),
    ),
    "approve": Step(
        gettext_lazy("Approve and publish"),
        approve,
        (Status.IN_REVIEW,),
        can_publish,
        bulk=Bulk(
            gettext_lazy("Approve and publish selected resources"),
            ngettext_lazy(
                "Approved and published %(count)d resource.",
                "Approved and published %(count)d resources.",
                "count",
            ),
            "publish",
        ),
    ),
    "send-back": Step(
        gettext_lazy("Send back to the editor"),
        send_back,
        (Status.IN_REVIEW,),
        can_review,
        comment_required=True,
    ),
    "confirm": Step(
        gettext_lazy("Confirm changes since review"),
        confirm_changes,
        (Status.PUBLISHED,),
        can_publish,
        offered=lambda resource: resource.changed_since_review is not None,
    ),
    "unpublish": Step(
        gettext_lazy("Unpublish"),
        unpublish,
        (Status.PUBLISHED,),
        can_publish,
        bulk=Bulk(
            gettext_lazy("Unpublish selected resources"),
            ngettext_lazy(
                "Unpublished %(count)d resource: it is no longer on the public site.",
                "Unpublished %(count)d resources: they are no longer on the public site.",
                "count",
            ),
            "publish",
        ),
    ),
    "archive": Step(
        gettext_lazy("Archive"),
        archive,
        (Status.DRAFT, Status.IN_REVIEW, Status.PUBLISHED),
        can_publish,
        bulk=Bulk(
            gettext_lazy("Archive selected resources"),
            ngettext_lazy("Archived %(count)d resource.", "Archived %(count)d resources.", "count"),
            "publish",
        ),
    ),
    "restore": Step(
        gettext_lazy("Restore to draft"), restore_to_draft, (Status.ARCHIVED,), can_edit
    ),
}


def available_steps(resource: Resource, user: User) -> list[tuple[str, Step]]:
    """The steps to offer as buttons (the step itself checks again when it runs)."""
    return [
        (slug, step)
        for slug, step in STEPS.items()
        if resource.status in step.from_statuses
        and (step.offered is None or step.offered(resource))
        and step.allowed(user)
    ]
