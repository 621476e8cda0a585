"""Schemathesis against the API's own OpenAPI schema: generated requests to every operation
never cause a server error, and every answer matches what the schema promises.

The schema is read from the running application (in-process WSGI, no network). Generation is
bounded (`max_examples`) so the suite stays quick; the data is a few published resources and a
draft, which must never come back.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from django.test import override_settings
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from hub.wsgi import application
from resources.models import BoneSafety, Kind

from ..factories import VIMEO_URL, YOUTUBE_URL, ResourceFactory

# Not `positive_data_acceptance`: filter values are declared as free strings (tag slugs live in
# the database), so a schema-valid value may still be an unknown slug, which is a 400 on purpose.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]

# Loaded on import, where no test may use the database: with the page cache off, serving the
# schema reads nothing from it (the page cache's content version is kept in the database).
with override_settings(HUB_PAGE_CACHE_SECONDS=0):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture
def _keep_the_test_transaction() -> Iterator[None]:
    """Requests go through the real WSGI handler, whose request signals close a connection
    left inside a transaction: on PostgreSQL, the test's. Django's test client disconnects
    them in the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def catalogue(_keep_the_test_transaction: None) -> None:
    # The slug and the filter values the schema gives as examples, so that the examples phase
    # reaches a resource.
    ResourceFactory(
        title="A seated strength routine",
        slug="a-seated-strength-routine",
        tags={"level": ["gentle"], "type": ["balance"], "stage": ["metastatic"]},
    )
    ResourceFactory(
        title="Seated breathing",
        tags={"level": ["bed-or-chair"], "type": ["breathing"], "stage": ["metastatic"]},
    )
    ResourceFactory(
        title="Gentle walking video",
        kind=Kind.VIDEO,
        url=YOUTUBE_URL,
        body="",
        language="de",
        tags={"level": ["gentle"], "type": ["aerobic"]},
    )
    ResourceFactory(
        title="Balance class finder",
        kind=Kind.PROGRAMME,
        url="https://charity.example.org/find-a-class",
        body="",
        bone_metastasis_safety=BoneSafety.CLEARANCE_NEEDED,
        provisional=True,
        organisation__website="",
        organisation__country="",
    )
    ResourceFactory(
        title="Strength on Vimeo",
        kind=Kind.VIDEO,
        url=VIMEO_URL,
        body="",
        duration_minutes=None,
        tags={"level": ["moderate"], "type": ["strength"]},
    )
    ResourceFactory(title="Draft walking plan", slug="draft-walking-plan", draft=True)


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_answers_every_generated_request_as_its_schema_says(case, catalogue) -> None:
    response = case.call_and_validate(checks=CHECKS)
    # The coverage phase also tries other methods: 405, or 204 for a CORS preflight.
    headers = {name.lower(): values for name, values in response.headers.items()}
    assert headers["access-control-allow-origin"] == ["*"]
    assert "set-cookie" not in headers
    assert "Draft walking plan" not in response.text
