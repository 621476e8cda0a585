"""Programme listings as the public sees them by default: published, checked last month."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone
from django.utils.text import slugify
from factory.django import DjangoModelFactory

from resources.models import (
    BoneAcceptance,
    Cost,
    Delivery,
    Programme,
    ProgrammeLocation,
    Referral,
    Status,
)
from tests.factories import OrganisationFactory

# Utrecht city centre and Amsterdam, for distance tests (rounded like the page's script).
UTRECHT = (Decimal("52.09"), Decimal("5.12"))
AMSTERDAM = (Decimal("52.37"), Decimal("4.90"))
BERLIN = (Decimal("52.52"), Decimal("13.40"))


class ProgrammeFactory(DjangoModelFactory):
    class Meta:
        model = Programme
        skip_postgeneration_save = True

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Strong Together exercise group {n}")
    slug = factory.LazyAttributeSequence(lambda o, n: f"{slugify(o.name)[:60]}-{n}")
    description = "Twice-weekly exercise with a physiotherapist, in small groups."
    url = "https://programme.example.org/"
    referral = Referral.EITHER
    eligibility_description = "Adults with breast cancer at any stage."
    bone_metastases = BoneAcceptance.ACCEPTED
    cost = Cost.FREE
    languages = "en"
    delivery = Delivery.IN_PERSON
    service_area = ""
    schedule = "Tuesdays and Thursdays, 10:00"
    assured_date = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=30))
    assurer = "E. Editor"
    status = Status.PUBLISHED
    published_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))

    class Params:
        draft = factory.Trait(status=Status.DRAFT, published_at=None)
        in_review = factory.Trait(status=Status.IN_REVIEW, published_at=None)
        online = factory.Trait(delivery=Delivery.ONLINE, service_area="Anywhere")

    @factory.post_generation
    def located(self, create: bool, extracted, **kwargs) -> None:
        """`ProgrammeFactory(located=("Utrecht", "NL", UTRECHT))` adds one location."""
        if not create or not extracted:
            return
        city, country, point = extracted
        ProgrammeLocation.objects.create(
            programme=self,
            city=city,
            country=country,
            postal_code=kwargs.get("postal_code", ""),
            latitude=point[0] if point else None,
            longitude=point[1] if point else None,
        )
