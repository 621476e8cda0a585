""" "Find exercises for me": one GET form whose answers live only in the browse address."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db

SELF_CHECK = "/en/find/"
BROWSE = "/en/resources/"


def test_the_form_asks_plain_questions_on_one_page(client):
    response = client.get(SELF_CHECK)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("<h1") == 1
    assert "Can you stand up from a chair without using your arms?" in html
    assert "Can you walk for 10 minutes without stopping?" in html
    assert "It is not a medical assessment. Talk to your team." in html
    assert 'href="/en/safety/"' in html
    assert '<form method="get"' in html
    assert html.count("<fieldset") == html.count("<legend>") == 5
    # Every radio and checkbox has its own label.
    for input_id in re.findall(r'<input type="(?:radio|checkbox)"[^>]* id="([^"]+)"', html):
        assert f'<label for="{input_id}">' in html


def test_home_page_links_to_the_self_check(client):
    assert 'href="/en/find/"' in client.get("/en/").content.decode()
    assert "Find exercises for me" in client.get("/en/").content.decode()


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (
            {"stand": "yes", "walk": "yes", "bones": "no"},
            "level=gentle&level=moderate&stage=metastatic",
        ),
        (
            {"stand": "no", "walk": "no", "bones": "no"},
            "level=bed-or-chair&stage=metastatic",
        ),
        (
            {"stand": "difficult", "walk": "yes", "bones": "unsure"},
            "bone=suitable&bone=with-modifications&level=gentle&stage=metastatic",
        ),
        (
            {
                "stand": "yes",
                "walk": "no",
                "bones": "yes",
                "site": ["thigh", "spine", "unsure"],
                "supervised": "yes",
            },
            "bone=suitable&bone=with-modifications&hide_conflicts=1&kind=programme"
            "&level=gentle&site=spine&site=thigh&stage=metastatic",
        ),
        (
            {"stand": "yes", "walk": "yes", "bones": "yes", "site": ["unsure"], "supervised": "no"},
            "bone=suitable&bone=with-modifications&level=gentle&level=moderate&stage=metastatic",
        ),
        (
            # Sites only count when the team said the cancer is in the bones.
            {"stand": "yes", "walk": "yes", "bones": "no", "site": ["ribs"]},
            "level=gentle&level=moderate&stage=metastatic",
        ),
    ],
)
def test_answers_lead_to_the_canonical_browse_address(client, answers, expected):
    response = client.get(SELF_CHECK, answers)
    assert response.status_code == 302
    assert response["Location"] == f"{BROWSE}?{expected}"
    # Canonical already: the browse page answers at once, with no second redirect.
    assert client.get(response["Location"]).status_code == 200


def test_answering_stores_nothing(client):
    answers = {"stand": "yes", "walk": "yes", "bones": "yes", "site": ["ribs"]}
    # The first request to a fresh test database settles the page cache's content version
    # (hub/cache.py: one UPDATE of its own row); that is site bookkeeping, not the answers.
    client.get(SELF_CHECK)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(SELF_CHECK, answers)
    assert response.status_code == 302
    assert "Set-Cookie" not in response
    assert not response.cookies
    writes = [
        q["sql"]
        for q in queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == []


def test_the_empty_form_sets_no_cookie(client):
    response = client.get(SELF_CHECK)
    assert not response.cookies


@pytest.mark.parametrize(
    "answers",
    [
        {"stand": "maybe", "walk": "yes", "bones": "no"},
        {"walk": "yes", "bones": "no"},
        {"stand": "yes", "walk": "yes", "bones": "yes", "site": ["knee"]},
        {"stand": "yes", "walk": "yes", "bones": "no", "supervised": "perhaps"},
    ],
)
def test_invalid_answers_show_the_form_again_with_an_error(client, answers):
    response = client.get(SELF_CHECK, answers)
    html = response.content.decode()
    assert response.status_code == 400
    assert "Please answer the questions marked below." in html
    assert 'class="field-error"' in html
    assert html.count("<h1") == 1
