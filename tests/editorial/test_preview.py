"""Staff preview: an unpublished resource exactly as the public would see it, to staff only.

The preview must never leak: not to anonymous visitors, not to signed-in non-staff, not into
caches, search indexes, the sitemap or feeds.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY

from resources.models import Resource
from tests.factories import ResourceFactory

pytestmark = pytest.mark.django_db


def preview_url(resource: Resource | int) -> str:
    pk = resource if isinstance(resource, int) else resource.pk
    return f"/en/preview/{pk}/"


@pytest.fixture
def draft() -> Resource:
    return ResourceFactory(title="Secret draft routine", slug="secret-draft-routine", draft=True)


def article(html: str) -> str:
    match = re.search(r"<article.*?</article>", html, re.S)
    assert match, "no <article> on the page"
    return match.group(0)


def test_editor_sees_a_draft_with_a_not_public_banner(editor, draft):
    response = editor.get(preview_url(draft))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Secret draft routine" in html
    assert "Preview — not public" in html
    assert html.count("<h1") == 1
    assert f'href="/admin/resources/resource/{draft.pk}/change/"' in html


def test_preview_renders_the_public_detail_template(editor, draft):
    response = editor.get(preview_url(draft))
    assert "resources/detail.html" in [template.name for template in response.templates]


def test_preview_of_a_published_resource_matches_the_public_page(editor, client):
    resource = ResourceFactory(
        title="Public routine", tags={"level": ["gentle"], "type": ["balance"]}
    )
    public = client.get(resource.get_absolute_url()).content.decode()
    preview = editor.get(preview_url(resource)).content.decode()
    assert article(preview) == article(public)
    assert "Preview — not public" not in preview
    assert "this resource is published" in preview


def test_preview_is_never_cached_and_never_indexed(editor, draft):
    response = editor.get(preview_url(draft))
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"private", "no-store", "no-cache"} <= cache_control
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert '<meta name="robots" content="noindex">' in response.content.decode()


def test_anonymous_visitors_are_sent_to_the_admin_login(client, draft):
    response = client.get(preview_url(draft))
    assert response.status_code == 302
    assert response["Location"] == f"/admin/login/?next=/en/preview/{draft.pk}/"
    assert b"Secret draft routine" not in response.content


def test_anonymous_visitors_cannot_tell_whether_a_resource_exists(client, draft):
    missing = client.get(preview_url(draft.pk + 1000))
    existing = client.get(preview_url(draft))
    assert missing.status_code == existing.status_code == 302


def test_signed_in_non_staff_are_refused(draft):
    user = User.objects.create_user("patient", password="a long patient password")
    client = Client()
    client.force_login(user)
    response = client.get(preview_url(draft))
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert b"Secret draft routine" not in response.content


def test_staff_without_the_view_permission_are_refused(draft):
    user = User.objects.create_user("helper", password="a long helper password", is_staff=True)
    client = Client()
    client.force_login(user)
    response = client.get(preview_url(draft))
    assert response.status_code == 302
    assert b"Secret draft routine" not in response.content


def test_staff_without_the_second_factor_are_refused(settings, editor, draft):
    settings.HUB_ADMIN_REQUIRE_2FA = True
    session = editor.session
    del session[DEVICE_ID_SESSION_KEY]
    session.save()
    response = editor.get(preview_url(draft))
    assert response.status_code == 302
    assert b"Secret draft routine" not in response.content


@pytest.mark.parametrize("pk", [999_999, 10**30])
def test_unknown_resource_is_404_for_staff(editor, pk):
    assert editor.get(preview_url(pk)).status_code == 404


def test_preview_only_answers_get_and_head(editor, draft):
    assert editor.post(preview_url(draft)).status_code == 405


def test_the_draft_stays_off_every_public_page(client, draft):
    assert client.get(draft.get_absolute_url()).status_code == 404
    for path in ["/en/resources/", "/sitemap.xml", "/en/feeds/rss/", "/en/feeds/atom/"]:
        response = client.get(path)
        assert response.status_code == 200, path
        body = response.content.decode()
        assert "Secret draft routine" not in body, path
        assert "secret-draft-routine" not in body, path
        assert "/preview/" not in body, path


def test_robots_txt_keeps_previews_out_of_indexes(client):
    text = client.get("/robots.txt").content.decode()
    # The preview lives below a language prefix: /en/preview/<pk>/.
    assert "Disallow: /*/preview/" in text
