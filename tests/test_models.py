"""The content model: database constraints, editor-facing validation, visibility, videos."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from resources.models import BoneSafety, Kind, Resource, Status, Tag, parse_video_url
from resources.text import ALLOWED_TAGS, render_markdown

from .factories import YOUTUBE_URL, OrganisationFactory, ResourceFactory, publish

pytestmark = pytest.mark.django_db


def _update(resource: Resource, **fields: object) -> None:
    """Write straight to the table, past every Python-side check."""
    Resource.objects.filter(pk=resource.pk).update(**fields)


def _messages(error: pytest.ExceptionInfo[ValidationError], field: str) -> str:
    return " ".join(error.value.message_dict.get(field, []))


# --- Database constraints: they hold even when clean() is skipped ----------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"bone_metastasis_safety": BoneSafety.NOT_REVIEWED},
        {"reviewed_on": None},
        {"published_at": None},
    ],
    ids=["without-safety-rating", "without-review-date", "without-publication-time"],
)
def test_database_refuses_a_published_resource_that_was_not_reviewed(fields):
    resource = ResourceFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        _update(resource, **fields)


def test_database_refuses_saving_an_unrated_published_resource_without_validation():
    resource = ResourceFactory.build(
        organisation=OrganisationFactory(), bone_metastasis_safety=BoneSafety.NOT_REVIEWED
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        resource.save()


@pytest.mark.parametrize("trait", ["video", "link", "programme"])
def test_database_refuses_an_external_resource_without_web_address(trait):
    resource = ResourceFactory(**{trait: True})
    with pytest.raises(IntegrityError), transaction.atomic():
        _update(resource, url="")


def test_database_refuses_an_empty_guide():
    resource = ResourceFactory(url="")
    with pytest.raises(IntegrityError), transaction.atomic():
        _update(resource, body="")


def test_database_accepts_a_guide_that_links_elsewhere_instead_of_a_body():
    resource = ResourceFactory(url="https://charity.example.org/guide")
    _update(resource, body="")
    assert Resource.objects.get(pk=resource.pk).body == ""


def test_database_refuses_an_image_without_alternative_text():
    resource = ResourceFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        _update(resource, image="resources/2026/chair.jpg", image_alt="")


def test_database_refuses_an_insecure_web_address():
    resource = ResourceFactory(link=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        _update(resource, url="http://charity.example.org/moving-more")


def test_database_refuses_a_second_tag_with_the_same_slug_in_one_vocabulary():
    with pytest.raises(IntegrityError), transaction.atomic():
        Tag.objects.create(vocabulary="level", slug="gentle", name="Gentle again")


def test_the_same_tag_slug_may_exist_in_another_vocabulary():
    Tag.objects.create(vocabulary="type", slug="gentle", name="Gentle movement")
    assert Tag.objects.filter(slug="gentle").count() == 2


# --- clean(): a readable message on the right field -----------------------------------


def test_publishing_without_safety_rating_tells_the_editor_a_reviewer_must_rate_it():
    resource = ResourceFactory.build(
        organisation=OrganisationFactory(), bone_metastasis_safety=BoneSafety.NOT_REVIEWED
    )
    with pytest.raises(ValidationError) as error:
        resource.full_clean()
    message = _messages(error, "bone_metastasis_safety")
    assert "cannot be published" in message
    assert "clinical reviewer" in message


def test_publishing_without_review_date_asks_for_the_date_of_the_review():
    resource = ResourceFactory.build(organisation=OrganisationFactory(), reviewed_on=None)
    with pytest.raises(ValidationError) as error:
        resource.full_clean()
    assert "date of its clinical review" in _messages(error, "reviewed_on")


def test_publishing_without_reviewer_asks_for_the_reviewers_name():
    resource = ResourceFactory.build(organisation=OrganisationFactory(), reviewed_by="  ")
    with pytest.raises(ValidationError) as error:
        resource.full_clean()
    assert "Name the clinical reviewer" in _messages(error, "reviewed_by")


def test_provisional_demo_content_may_be_published_without_a_named_reviewer():
    resource = ResourceFactory.build(organisation=OrganisationFactory(), provisional=True)
    resource.full_clean()


def test_a_draft_needs_no_review_yet():
    resource = ResourceFactory.build(organisation=OrganisationFactory(), unreviewed=True)
    resource.full_clean()


@pytest.mark.parametrize("kind", [Kind.VIDEO, Kind.LINK, Kind.PROGRAMME])
def test_external_resource_without_address_asks_for_the_web_address(kind):
    resource = ResourceFactory.build(organisation=OrganisationFactory(), kind=kind, url="")
    with pytest.raises(ValidationError) as error:
        resource.full_clean()
    assert f"Add the web address of this {Kind(kind).label.lower()}" in _messages(error, "url")


def test_empty_guide_asks_for_text_or_an_address():
    resource = ResourceFactory.build(organisation=OrganisationFactory(), body="   ", url="")
    with pytest.raises(ValidationError) as error:
        resource.full_clean()
    assert "Write the guide here" in _messages(error, "body")


def test_image_without_description_asks_to_describe_it():
    resource = ResourceFactory.build(organisation=OrganisationFactory(), image_alt="")
    resource.image.name = "resources/2026/chair.jpg"
    with pytest.raises(ValidationError) as error:
        resource.full_clean()
    assert "Describe the image" in _messages(error, "image_alt")


def test_insecure_address_asks_for_https():
    resource = ResourceFactory.build(
        organisation=OrganisationFactory(), link=True, url="http://charity.example.org/page"
    )
    with pytest.raises(ValidationError) as error:
        resource.full_clean()
    assert "https://" in _messages(error, "url")


def test_next_review_before_the_last_review_is_refused():
    resource = ResourceFactory.build(
        organisation=OrganisationFactory(),
        reviewed_on=date(2026, 3, 1),
        next_review_due=date(2026, 3, 1),
    )
    with pytest.raises(ValidationError) as error:
        resource.full_clean()
    assert "must be after the last review" in _messages(error, "next_review_due")


def test_publish_refuses_an_unreviewed_resource_and_keeps_it_unpublished():
    resource = ResourceFactory(unreviewed=True)
    with pytest.raises(ValidationError):
        publish(resource)
    resource.refresh_from_db()
    assert resource.status == Status.DRAFT
    assert resource.published_at is None


def test_publish_makes_a_reviewed_draft_public():
    resource = ResourceFactory(draft=True)
    publish(resource)
    assert Resource.objects.published().filter(pk=resource.pk).exists()


# --- The visibility rule --------------------------------------------------------------


def test_published_reviewed_resource_is_visible():
    resource = ResourceFactory()
    assert list(Resource.objects.published()) == [resource]


@pytest.mark.parametrize("trait", ["draft", "in_review", "archived", "unreviewed", "scheduled"])
def test_unpublished_resource_is_hidden(trait):
    ResourceFactory(**{trait: True})
    assert not Resource.objects.published().exists()


@contextlib.contextmanager
def _check_constraints_off() -> Iterator[None]:
    """Let a row break resource_published_is_reviewed, as a bad import or SQL console could."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA ignore_check_constraints = ON")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA ignore_check_constraints = OFF")
    elif connection.vendor == "postgresql":
        # DDL is transactional here: the constraint comes back when the savepoint rolls back.
        # Deferred foreign-key checks must fire first, or ALTER TABLE refuses to run.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "ALTER TABLE resources_resource DROP CONSTRAINT resource_published_is_reviewed"
                )
            yield
            transaction.set_rollback(True)
    else:
        pytest.skip(f"cannot switch check constraints off on {connection.vendor}")


