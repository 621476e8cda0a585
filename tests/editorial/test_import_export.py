"""Spreadsheet import and export of resources through the admin (django-import-export).

Every import test goes through the real admin pages: the dry run (upload) and the confirm
step, as an editor would. Import only ever creates drafts, and a file with any bad row saves
nothing at all.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

import openpyxl
import pytest
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from import_export.tmp_storages import TempFolderStorage

from resources.models import BoneSafety, Organisation, Resource, Status, Transition

from ..factories import OrganisationFactory, ResourceFactory

pytestmark = pytest.mark.django_db

IMPORT_URL = reverse("admin:resources_resource_import")
CONFIRM_URL = reverse("admin:resources_resource_process_import")
EXPORT_URL = reverse("admin:resources_resource_export")
CSV, XLSX = "0", "1"  # positions in the admin's format list

HEADERS = [
    "title", "slug", "kind", "summary", "body", "url", "language", "organisation",
    "duration_minutes", "fitness_levels", "cancer_stages", "exercise_types", "has_captions",
    "transcript_url", "image_alt",
]  # fmt: skip


def row(**values: object) -> dict[str, object]:
    """A valid video row; tests override what they check."""
    slug = values.get("slug", "seated-stretch")
    return {
        "title": f"Title of {slug}",
        "slug": slug,
        "kind": "video",
        "summary": "A short seated routine.",
        "body": "",
        "url": "https://www.youtube.com/watch?v=vtA1R87lkv8",
        "language": "en",
        "organisation": "Move Charity",
        "duration_minutes": 12,
        "fitness_levels": "gentle;moderate",
        "cancer_stages": "metastatic",
        "exercise_types": "flexibility",
        "has_captions": "yes",
        "transcript_url": "",
        "image_alt": "",
        **values,
    }


def as_csv(rows: Sequence[dict], bom: bool = False) -> bytes:
    headers = list(dict.fromkeys(key for item in rows for key in item))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=headers)
    writer.writeheader()
    writer.writerows(rows)
    return ("\ufeff" if bom else "").encode() + out.getvalue().encode()


def as_xlsx(rows: Sequence[dict]) -> bytes:
    headers = list(dict.fromkeys(key for item in rows for key in item))
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers)
    for item in rows:
        sheet.append([item.get(header) for header in headers])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def encode(rows: Sequence[dict], file_format: str) -> tuple[bytes, str]:
    if file_format == XLSX:
        return as_xlsx(rows), "resources.xlsx"
    return as_csv(rows), "resources.csv"


def dry_run(client: Client, content: bytes, name: str, file_format: str):
    upload = SimpleUploadedFile(name, content)
    return client.post(IMPORT_URL, {"import_file": upload, "format": file_format, "resource": "0"})


def confirm(client: Client, preview):
    """Press "Confirm import" on the preview page."""
    form = preview.context["confirm_form"]
    data = {name: form[name].value() for name in form.fields}
    return client.post(CONFIRM_URL, data)


def tag_links() -> int:
    return Resource.tags.through.objects.count()


@pytest.fixture
def move_charity(db) -> Organisation:
    return OrganisationFactory(name="Move Charity", slug="move-charity")


@pytest.fixture
def view_only(db) -> Client:
    """Staff who may look at resources but not add them."""
    user = User.objects.create_user("viewer", password="a long viewer password", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_resource"))
    client = Client()
    client.force_login(user)
    return client


# Import: the good path ----------------------------------------------------------------


@pytest.mark.parametrize("file_format", [CSV, XLSX])
def test_good_file_creates_three_drafts_with_tags_and_organisation(
    editor: Client, editor_user: User, move_charity: Organisation, file_format: str
) -> None:
    rows = [
        row(slug="seated-stretch"),
        row(
            slug="walking-guide",
            kind="guide",
            url="",
            body="# Walk\n\nTen minutes, slowly.",
            organisation="move-charity",  # by slug
            fitness_levels="gentle",
            exercise_types="aerobic;balance",
            has_captions="",
            duration_minutes="",
        ),
        row(slug="find-a-class", kind="programme", url="https://example.org/classes"),
    ]
    content, name = encode(rows, file_format)

    preview = dry_run(editor, content, name, file_format)

    assert preview.status_code == 200
    assert "confirm_form" in preview.context
    assert "Title of walking-guide" in preview.content.decode()
    assert Resource.objects.count() == 0  # a dry run saves nothing

    done = confirm(editor, preview)

    assert done.status_code == 302
    imported = {resource.slug: resource for resource in Resource.objects.all()}
    assert sorted(imported) == ["find-a-class", "seated-stretch", "walking-guide"]
    for resource in imported.values():
        assert resource.status == Status.DRAFT
        assert resource.bone_metastasis_safety == BoneSafety.NOT_REVIEWED
        assert resource.organisation == move_charity
    stretch, guide = imported["seated-stretch"], imported["walking-guide"]
    assert sorted(tag.slug for tag in stretch.fitness_levels) == ["gentle", "moderate"]
    assert [tag.slug for tag in stretch.cancer_stages] == ["metastatic"]
    assert stretch.video_provider == "youtube" and stretch.has_captions is True
    assert sorted(tag.slug for tag in guide.exercise_types) == ["aerobic", "balance"]
    assert guide.duration_minutes is None and guide.has_captions is False
    assert guide.body.startswith("# Walk")
    # The history names the editor who imported the file, and the file.
    version = stretch.history.latest()
    assert version.history_user == editor_user
    assert version.history_change_reason == f"Imported from the spreadsheet {name}"
    assert not Resource.objects.published().exists()


def test_csv_with_byte_order_mark_is_read(editor: Client, move_charity: Organisation) -> None:
    """Excel's "CSV UTF-8" starts with a BOM; the first column must still be `title`.
    (A long file name, which goes into the history's change reason, is no problem either.)"""
    long_name = "étirements-" * 15 + ".csv"
    preview = dry_run(editor, as_csv([row(title="Étirements")], bom=True), long_name, CSV)
    confirm(editor, preview)

    assert Resource.objects.get().title == "Étirements"


# Import: nothing is half imported ---------------------------------------------------------


@pytest.mark.parametrize("file_format", [CSV, XLSX])
def test_two_bad_rows_are_named_and_nothing_is_saved(
    editor: Client, move_charity: Organisation, file_format: str
) -> None:
    ResourceFactory(slug="already-here", tags={"level": ["gentle"]})
    resources_before, links_before = Resource.objects.count(), tag_links()
    rows = [
        row(slug="good-one"),
        row(slug="insecure", url="http://example.org/video"),
        row(slug="good-two"),
        row(slug="bouncy", fitness_levels="gentle;bouncy"),
    ]
    content, name = encode(rows, file_format)

    preview = dry_run(editor, content, name, file_format)

    page = preview.content.decode()
    assert preview.status_code == 200
    assert "Nothing was imported: 2 rows have problems" in page
    # Spreadsheet rows: the header is row 1, so the 2nd and 4th data rows are rows 3 and 5.
    assert "Row 3" in page and "Use a secure web address that starts with https://." in page
    assert "Row 5" in page
    assert "Unknown fitness level: “bouncy”. Use one of: bed-or-chair, gentle" in page
    assert "Row 2" not in page and "Row 4" not in page
    assert "confirm_form" not in preview.context
    assert Resource.objects.count() == resources_before
    assert tag_links() == links_before


def test_confirming_a_file_that_went_bad_saves_nothing(
    editor: Client, move_charity: Organisation
) -> None:
    """The confirm step reads the stored file again; one bad row rolls back the good ones."""
    stored = TempFolderStorage(encoding="utf-8-sig", read_mode="r")
    stored.save(as_csv([row(slug="good-one"), row(slug="bad", kind="podcast")]))

    response = editor.post(
        CONFIRM_URL,
        {"import_file_name": stored.name, "original_file_name": "r.csv", "format": CSV},
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "Nothing was imported" in page
    assert "“podcast” is not accepted here. Use one of: video, guide, link, programme." in page
    assert Resource.objects.count() == 0


def test_unknown_organisation_is_an_error_and_is_not_created(
    editor: Client, move_charity: Organisation
) -> None:
    preview = dry_run(editor, as_csv([row(organisation="Mvoe Charity")]), "r.csv", CSV)

    assert "There is no organisation called “Mvoe Charity”." in preview.content.decode()
    assert list(Organisation.objects.values_list("name", flat=True)) == ["Move Charity"]
    assert Resource.objects.count() == 0


def test_unreadable_values_are_row_errors_in_words(
    editor: Client, move_charity: Organisation
) -> None:
    rows = [
        row(slug="Not A Slug"),
        row(slug="minutes", duration_minutes="ten"),
        row(slug="captions", has_captions="maybe"),
        row(slug="minutes", title="Same slug twice"),
    ]
    page = dry_run(editor, as_csv(rows), "r.csv", CSV).content.decode()

    assert "Nothing was imported: 4 rows have problems" in page
    assert "“ten” is not a whole number of minutes." in page
    assert "Write yes or no, not “maybe”." in page
    assert "The slug “minutes” is used in row 3 of this file already." in page
    assert Resource.objects.count() == 0


# Import: not a back door round the clinical review ---------------------------------------


def test_status_and_safety_columns_are_ignored(editor: Client, move_charity: Organisation) -> None:
    sneaky = row(
        status="published",
        bone_metastasis_safety="suitable",
        reviewed_on="2026-01-01",
        public_url="https://evil.example/",
    )
    preview = dry_run(editor, as_csv([sneaky]), "r.csv", CSV)
    confirm(editor, preview)

    resource = Resource.objects.get()
    assert resource.status == Status.DRAFT
    assert resource.bone_metastasis_safety == BoneSafety.NOT_REVIEWED
    assert resource.reviewed_on is None and resource.published_at is None


def test_update_keeps_the_rating_and_flags_and_makes_a_draft(
    editor: Client, editor_user: User, move_charity: Organisation
) -> None:
    existing = ResourceFactory(
        in_review=True,
        slug="seated-stretch",
        organisation=move_charity,
        bone_metastasis_safety=BoneSafety.WITH_MODIFICATIONS,
        tags={"level": ["moderate"], "flag": ["loaded-spine"]},
    )
    changed = row(
        slug="seated-stretch",
        kind="guide",
        url="",
        body="New text.",
        summary="Updated summary.",
        fitness_levels="gentle",
        bone_metastasis_safety="suitable",
        status="published",
    )
    preview = dry_run(editor, as_csv([changed]), "r.csv", CSV)
    confirm(editor, preview)

    existing.refresh_from_db()
    assert existing.summary == "Updated summary."
    assert existing.status == Status.DRAFT
    assert existing.bone_metastasis_safety == BoneSafety.WITH_MODIFICATIONS
    assert [tag.slug for tag in existing.fitness_levels] == ["gentle"]
    assert [tag.slug for tag in existing.flags] == ["loaded-spine"]
    step = Transition.objects.get(resource=existing)
    assert (step.from_status, step.to_status, step.actor) == (
        Status.IN_REVIEW,
        Status.DRAFT,
        editor_user,
    )


def test_a_published_resource_cannot_be_changed_by_import(
    editor: Client, move_charity: Organisation
) -> None:
    published = ResourceFactory(slug="seated-stretch", title="Seated stretch")

    preview = dry_run(editor, as_csv([row(summary="Sneaky edit")]), "r.csv", CSV)

    assert (
        "“Seated stretch” is published; edit it in the admin so that the change goes through "
        "review." in preview.content.decode()
    )
    published.refresh_from_db()
    assert published.summary != "Sneaky edit" and published.status == Status.PUBLISHED


# Export ------------------------------------------------------------------------------------


def export(client: Client, file_format: str):
    return client.post(EXPORT_URL, {"format": file_format, "resource": "0"})


def read_csv(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def read_xlsx(content: bytes) -> list[dict[str, object]]:
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    headers, *rows = list(sheet.values)
    return [dict(zip(headers, values, strict=True)) for values in rows]


@pytest.mark.parametrize("file_format", [CSV, XLSX])
def test_export_contains_every_row_with_read_only_columns(editor: Client, file_format: str) -> None:
    ResourceFactory(
        slug="chair-yoga",
        organisation__name="Move Charity",
        tags={"level": ["gentle", "moderate"], "type": ["flexibility"]},
    )
    ResourceFactory(slug="draft-one", draft=True)

    response = export(editor, file_format)

    assert response.status_code == 200
    rows = (read_xlsx if file_format == XLSX else read_csv)(response.content)
    by_slug = {item["slug"]: item for item in rows}
    assert sorted(by_slug) == ["chair-yoga", "draft-one"]
    yoga = by_slug["chair-yoga"]
    assert yoga["organisation"] == "Move Charity"
    assert yoga["fitness_levels"] == "gentle;moderate"
    assert yoga["exercise_types"] == "flexibility"
    assert yoga["status"] == "published" and yoga["bone_metastasis_safety"] == "suitable"
    assert yoga["public_url"] == "http://testserver/en/resources/chair-yoga/"
    assert by_slug["draft-one"]["public_url"] in ("", None)  # not public: no address
    assert by_slug["draft-one"]["status"] == "draft"


def test_export_queries_do_not_grow_with_rows(editor: Client) -> None:
    ResourceFactory.create_batch(2, tags={"level": ["gentle"]})
    with CaptureQueriesContext(connection) as few:
        export(editor, CSV)
    ResourceFactory.create_batch(6, tags={"level": ["gentle"], "type": ["balance"]})
    with CaptureQueriesContext(connection) as many:
        response = export(editor, CSV)

    assert len(read_csv(response.content)) == 8
    assert len(many) == len(few)


def test_export_neutralises_formulas_and_import_restores_them(
    editor: Client, move_charity: Organisation
) -> None:
    ResourceFactory(
        slug="formula",
        draft=True,
        organisation=move_charity,
        title='=HYPERLINK("https://evil.example","Click")',
        summary="+1 and @SUM(A1) and -2",
    )
    csv_rows = read_csv(export(editor, CSV).content)
    xlsx_content = export(editor, XLSX).content
    xlsx_cell = openpyxl.load_workbook(io.BytesIO(xlsx_content)).active["A2"]

    assert csv_rows[0]["title"] == '\'=HYPERLINK("https://evil.example","Click")'
    assert csv_rows[0]["summary"] == "'+1 and @SUM(A1) and -2"
    assert xlsx_cell.data_type == "s" and xlsx_cell.value.startswith("'=")

    # The exported workbook goes back in unchanged: the apostrophes are removed again.
    Resource.objects.all().delete()
    confirm(editor, dry_run(editor, xlsx_content, "export.xlsx", XLSX))
    assert Resource.objects.get().title == '=HYPERLINK("https://evil.example","Click")'


# Permissions and bad files -------------------------------------------------------------------


def test_editor_can_open_import_and_export_pages(editor: Client) -> None:
    page = editor.get(IMPORT_URL)

    assert page.status_code == 200
    assert "status, bone_metastasis_safety, reviewed_on" in page.content.decode()
    export_page = editor.get(EXPORT_URL)
    assert export_page.status_code == 200
    # Every column is exported, and no inline handler the CSP would block is needed.
    assert "title, slug, kind, summary" in export_page.content.decode()
    assert "onchange=" not in export_page.content.decode()


def test_staff_without_add_permission_cannot_import_but_can_export(
    view_only: Client, move_charity: Organisation
) -> None:
    assert view_only.get(IMPORT_URL).status_code == 403
    assert dry_run(view_only, as_csv([row()]), "r.csv", CSV).status_code == 403
    assert view_only.get(EXPORT_URL).status_code == 200
    assert Resource.objects.count() == 0


def test_anonymous_and_non_staff_are_sent_to_login(db) -> None:
    member = User.objects.create_user("member", password="a long member password")
    logged_in = Client()
    logged_in.force_login(member)

    for client in (Client(), logged_in):
        for url in (IMPORT_URL, EXPORT_URL):
            response = client.get(url)
            assert response.status_code == 302 and "/login/" in response["Location"]


def test_staff_who_may_only_add_cannot_overwrite_existing_resources(
    move_charity: Organisation,
) -> None:
    user = User.objects.create_user("adder", password="a long adder password", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_resource", "view_resource"])
    )
    client = Client()
    client.force_login(user)
    ResourceFactory(slug="seated-stretch", draft=True, summary="Original")

    page = dry_run(client, as_csv([row()]), "r.csv", CSV).content.decode()

    assert "exists already, and you may only add new resources" in page
    assert Resource.objects.get().summary == "Original"


def test_too_large_file_is_a_form_error(editor: Client, settings, move_charity) -> None:
    settings.HUB_IMPORT_MAX_MB = 0
    response = dry_run(editor, as_csv([row()]), "r.csv", CSV)

    assert response.status_code == 200
    assert "This file is larger than 0 MB." in response.content.decode()
    assert Resource.objects.count() == 0


def test_unreadable_file_is_a_form_error(editor: Client) -> None:
    response = dry_run(editor, "title,slug\nCaf\xe9,cafe\n".encode("cp1252"), "r.csv", CSV)

    assert response.status_code == 200
    assert "Save it from your spreadsheet program as “CSV UTF-8”" in response.content.decode()
    assert Resource.objects.count() == 0


def test_file_without_slug_column_says_so(editor: Client) -> None:
    response = dry_run(editor, b"title,summary\nA,B\n", "r.csv", CSV)

    page = response.content.decode()
    assert response.status_code == 200
    assert "not present in the file headers: slug" in page
    assert "Traceback" not in page
    assert Resource.objects.count() == 0
