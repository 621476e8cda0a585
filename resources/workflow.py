"""The editorial workflow: draft → in review → published → archived.

Every step goes through one function here, so that the admin buttons, the bulk actions and
any later caller meet the same permission checks and leave the same trace: a `Transition`
row (who, when, from → to, comment) and a history version naming the step. A step that is
not allowed raises `WorkflowError` with a sentence an editor can act on.

These are writes spanning two models (resource + transition) outside a plain form save,
which is why they live in a module of their own (STYLE.md) rather than on the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Resource, Status, Tag, Transition, Vocabulary
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
    _require(
        resource.safety_edited_by_id != user.pk or is_site_admin(user),
        _(
            "You changed this resource's safety-relevant content yourself, so another "
            "clinical reviewer must approve it."
        ),
    )
    missing = resource.provenance_problems()
    _require(
        not missing,
        _(
            "The hub shows a copy of this resource, so its provenance must be recorded before "
            "approval. Add: %(missing)s."
        )
        % {"missing": "; ".join(missing)},
    )
    today = timezone.localdate()
    resource.reviewed_on = today
    resource.reviewed_by = public_name(user)
    resource.next_review_due = next_review_due or default_next_review(today)
    # A clinician has now checked the rating: it is no longer only a proposal.
    resource.rating_is_provisional = False
    resource.status = Status.PUBLISHED
    resource.published_at = resource.published_at or timezone.now()
    try:
        resource.full_clean()
    except ValidationError as error:
        raise WorkflowError(" ".join(error.messages)) from error
    return _record(
        resource,
        user,
        Status.PUBLISHED,
        comment,
        "Approved and published",
        fields=["reviewed_on", "reviewed_by", "next_review_due", "rating_is_provisional"],
        from_status=Status.IN_REVIEW,
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


# Changing any of these can change whether a resource is safe for someone: on a published
# resource the change takes it off the public site until a clinician approves it.
SAFETY_FIELDS: tuple[str, ...] = ("bone_metastasis_safety", "url", "body", "kind")
SAFETY_VOCABULARIES: tuple[str, ...] = (
    Vocabulary.MOVEMENT_FLAG,
    Vocabulary.FITNESS_LEVEL,
    Vocabulary.CANCER_STAGE,
)


def note_safety_change(resource: Resource, user: User, fields: Iterable[str]) -> str | None:
    """Mark a safety-relevant change on an unsaved resource; the caller saves it.

    Records who made the change (they may not approve it themselves). A published resource
    goes back to review and leaves the public site: no public copy of the old version is
    kept, so patients never see a rating or instruction no clinician has checked, and there
    is no second copy to drift from `Resource.objects.published()`. Returns the comment for
    the transition to log after saving, or None when the status did not change. No
    permission check: any allowed edit may trigger this, and it only ever makes the resource
    less public.
    """
    resource.safety_edited_by = user
    if resource.status != Status.PUBLISHED:
        return None
    resource.status = Status.IN_REVIEW
    resource.published_at = None
    resource._change_reason = "Back to review: safety-relevant change"
    return "Safety-relevant fields changed: " + ", ".join(sorted(set(fields)))


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
    from_status = resource.status
    comment = note_safety_change(resource, user, safety) if safety else None
    resource._history_user = user
    if safety:
        resource.save(update_fields=["status", "published_at", "safety_edited_by", "updated_at"])
    resource.tags.add(*new)
    if comment is None:
        return None
    return record_transition(resource, user, from_status, comment)


@dataclass(frozen=True)
class Step:
    """One button of the change form: what it is called and when it is offered."""

    label: str
    run: Callable[..., Transition]
    from_statuses: tuple[str, ...]
    allowed: Callable[[User], bool]
    comment_required: bool = False


STEPS: dict[str, Step] = {
    "submit": Step(gettext_lazy("Submit for review"), submit, (Status.DRAFT,), can_edit),
    "approve": Step(gettext_lazy("Approve and publish"), approve, (Status.IN_REVIEW,), can_publish),
    "send-back": Step(
        gettext_lazy("Send back to the editor"),
        send_back,
        (Status.IN_REVIEW,),
        can_review,
        comment_required=True,
    ),
    "unpublish": Step(gettext_lazy("Unpublish"), unpublish, (Status.PUBLISHED,), can_publish),
    "archive": Step(
        gettext_lazy("Archive"),
        archive,
        (Status.DRAFT, Status.IN_REVIEW, Status.PUBLISHED),
        can_publish,
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
        if resource.status in step.from_statuses and step.allowed(user)
    ]
