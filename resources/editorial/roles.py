"""The three editorial roles and the questions the admin asks about a user's role.

The groups themselves are created by migration 0010 with exactly the permissions listed here
(the migration keeps its own frozen copy; tests/editorial/test_roles.py checks both agree). Code
asks *what may this user do* through the small functions below, never by group name, so that a
superuser and a "Site admin" member are treated alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    AnyUser = AbstractBaseUser | AnonymousUser

EDITOR = "Editor"
CLINICAL_REVIEWER = "Clinical reviewer"
SITE_ADMIN = "Site admin"

# "app_label.codename". Editors curate content; they never rate safety or publish.
EDITOR_PERMISSIONS: tuple[str, ...] = (
    "resources.add_resource",
    "resources.change_resource",
    "resources.view_resource",
    "resources.add_organisation",
    "resources.change_organisation",
    "resources.view_organisation",
    "resources.view_tag",
    "resources.view_linkcheck",
    "resources.view_transition",
)
# Reviewers can do what editors do, and rate, flag, approve, publish, send back, archive.
CLINICAL_REVIEWER_PERMISSIONS: tuple[str, ...] = (
    *EDITOR_PERMISSIONS,
    "resources.review_resource",
    "resources.publish_resource",
)
# Site admins get every permission of these apps, user and group management included.
SITE_ADMIN_APPS: tuple[str, ...] = ("auth", "resources", "admin", "otp_totp", "axes")

REVIEW_PERMISSION = "resources.review_resource"
PUBLISH_PERMISSION = "resources.publish_resource"
CHANGE_PERMISSION = "resources.change_resource"


def is_site_admin(user: AnyUser) -> bool:
    """Superusers and members of "Site admin": the only ones who may approve their own edits."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or user.groups.filter(name=SITE_ADMIN).exists()


def can_review(user: AnyUser) -> bool:
    """May set safety ratings, review dates and movement flags, and send work back."""
    return user.has_perm(REVIEW_PERMISSION)


def can_publish(user: AnyUser) -> bool:
    """May approve, publish, unpublish and archive."""
    return user.has_perm(PUBLISH_PERMISSION)


def can_edit(user: AnyUser) -> bool:
    return user.has_perm(CHANGE_PERMISSION)


def public_name(user: AnyUser) -> str:
    """The name shown publicly as "reviewed by" and in the workflow log."""
    return (user.get_full_name() or user.get_username()).strip()
