"""factory_boy factories. A ResourceFactory default is what the public sees: published,
clinically reviewed, generally suitable. Tests override only what they check.

Vocabulary tags come from migration 0002 and are looked up, never created here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import factory
from django.utils import timezone
from django.utils.text import slugify
from factory.django import DjangoModelFactory

from resources.models import BoneSafety, Kind, Organisation, Resource, Status, Tag

YOUTUBE_URL = "https://www.youtube.com/watch?v=vtA1R87lkv8"
VIMEO_URL = "https://vimeo.com/76979871"

GUIDE_BODY = """\
# Before you start

Sit on a sturdy chair without wheels, with your feet flat on the floor.

## The routine

1. Lift one knee a little, then lower it. Repeat five times on each side.
2. Press your palms together in front of your chest for a count of five.

Stop if anything hurts.
"""


def publish(resource: Resource, when: datetime | None = None) -> None:
    """Publish directly, after the checks an editor meets in the form (raises ValidationError).

    For arranging tests only: the site itself publishes through resources/editorial/workflow.py,
    which also checks the user's role and records the step.
    """
    resource.status = Status.PUBLISHED
    resource.published_at = resource.published_at or when or timezone.now()
    resource.full_clean()
    resource.save()


def tags_for(slugs_by_vocabulary: dict[str, Iterable[str]]) -> list[Tag]:
    """The seeded tags for these slugs; an unknown slug is a mistake in the test."""
    wanted = {
        (vocabulary, slug) for vocabulary, slugs in slugs_by_vocabulary.items() for slug in slugs
    }
    found = {
        (tag.vocabulary, tag.slug): tag
        for tag in Tag.objects.filter(
            vocabulary__in=list(slugs_by_vocabulary),
            slug__in=[slug for _, slug in wanted],
        )
    }
    unknown = wanted - found.keys()
    if unknown:
        raise LookupError(f"No such seeded tags: {sorted(unknown)}")
    return [found[key] for key in sorted(wanted)]


class OrganisationFactory(DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Cancer Support Charity {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))
    website = "https://charity.example.org/"
    country = "GB"


class ResourceFactory(DjangoModelFactory):
    class Meta:
        model = Resource
        skip_postgeneration_save = True

    kind = Kind.GUIDE
    title = factory.Sequence(lambda n: f"Chair exercises, part {n}")
    slug = factory.LazyAttributeSequence(lambda o, n: f"{slugify(o.title)[:60]}-{n}")
    summary = "A short routine you can do sitting down, at your own pace."
    body = GUIDE_BODY
    url = ""
    duration_minutes = 15
    language = "en"
    organisation = factory.SubFactory(OrganisationFactory)
    bone_metastasis_safety = BoneSafety.SUITABLE
    rating_is_provisional = False
    status = Status.PUBLISHED
    published_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    reviewed_by = "A. Reviewer, physiotherapist"
    reviewed_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=30))

    class Params:
        draft = factory.Trait(status=Status.DRAFT, published_at=None)
        in_review = factory.Trait(status=Status.IN_REVIEW, published_at=None)
        archived = factory.Trait(status=Status.ARCHIVED)
        # Not yet looked at by a clinician: can only be a draft or in review.
        unreviewed = factory.Trait(
            status=Status.DRAFT,
            published_at=None,
            bone_metastasis_safety=BoneSafety.NOT_REVIEWED,
            reviewed_by="",
            reviewed_on=None,
        )
        scheduled = factory.Trait(
            published_at=factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
        )
        # Starter or demo content: a proposed rating, no named reviewer.
        provisional = factory.Trait(rating_is_provisional=True, reviewed_by="")
        video = factory.Trait(kind=Kind.VIDEO, url=YOUTUBE_URL, body="", duration_minutes=12)
        vimeo = factory.Trait(kind=Kind.VIDEO, url=VIMEO_URL, body="", duration_minutes=20)
        link = factory.Trait(kind=Kind.LINK, url="https://charity.example.org/moving-more", body="")
        programme = factory.Trait(
            kind=Kind.PROGRAMME, url="https://charity.example.org/find-a-class", body=""
        )

    @factory.post_generation
    def tags(self, create: bool, extracted: dict[str, Iterable[str]] | None, **kwargs: Any) -> None:
        """`ResourceFactory(tags={"level": ["gentle"], "type": ["balance"]})`."""
        if not create or not extracted:
            return
        self.tags.set(tags_for(extracted))  # tags_for fails loudly on a typo