def test_unreviewed_resource_is_hidden_even_when_its_status_says_published():
    resource = ResourceFactory()
    with _check_constraints_off():
        _update(resource, bone_metastasis_safety=BoneSafety.NOT_REVIEWED)
        assert not Resource.objects.published().exists()


def test_resource_becomes_visible_once_its_publication_time_has_passed():
    resource = ResourceFactory(scheduled=True)
    _update(resource, published_at=timezone.now() - timedelta(seconds=1))
    assert Resource.objects.published().get() == resource


def test_saving_as_published_stamps_the_publication_time():
    resource = ResourceFactory(published_at=None)
    assert resource.published_at is not None
    assert resource.published_at <= timezone.now()


# --- Video addresses ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://youtu.be/vtA1R87lkv8", ("youtube", "vtA1R87lkv8")),
        ("https://youtu.be/vtA1R87lkv8?t=42", ("youtube", "vtA1R87lkv8")),
        ("https://www.youtube.com/watch?v=vtA1R87lkv8", ("youtube", "vtA1R87lkv8")),
        ("https://m.youtube.com/watch?v=vtA1R87lkv8&t=30s", ("youtube", "vtA1R87lkv8")),
        ("https://www.youtube.com/embed/vtA1R87lkv8", ("youtube", "vtA1R87lkv8")),
        ("https://www.youtube.com/shorts/vtA1R87lkv8", ("youtube", "vtA1R87lkv8")),
        ("https://www.youtube-nocookie.com/embed/vtA1R87lkv8", ("youtube", "vtA1R87lkv8")),
        ("https://vimeo.com/76979871", ("vimeo", "76979871")),
        ("https://player.vimeo.com/video/76979871", ("vimeo", "76979871")),
        ("https://charity.example.org/videos/chair-yoga", ("", "")),
        ("https://charity.example.org/youtube.com/watch?v=vtA1R87lkv8", ("", "")),
        ("https://www.youtube.com/watch?v=<script>", ("", "")),
        ("https://www.youtube.com/watch?v=vtA1R87lkv8xx", ("", "")),
        ("https://youtu.be/", ("", "")),
        ("https://vimeo.com/channels/staffpicks", ("", "")),
        ("", ("", "")),
    ],
)
def test_video_address_gives_provider_and_id(url, expected):
    assert parse_video_url(url) == expected


