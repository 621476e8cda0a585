"""Public content changed: every cached page must be rebuilt (hub/cache.py).

Connected in `ResourcesConfig.ready()`. A resource (its tags and translation links included),
a vocabulary term, an organisation or a partner (the widget's `frame-ancestors`) appears on
public pages, so saving or deleting any of them bumps the page cache's content version once
the transaction commits. Referral counts, link checks, workflow transitions and history rows
are not public content and do not.

`QuerySet.update()` sends no signal: code that changes these models with it must call
`hub.cache.content_changed()` itself.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import m2m_changed, post_delete, post_save

from hub.cache import content_changed

from .models import Organisation, Partner, Programme, ProgrammeLocation, Resource, Tag

CONTENT_MODELS = (Resource, Tag, Organisation, Partner, Programme, ProgrammeLocation)
CONTENT_RELATIONS = (
    Resource.tags.through,
    Resource.translations.through,
    Programme.stages.through,
)
# m2m_changed also fires before each change ("pre_add", …): one bump after it is enough.
_M2M_DONE = frozenset({"post_add", "post_remove", "post_clear"})


def _saved_or_deleted(sender: type, using: str, **kwargs: Any) -> None:
    content_changed(using)


def _relation_changed(sender: type, action: str, using: str, **kwargs: Any) -> None:
    if action in _M2M_DONE:
        content_changed(using)


def connect() -> None:
    for model in CONTENT_MODELS:
        uid = f"hub.cache.{model._meta.label_lower}"
        post_save.connect(_saved_or_deleted, sender=model, dispatch_uid=f"{uid}.save")
        post_delete.connect(_saved_or_deleted, sender=model, dispatch_uid=f"{uid}.delete")
    for through in CONTENT_RELATIONS:
        m2m_changed.connect(
            _relation_changed, sender=through, dispatch_uid=f"hub.cache.{through._meta.label_lower}"
        )
