"""Referral counts without tracking: one number per partner per day, nothing per person."""

from __future__ import annotations

from datetime import date
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.db import DatabaseError, connection
from django.db.models import QuerySet
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from resources.clinics.referrals import record_referral
from resources.models import Partner, ReferralCount

from ..factories import ResourceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def partner() -> Partner:
    return Partner.objects.create(name="St Example Hospital", slug="st-example")


def visits(partner: Partner) -> dict[date, int]:
    return dict(ReferralCount.objects.filter(partner=partner).values_list("day", "visits"))


def test_each_visit_through_a_partner_link_adds_one_to_todays_count(client, partner):
    resource = ResourceFactory()
    client.get("/en/?ref=st-example")
    client.get(f"{resource.get_absolute_url()}?ref=st-example")
    client.get("/de/safety/?ref=st-example")
    assert visits(partner) == {timezone.localdate(): 3}


def test_counts_are_one_row_per_partner_and_day(client, partner):
    other = Partner.objects.create(name="Other Clinic", slug="other-clinic")
    monday, tuesday = date(2026, 3, 2), date(2026, 3, 3)
    with mock.patch("resources.clinics.referrals.timezone.localdate", return_value=monday):
        client.get("/en/?ref=st-example")
        client.get("/en/?ref=st-example")
        client.get("/en/?ref=other-clinic")
    with mock.patch("resources.clinics.referrals.timezone.localdate", return_value=tuesday):
        client.get("/en/?ref=st-example")
    assert visits(partner) == {monday: 2, tuesday: 1}
    assert visits(other) == {monday: 1}
    assert ReferralCount.objects.count() == 3


def test_a_browse_link_with_ref_counts_once_and_moves_to_the_canonical_address(client, partner):
    response = client.get("/en/resources/?ref=st-example&level=gentle", follow=True)
    assert response.redirect_chain == [("/en/resources/?level=gentle", 301)]
    assert visits(partner) == {timezone.localdate(): 1}


@pytest.mark.parametrize(
    ("url", "lands_on"),
    [
        ("/?ref=st-example", "/en/?ref=st-example"),
        ("/en/resources?ref=st-example&level=gentle", "/en/resources/?level=gentle"),
    ],
)
def test_a_redirect_that_keeps_ref_counts_where_it_leads_not_twice(client, partner, url, lands_on):
    response = client.get(url, follow=True)
    assert response.redirect_chain[-1][0] == lands_on
    assert response.status_code == 200
    assert response.content.count(b"<h1") == 1
    assert visits(partner) == {timezone.localdate(): 1}


def test_counting_sets_no_cookie_and_keeps_nothing_about_the_person(client, partner):
    response = client.get(
        "/en/?ref=st-example",
        headers={"user-agent": "Phone browser", "x-forwarded-for": "203.0.113.7"},
        REMOTE_ADDR="198.51.100.23",
    )
    assert not response.cookies
    assert "Set-Cookie" not in response.headers
    fields = {field.name for field in ReferralCount._meta.concrete_fields}
    assert fields == {"id", "partner", "day", "visits"}
    row = ReferralCount.objects.values().get()
    assert "198.51.100.23" not in str(row)
    assert "203.0.113.7" not in str(row)


@pytest.mark.parametrize("ref", ["nobody", "closed-clinic", "", "st-example;drop", "x" * 60])
def test_unknown_or_inactive_partners_are_not_counted(client, partner, ref):
    Partner.objects.create(name="Closed clinic", slug="closed-clinic", active=False)
    response = client.get("/en/", {"ref": ref})
    assert response.status_code == 200
    assert not ReferralCount.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "/admin/login/?ref=st-example",
        "/api/v1/resources/?ref=st-example",
        "/embed/resources/?ref=st-example",
        "/en/for-clinics/?ref=st-example",
        "/en/for-clinics/handout/?ref=st-example",
        "/en/for-clinics/qr.png?ref=st-example",
        "/en/feeds/rss/?ref=st-example",
        "/robots.txt?ref=st-example",
        "/static/css/hub.css?ref=st-example",
    ],
)
def test_admin_api_widget_and_the_link_builder_are_not_counted(client, partner, url):
    client.get(url)
    assert not ReferralCount.objects.exists()


def test_only_get_requests_are_counted(client, partner):
    client.head("/en/?ref=st-example")
    client.post("/en/?ref=st-example")
    assert not ReferralCount.objects.exists()


def test_two_visits_racing_for_the_first_row_of_the_day_both_count(partner):
    """Our UPDATE found no row; before our INSERT, another request inserted it. The unique
    constraint refuses our INSERT, and we add to their row instead."""
    real_update = QuerySet.update
    calls: list[dict] = []

    def update_before_the_other_request_inserts(self, **kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            ReferralCount.objects.create(partner=partner, day=timezone.localdate(), visits=1)
            return 0
        return real_update(self, **kwargs)

    with mock.patch.object(
        QuerySet, "update", autospec=True, side_effect=update_before_the_other_request_inserts
    ):
        assert record_referral("st-example")
    assert visits(partner) == {timezone.localdate(): 2}
    # The transaction is still usable after the refused insert.
    assert record_referral("st-example")
    assert visits(partner) == {timezone.localdate(): 3}


def test_a_database_error_while_counting_still_serves_the_page(client, partner):
    with mock.patch("resources.clinics.referrals.record_referral", side_effect=DatabaseError):
        response = client.get("/en/?ref=st-example")
    assert response.status_code == 200
    assert response.content.count(b"<h1") == 1  # the home page itself, not an error page
    assert not ReferralCount.objects.exists()


def test_a_counted_visit_stays_within_the_query_budget(client, partner):
    ResourceFactory.create_batch(4)
    ReferralCount.objects.create(partner=partner, day=timezone.localdate(), visits=5)
    with CaptureQueriesContext(connection) as queries:
        client.get("/en/?ref=st-example")
    assert len(queries) <= 8
    assert visits(partner) == {timezone.localdate(): 6}


def test_site_admins_see_the_counts_in_the_admin(partner):
    ReferralCount.objects.create(partner=partner, day=date(2026, 3, 2), visits=42)
    admin = User.objects.create_superuser("admin", "admin@example.org", "a long admin password")
    client = Client()
    client.force_login(admin)
    response = client.get("/admin/resources/referralcount/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "St Example Hospital" in page
    assert ">42<" in page


def test_editors_who_are_not_superusers_cannot_see_the_counts(editor, partner):
    ReferralCount.objects.create(partner=partner, day=date(2026, 3, 2), visits=42)
    assert editor.get("/admin/resources/referralcount/").status_code == 403
    assert "Referral counts" not in editor.get("/admin/").content.decode()
