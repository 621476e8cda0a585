"""The live preview of a guide body in the change form: staff only, sanitised, size-limited."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from resources.editorial.preview import MARKDOWN_PREVIEW_MAX_CHARS
from resources.text import render_markdown

pytestmark = pytest.mark.django_db

ENDPOINT = "/en/preview/markdown/"

HOSTILE = """\
# Warm up

Walk slowly for **five minutes**.

<script>alert("x")</script>
<img src="https://tracker.example/pixel.gif" onerror="alert(1)">

[Click](javascript:alert(1)) and [our guide](https://charity.example.org/guide)
"""


def test_editor_gets_the_body_as_the_public_page_renders_it(editor):
    response = editor.post(ENDPOINT, {"body": HOSTILE})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    html = response.content.decode()
    assert html == str(render_markdown(HOSTILE))
    assert "<h2" in html and "Warm up" in html
    assert "<strong>five minutes</strong>" in html
    assert 'href="https://charity.example.org/guide"' in html
    for forbidden in ("<script", "<img", "onerror", "javascript:", "tracker.example"):
        assert forbidden not in html


def test_preview_is_not_cached(editor):
    response = editor.post(ENDPOINT, {"body": "Hello"})
    assert "no-store" in response["Cache-Control"]


def test_anonymous_visitors_are_refused(client):
    response = client.post(ENDPOINT, {"body": "# Hi"})
    assert response.status_code == 403
    assert "<h2" not in response.content.decode()


@pytest.mark.parametrize("is_staff", [False, True])
def test_users_who_cannot_edit_resources_are_refused(is_staff):
    user = User.objects.create_user("someone", password="a long password here", is_staff=is_staff)
    client = Client()
    client.force_login(user)
    response = client.post(ENDPOINT, {"body": "# Hi"})
    assert response.status_code == 403
    assert "Only editors signed in to the admin can preview guides." in response.content.decode()


def test_oversized_text_is_refused_with_a_readable_400(editor):
    response = editor.post(ENDPOINT, {"body": "a" * (MARKDOWN_PREVIEW_MAX_CHARS + 1)})
    assert response.status_code == 400
    assert "too long to preview" in response.content.decode()


def test_text_at_the_limit_is_previewed(editor):
    response = editor.post(ENDPOINT, {"body": "a" * MARKDOWN_PREVIEW_MAX_CHARS})
    assert response.status_code == 200


def test_get_is_not_allowed(editor):
    assert editor.get(ENDPOINT).status_code == 405


def test_post_without_csrf_token_is_refused(editor_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor_user)
    response = client.post(ENDPOINT, {"body": "# Hi"})
    assert response.status_code == 403
    assert "<h2" not in response.content.decode()


def test_change_form_loads_the_preview_script_and_names_the_endpoint(editor):
    html = editor.get("/admin/resources/resource/add/").content.decode()
    assert "js/admin-markdown-preview" in html
    assert f'data-markdown-preview-url="{ENDPOINT}"' in html
    assert 'data-preview-heading="Preview: how the guide will look"' in html
