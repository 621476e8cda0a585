"""The editorial steps for programme listings: the resource workflow's rules, applied to
`Programme` (resources/workflow.py explains the steps).

Same roles as resources (resources/roles.py): editors submit, clinical reviewers approve,
unpublish and archive. Each step is one history version named after it, with who took it.
A listing needs the date its details were last checked before it can be published, and
"mark as checked" records that check (who and when) without changing the status.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from resources.editorial.roles import can_edit, can_publish, public_name
from resources.editorial.workflow import WorkflowError
from resources.models import Programme, Status

if TYPE_CHECKING:
    from collections.abc import Iterable

    from django.contrib.auth.models import User


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise WorkflowError(message)


@transaction.atomic
def _record(
    programme: Programme, user: User, to_status: str, reason: str, fields: Iterable[str] = ()
) -> None:
    programme.status = to_status
    programme._change_reason = reason
    programme._history_user = user
    programme.save(update_fields=["status", "published_at", *fields, "updated_at"])


def submit(programme: Programme, user: User) -> None:
    _require(can_edit(user), _("Only editors and reviewers can submit a listing for review."))
    _require(programme.status == Status.DRAFT, _("Only a draft can be submitted for review."))
    _record(programme, user, Status.IN_REVIEW, "Submitted for review")


def approve(programme: Programme, user: User) -> None:
    """Publish a listing in review, after the same checks as the change form."""
    _require(can_publish(user), _("Only a clinical reviewer can approve and publish."))
    _require(
        programme.status == Status.IN_REVIEW,
        _("Only a listing that is in review can be approved. Submit it for review first."),
    )
    programme.status = Status.PUBLISHED
    programme.published_at = programme.published_at or timezone.now()
    try:
        programme.full_clean()
    except ValidationError as error:
        programme.status = Status.IN_REVIEW
        raise WorkflowError(" ".join(error.messages)) from error
    _record(programme, user, Status.PUBLISHED, "Approved and published")


def unpublish(programme: Programme, user: User) -> None:
    _require(can_publish(user), _("Only a clinical reviewer can unpublish a listing."))
    _require(programme.status == Status.PUBLISHED, _("This listing is not published."))
    programme.published_at = None
    _record(programme, user, Status.DRAFT, "Unpublished")


def archive(programme: Programme, user: User) -> None:
    _require(can_publish(user), _("Only a clinical reviewer can archive a listing."))
    _require(programme.status != Status.ARCHIVED, _("This listing is already archived."))
    programme.published_at = None
    _record(programme, user, Status.ARCHIVED, "Archived")


def mark_checked(programme: Programme, user: User) -> None:
    """Someone confirmed the details with the programme today (HSDS assured_date/assurer)."""
    _require(can_edit(user), _("Only editors and reviewers can confirm a listing."))
    programme.assured_date = timezone.localdate()
    programme.assurer = public_name(user)
    programme._change_reason = "Details checked"
    programme._history_user = user
    programme.save(update_fields=["assured_date", "assurer", "updated_at"])
