"""Error pages (400, 403, 404, 500, 503) in every language, working without the database.

Rendered through the handlers Django itself calls (the URLconf's handler400/403/404/500 and the
outage middleware's 503), each must carry the page's language, one <h1> and a skip link, and
have every sentence marked for translation (the translations themselves come later).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.test import RequestFactory
from django.urls import get_resolver
from django.utils import translation

from hub.middleware import service_unavailable

from .test_outage import database_unreachable

LANGUAGES = [code for code, _name in settings.LANGUAGES]
TEMPLATES = Path(settings.BASE_DIR) / "templates"


def handler_response(status: int, request: HttpRequest) -> HttpResponse:
    """What Django answers for this status: the URLconf's own handler (or the outage 503)."""
    if status == 503:
        return service_unavailable(request)
    handler = get_resolver().resolve_error_handler(status)
    if status == 500:
        return handler(request)
    exception = {400: SuspiciousOperation, 403: PermissionDenied, 404: Http404}[status]
    return handler(request, exception=exception("test"))


def assert_error_page(response: HttpResponse, status: int, language: str) -> None:
    assert response.status_code == status
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    assert len(re.findall(r"<h1[\s>]", html)) == 1
    assert 'class="skip-link" href="#main"' in html
    assert '<main id="main"' in html
    assert "Traceback" not in html


# No django_db mark in this test: any query, or even a connection, would raise.
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("status", [400, 403, 404, 500, 503])
def test_error_page_renders_in_each_language_without_the_database(status, language):
    request = RequestFactory().get(f"/{language}/somewhere/")
    with translation.override(language):
        response = handler_response(status, request)
    assert_error_page(response, status, language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_request_for_an_unknown_host_gets_the_400_page_in_its_language(client, language):
    client.raise_request_exception = False
    response = client.get(f"/{language}/", headers={"host": "attacker.example"})
    assert_error_page(response, 400, language)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_404_page_is_served_while_the_database_is_down(client, language):
    client.raise_request_exception = False
    with database_unreachable():
        response = client.get(f"/{language}/no-such-page/")
    assert_error_page(response, 404, language)


def untranslated_text(source: str) -> str:
    """What a template would show that is not inside a translation tag."""
    source = re.sub(r"{%\s*blocktranslate.*?{%\s*endblocktranslate\s*%}", "", source, flags=re.S)
    source = re.sub(r"{#.*?#}|{%.*?%}|{{.*?}}", "", source, flags=re.S)
    source = re.sub(r"<!DOCTYPE html>|<[^>]*>", "", source)
    return re.sub(r"[\s·]+", " ", source).strip()


@pytest.mark.parametrize("name", ["400.html", "403.html", "404.html", "500.html", "503.html"])
def test_every_sentence_of_the_error_pages_is_marked_for_translation(name):
    assert untranslated_text((TEMPLATES / name).read_text()) == ""
