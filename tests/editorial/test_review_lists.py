"""Review dates at work: the admin index lists, the changelist filter and `manage.py review_due`.

All three read resources/editorial/review_due.py, so each test checks what an editor or a cron
e-mail shows.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from resources.editorial.review_due import DUE_SOON, NEVER, OVERDUE, WAITING
from resources.models import BoneSafety, Resource
from tests.factories import ResourceFactory

pytestmark = pytest.mark.django_db

INDEX = "/admin/"
CHANGELIST = "/admin/resources/resource/"


def days_from_today(days: int):
    return timezone.localdate() + timedelta(days=days)


def reviewed_long_ago(**kwargs) -> Resource:
    """A published resource whose last review was years ago, with the given due date."""
    return ResourceFactory(reviewed_on=days_from_today(-3 * 365), **kwargs)


@pytest.fixture
def catalogue() -> dict[str, Resource]:
    """One resource in each list, plus some that belong in none."""
    return {
        "waiting": ResourceFactory(title="Waiting walk", in_review=True),
        "overdue": reviewed_long_ago(title="Overdue stretch", next_review_due=days_from_today(-3)),
        "due_soon": reviewed_long_ago(title="Soon balance", next_review_due=days_from_today(12)),
        "later": reviewed_long_ago(title="Later breathing", next_review_due=days_from_today(90)),
        "archived": reviewed_long_ago(
            title="Archived overdue", archived=True, next_review_due=days_from_today(-40)
        ),
        "unreviewed": ResourceFactory(title="Unrated draft", unreviewed=True),
    }


def list_section(html: str, key: str) -> str:
    """The HTML of one review list on the index."""
    match = re.search(
        rf'<div class="module review-list" id="review-list-{key}">(.*?)</div>', html, re.S
    )
    assert match, f"no {key} list on the page"
    return match.group(1)


def titles_in_changelist(client: Client, query: str) -> set[str]:
    response = client.get(f"{CHANGELIST}?{query}")
    assert response.status_code == 200
    return {str(resource) for resource in response.context["cl"].result_list}


def test_index_shows_each_list_with_count_links_status_and_due_date(editor, catalogue):
    html = editor.get(INDEX).content.decode()

    overdue = list_section(html, OVERDUE)
    assert "Review overdue" in overdue
    assert "(1)" in overdue
    change_url = reverse("admin:resources_resource_change", args=[catalogue["overdue"].pk])
    assert f'<a href="{change_url}">Overdue stretch</a>' in overdue
    assert "Published" in overdue
    assert f'datetime="{days_from_today(-3).isoformat()}"' in overdue
    assert f'href="{CHANGELIST}?review=overdue"' in overdue
    # Archived resources are off the site for good: nobody has to re-review them.
    assert "Archived overdue" not in html

    waiting = list_section(html, WAITING)
    assert "Waiting for review" in waiting and "Waiting walk" in waiting and "In review" in waiting

    due_soon = list_section(html, DUE_SOON)
    assert "Due in the next 30 days" in due_soon and "Soon balance" in due_soon
    assert "Later breathing" not in html

    # The index lists come before the app list.
    assert html.index("review-lists-heading") < html.index('id="content-main"')


def test_empty_lists_say_so_without_a_see_all_link(editor):
    html = editor.get(INDEX).content.decode()
    for key in (WAITING, OVERDUE, DUE_SOON):
        section = list_section(html, key)
        assert "(0)" in section
        assert "Nothing here." in section
        assert "?review=" not in section


def test_index_shows_at_most_ten_rows_but_counts_them_all(editor):
    for number in range(13):
        reviewed_long_ago(
            title=f"Overdue {number:02d}", next_review_due=days_from_today(-number - 1)
        )
    section = list_section(editor.get(INDEX).content.decode(), OVERDUE)
    assert "(13)" in section
    assert section.count("<tr>") == 11  # header row + ten resources
    # The most overdue first.
    assert section.index("Overdue 12") < section.index("Overdue 03")
    assert "Overdue 00" not in section
    assert "See all 13 resources: Review overdue" in section


def test_index_query_count_does_not_grow_with_the_lists(editor, catalogue):
    def index_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert editor.get(INDEX).status_code == 200
        return len(queries)

    few = index_queries()
    for number in range(25):
        ResourceFactory(title=f"More waiting {number}", in_review=True)
        reviewed_long_ago(title=f"More overdue {number}", next_review_due=days_from_today(-1))
    with CaptureQueriesContext(connection) as queries:
        editor.get(INDEX)
    on_resources = [q for q in queries if 'FROM "resources_resource"' in q["sql"]]
    # One query counts all three lists, then one per list reads its first rows.
    assert len(on_resources) == 4
    assert index_queries() == few


def test_staff_without_resource_permission_see_no_review_lists(db, catalogue):
    user = User.objects.create_user("helper", password="a long helper password", is_staff=True)
    client = Client()
    client.force_login(user)
    html = client.get(INDEX).content.decode()
    assert "review-lists-heading" not in html
    assert "Overdue stretch" not in html


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (WAITING, {"Waiting walk"}),
        (OVERDUE, {"Overdue stretch"}),
        (DUE_SOON, {"Soon balance"}),
        (NEVER, {"Unrated draft"}),
    ],
)
def test_changelist_filter_matches_the_index_lists(editor, catalogue, key, expected):
    assert titles_in_changelist(editor, f"review={key}") == expected


def test_changelist_filter_offers_all_four_review_choices(editor, catalogue):
    html = editor.get(CHANGELIST).content.decode()
    for label in (
        "Waiting for review",
        "Review overdue",
        "Due in the next 30 days",
        "Not clinically reviewed",
    ):
        assert label in html


def test_provisional_ratings_count_as_not_clinically_reviewed(editor):
    ResourceFactory(title="Starter content", provisional=True)
    ResourceFactory(title="Rated, no date", draft=True, reviewed_on=None)
    ResourceFactory(title="Properly reviewed", bone_metastasis_safety=BoneSafety.WITH_MODIFICATIONS)
    assert titles_in_changelist(editor, "review=never") == {"Starter content", "Rated, no date"}


def test_unknown_filter_value_is_ignored_not_an_error(editor, catalogue):
    response = editor.get(f"{CHANGELIST}?review=nonsense")
    assert response.status_code == 200
    # The whole list, as without the filter: nothing hidden by a value the filter does not know.
    shown = {str(resource) for resource in response.context["cl"].result_list}
    assert shown == {str(resource) for resource in Resource.objects.all()}


def run_review_due(*args: str) -> str:
    out = StringIO()
    call_command("review_due", *args, stdout=out)
    return out.getvalue()


def test_command_lists_overdue_and_due_soon_as_text(catalogue):
    text = run_review_due()
    assert "Review overdue (1)" in text
    assert "Review due in the next 30 days (1)" in text
    assert f"{days_from_today(-3).isoformat()}  Overdue stretch  [published]" in text
    assert "Soon balance" in text
    assert reverse("admin:resources_resource_change", args=[catalogue["overdue"].pk]) in text
    for absent in ("Later breathing", "Archived overdue", "Waiting walk"):
        assert absent not in text
    assert text.index("Overdue stretch") < text.index("Soon balance")


def test_command_prints_full_admin_links_with_a_base_url(catalogue):
    text = run_review_due("--base-url", "https://hub.example.org/")
    change_url = reverse("admin:resources_resource_change", args=[catalogue["overdue"].pk])
    assert f"https://hub.example.org{change_url}" in text


def test_command_days_option_widens_due_soon(catalogue):
    assert "Later breathing" in run_review_due("--days", "100")
    assert "Soon balance" not in run_review_due("--days", "5")


def test_command_json_is_machine_readable(catalogue):
    data = json.loads(run_review_due("--format=json"))
    assert data["today"] == timezone.localdate().isoformat()
    assert data["days"] == 30
    assert [row["title"] for row in data[OVERDUE]] == ["Overdue stretch"]
    assert [row["title"] for row in data[DUE_SOON]] == ["Soon balance"]
    assert data[OVERDUE][0]["next_review_due"] == days_from_today(-3).isoformat()


def test_command_prints_nothing_when_nothing_is_due(db):
    """cron mails whatever a job prints: no output means no empty e-mail."""
    ResourceFactory(title="Fresh review")
    assert run_review_due() == ""


def test_command_refuses_a_negative_number_of_days(db):
    with pytest.raises(CommandError, match="--days must be 0 or more"):
        run_review_due("--days", "-1")
