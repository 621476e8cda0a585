"""Vocabulary names and descriptions in every site language (django-modeltranslation).

`Tag.name` and `Tag.description` read the column of the active language (`name_de` on
`/de/…`), falling back to English where a translation is empty. The seeded terms' translations
are in migration 0006.
"""

from modeltranslation.translator import TranslationOptions, register

from .models import Tag


@register(Tag)
class TagTranslationOptions(TranslationOptions):
    fields = ("name", "description")
