"""The API docs page (/api/v1/docs) works under the site's Content Security Policy.

Swagger UI comes from the files django-ninja bundles, served by us, and starts from an external
script: no inline code, no CDN, no third-party request, no cookie.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import Traffic
from tests.factories import ResourceFactory

pytestmark = [
    pytest.mark.browser,
    # The live server (another thread) must see what the test writes: commit it.
    pytest.mark.django_db(transaction=True),
]


def test_api_docs_render_and_try_a_request_under_the_csp(live_server, page) -> None:
    # Swagger UI fills in the schema's example values: gentle or moderate, metastatic, balance.
    ResourceFactory(
        title="Seated breathing",
        tags={"level": ["gentle"], "stage": ["metastatic"], "type": ["balance"]},
    )
    traffic = Traffic(page, live_server.url)

    response = page.goto(live_server.url + "/api/v1/docs")
    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]

    # Swagger UI drew the operations from the schema it fetched from our origin.
    page.get_by_text("Physical Activity Resource Hub API").first.wait_for()
    operation = page.locator(".opblock-get").filter(has_text="/api/v1/resources/").first
    operation.wait_for()
    assert page.locator(".opblock-get").count() == 3

    # "Try it out" sends a real request from the page (connect-src 'self').
    operation.locator(".opblock-summary").click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    status = page.locator(".live-responses-table tr.response td.response-col_status").first
    status.wait_for()
    assert status.inner_text().strip().startswith("200")
    assert "Seated breathing" in page.locator(".live-responses-table").inner_text()

    page.wait_for_load_state("networkidle")
    assert traffic.csp_violations == []
    assert traffic.elsewhere == []
    assert any("/static/ninja/swagger-ui-bundle" in url for url in traffic.requests)
    assert any(url.endswith("/api/v1/openapi.json") for url in traffic.requests)
    assert page.context.cookies() == []
