"""Part 6 of #13: starter listings with their sources, in review (or demo with --publish-demo)."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from resources.models import Programme, Status

pytestmark = pytest.mark.django_db


def test_starter_listings_arrive_in_review_with_a_source():
    call_command("load_starter_content", verbosity=0)
    listings = Programme.objects.all()
    assert {p.slug for p in listings} >= {"onkoaktiv-network-germany", "onconet-netherlands"}
    for programme in listings:
        assert programme.status == Status.IN_REVIEW
        assert programme.is_demo and programme.source_url.startswith("https://")
        assert "Confirm" in programme.review_notes
    assert not Programme.objects.published().exists()


def test_publish_demo_shows_them_labelled_and_running_again_changes_nothing(client):
    call_command("load_starter_content", "--publish-demo", verbosity=0)
    call_command("load_starter_content", "--publish-demo", verbosity=0)
    assert Programme.objects.filter(slug="onkoaktiv-network-germany").count() == 1
    page = client.get("/de/programmes/?country=DE").content.decode()
    assert "OnkoAktiv" in page
    assert "Starteintrag" in page