def test_saving_a_video_stores_its_provider_and_id():
    resource = ResourceFactory(video=True, url="https://youtu.be/vtA1R87lkv8")
    resource.refresh_from_db()
    assert (resource.video_provider, resource.video_id) == ("youtube", "vtA1R87lkv8")


def test_a_guide_that_links_to_a_video_page_is_not_embedded():
    resource = ResourceFactory(url=YOUTUBE_URL)
    assert (resource.video_provider, resource.video_id, resource.embed_url) == ("", "", "")


def test_youtube_player_is_the_privacy_enhanced_one():
    resource = ResourceFactory(video=True)
    assert resource.embed_url.startswith("https://www.youtube-nocookie.com/embed/vtA1R87lkv8?")


def test_vimeo_player_asks_not_to_track():
    resource = ResourceFactory(vimeo=True)
    assert resource.embed_url.startswith("https://player.vimeo.com/video/76979871?")
    assert "dnt=1" in resource.embed_url


def test_a_video_page_that_is_not_youtube_or_vimeo_has_no_player():
    resource = ResourceFactory(video=True, url="https://charity.example.org/videos/chair")
    assert resource.embed_url == ""


# --- Review cycle ---------------------------------------------------------------------


def test_next_review_is_due_three_years_after_the_review():
    resource = ResourceFactory(reviewed_on=date(2026, 1, 10))
    assert settings.HUB_REVIEW_CYCLE_DAYS == 3 * 365
    assert resource.next_review_due == date(2026, 1, 10) + timedelta(days=3 * 365)


def test_a_chosen_next_review_date_is_kept():
    resource = ResourceFactory(reviewed_on=date(2026, 1, 10), next_review_due=date(2026, 7, 1))
    resource.refresh_from_db()
    assert resource.next_review_due == date(2026, 7, 1)


# --- Guide bodies ---------------------------------------------------------------------


def test_guide_body_loses_scripts_and_event_handlers():
    resource = ResourceFactory.build(
        body=(
            "Breathe in.\n\n<script>alert('x')</script>\n\n"
            '<a href="https://charity.example.org/" onclick="steal()">More</a>\n\n'
            "[click](javascript:alert(1))"
        )
    )
    html = resource.body_html
    assert "Breathe in." in html
    assert "<script" not in html
    assert "alert('x')" not in html
    assert "onclick" not in html
    assert "javascript:" not in html
    assert 'href="https://charity.example.org/"' in html


def test_guide_headings_start_below_the_page_title():
    html = ResourceFactory.build(body="# Before you start\n\n## Warm up\n\nText.").body_html
    assert "<h1" not in html
    assert ">Before you start</h2>" in html
    assert ">Warm up</h3>" in html


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend(attrs)


_DANGEROUS = st.sampled_from(
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">x</a>',
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        '<a href="https://example.org/" onmouseover="x()">y</a>',
        "<iframe src=https://evil.example/></iframe>",
        "<svg><script>alert(1)</script></svg>",
        "# Title",
        "<style>body{}</style>",
        "\n\n",
        "`code`",
    ]
)


_SCHEME = re.compile(r"^\s*([a-zA-Z][a-zA-Z0-9+.-]*):")

# The autouse fixtures (media root, hasher) need no reset between examples.
_quiet_fixtures = hypothesis_settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


@_quiet_fixtures
@given(st.lists(st.one_of(st.text(max_size=40), _DANGEROUS), max_size=8).map("".join))
def test_rendered_markdown_only_ever_contains_allowed_markup(text):
    parser = _Tags()
    parser.feed(render_markdown(text))
    assert set(parser.tags) <= ALLOWED_TAGS
    for name, value in parser.attributes:
        assert not name.startswith("on")
        scheme = _SCHEME.match(value or "") if name == "href" else None
        if scheme:
            assert scheme.group(1).lower() in {"https", "http", "mailto"}


@_quiet_fixtures
@given(st.text(max_size=60).map(lambda s: "https://" + s))
@example("https://[")
def test_parsing_any_video_address_never_raises(url):
    parse_video_url(url)
