"""Part 4 of #13: "report a problem" from every programme and resource page to the editors."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from resources.models import BoneAcceptance, ProblemReport
from resources.programmes.reports import REPORTS_PER_HOUR
from tests.factories import ResourceFactory

from .factories import ProgrammeFactory

pytestmark = pytest.mark.django_db

MESSAGE = "The phone number on this page no longer works."


def report_url(kind: str, slug: str) -> str:
    return reverse("resources:report-problem", args=[kind, slug])


def post(client: Client, url: str, **data: str):
    page = client.get(url)
    token = page.cookies[settings.CSRF_COOKIE_NAME].value
    return client.post(url, {"csrfmiddlewaretoken": token, **data})


def test_programme_and_resource_pages_link_to_the_form_and_set_no_cookie(client):
    programme = ProgrammeFactory()
    resource = ResourceFactory()
    for page_url, kind, slug in (
        (programme.get_absolute_url(), "programme", programme.slug),
        (resource.get_absolute_url(), "resource", resource.slug),
    ):
        page = client.get(page_url)
        assert report_url(kind, slug) in page.content.decode()
        assert not page.cookies


def test_the_form_page_is_the_one_that_sets_the_csrf_cookie(client):
    programme = ProgrammeFactory()
    page = client.get(report_url("programme", programme.slug))
    assert page.status_code == 200
    assert settings.CSRF_COOKIE_NAME in page.cookies
    assert "no-cache" in page["Cache-Control"] or "no-store" in page["Cache-Control"]
    assert page.content.decode().count("<h1") == 1


def test_a_report_lands_in_the_editors_queue_without_the_address():
    client = Client(enforce_csrf_checks=True, REMOTE_ADDR="203.0.113.7")
    programme = ProgrammeFactory()
    response = post(client, report_url("programme", programme.slug), message=MESSAGE, contact="")
    assert response.status_code == 302
    report = ProblemReport.objects.get()
    assert report.programme == programme and report.message == MESSAGE
    assert report.state == ProblemReport.State.OPEN
    assert "203.0.113.7" not in str(ProblemReport.objects.values().get())
    assert "Thank you" in client.get(response["Location"]).content.decode()


def test_a_post_without_the_token_is_refused():
    client = Client(enforce_csrf_checks=True)
    programme = ProgrammeFactory()
    response = client.post(report_url("programme", programme.slug), {"message": MESSAGE})
    assert response.status_code == 403
    assert not ProblemReport.objects.exists()


def test_the_honeypot_keeps_nothing(client):
    programme = ProgrammeFactory()
    response = post(
        client, report_url("programme", programme.slug), message=MESSAGE, website="spam.example"
    )
    assert response.status_code == 302
    assert not ProblemReport.objects.exists()


@pytest.mark.parametrize(
    "data",
    [{"message": "short"}, {"message": "x" * 2001}, {"message": MESSAGE, "contact": "c" * 201}],
)
def test_length_limits_are_form_errors(client, data):
    programme = ProgrammeFactory()
    response = post(client, report_url("programme", programme.slug), **data)
    assert response.status_code == 400
    assert "Please correct the fields marked below." in response.content.decode()
    assert not ProblemReport.objects.exists()


def test_reports_are_rate_limited_per_address():
    programme = ProgrammeFactory()
    url = report_url("programme", programme.slug)
    one = Client(REMOTE_ADDR="198.51.100.1")
    for _ in range(REPORTS_PER_HOUR):
        assert post(one, url, message=MESSAGE).status_code == 302
    refused = post(one, url, message=MESSAGE)
    assert refused.status_code == 429
    assert "many reports from here" in refused.content.decode()
    other = Client(REMOTE_ADDR="198.51.100.2")
    assert post(other, url, message=MESSAGE).status_code == 302
    assert ProblemReport.objects.count() == REPORTS_PER_HOUR + 1


def test_the_rate_limit_stores_a_salted_hash_not_the_address():
    from django.core.cache import cache

    programme = ProgrammeFactory()
    post(
        Client(REMOTE_ADDR="198.51.100.9"), report_url("programme", programme.slug), message=MESSAGE
    )
    keys = list(getattr(cache, "_cache", {}).keys())
    assert keys, "the local-memory cache holds the counter"
    assert not any("198.51.100.9" in str(key) for key in keys)


def test_unknown_kinds_and_drafts_have_no_form(client):
    draft = ProgrammeFactory(draft=True)
    assert client.get(report_url("programme", draft.slug)).status_code == 404
    assert client.get(report_url("listing", draft.slug)).status_code == 404


def test_an_editor_corrects_a_listing_from_a_report(client, editor):
    programme = ProgrammeFactory(phone="030 123 4567", bone_metastases=BoneAcceptance.ACCEPTED)
    post(client, report_url("programme", programme.slug), message=MESSAGE)
    index = editor.get(reverse("admin:index")).content.decode()
    assert MESSAGE[:40] in index
    report = ProblemReport.objects.get()
    change = editor.get(reverse("admin:resources_problemreport_change", args=[report.pk]))
    assert reverse("admin:resources_programme_change", args=[programme.pk]) in (
        change.content.decode()
    )
    programme.phone = "030 765 4321"
    programme.save()
    response = editor.post(
        reverse("admin:resources_problemreport_change", args=[report.pk]),
        {"state": "fixed", "editor_notes": "Called them; new number."},
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.state == ProblemReport.State.FIXED
    assert MESSAGE[:40] not in editor.get(reverse("admin:index")).content.decode()
    assert "030 765 4321" in client.get(programme.get_absolute_url()).content.decode()
