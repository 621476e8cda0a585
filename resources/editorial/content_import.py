"""What every way of bringing content in shares: the spreadsheet import (spreadsheets.py), the
portable import (portable.py) and the starter loader (manage.py load_starter_content).

Each reads rows differently, but they look tags up, and word a model's validation errors for
the person who wrote the file, in the same way.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError

from ..models import Tag

TagKey = tuple[str, str]  # (vocabulary, slug)


def tags_by_key() -> dict[TagKey, Tag]:
    """Every vocabulary term, by (vocabulary, slug): one query for a whole file."""
    return {(tag.vocabulary, tag.slug): tag for tag in Tag.objects.all()}


def unknown_slugs(
    tags: dict[TagKey, Tag], vocabulary: str, slugs: Iterable[str]
) -> tuple[list[str], list[str]]:
    """The slugs that are not terms of this vocabulary, and the ones that would be accepted."""
    unknown = [slug for slug in slugs if (vocabulary, slug) not in tags]
    known = sorted(slug for vocab, slug in tags if vocab == vocabulary)
    return unknown, known


def describe(error: ValidationError) -> str:
    """A model's validation errors in one line: "field: message; other: message"."""
    if hasattr(error, "error_dict"):
        return "; ".join(
            f"{field}: {' '.join(messages)}" if field != "__all__" else " ".join(messages)
            for field, messages in error.message_dict.items()
        )
    return " ".join(error.messages)
