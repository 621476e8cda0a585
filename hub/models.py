"""The page cache's record of what the public sees (hub/cache.py).

Kept in the database, not in the cache: a content change and the mark that it must reach
the public commit together, so a cache outage (or a cache that lost its keys) can never bring
back a page older than the last committed change.
"""

from __future__ import annotations

from django.db import models


class ContentVersion(models.Model):
    """One row (pk 1): the token in every cached page's key.

    A random token, not a counter: a database restored from a backup, or the test suite's
    flush, can never make the key of pages rendered from other content current again.
    """

    token = models.CharField(max_length=32)
    # When the next resource marked published but dated in the future becomes public: the
    # token must change then, although nothing is saved.
    changes_at = models.DateTimeField(null=True, blank=True)
    changed_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.token


class PendingContentChange(models.Model):
    """A content change whose new token is not written yet.

    Inserted in the change's own transaction, deleted by the token change that follows its
    commit. A row that outlives its commit (the process died, or the database went away
    between the two) makes the next request change the token before it serves a cached page.
    """

    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"content change {self.pk} at {self.created_at:%Y-%m-%d %H:%M:%S}"
