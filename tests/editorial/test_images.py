"""Resource images: only safe still pictures are accepted, stored clean, with renditions."""

from __future__ import annotations

import io
import re
import struct
import zlib
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import ExifTags, Image, ImageCms, ImageFile, PngImagePlugin

from resources.editorial import images
from resources.models import Organisation, Resource
from tests.factories import ResourceFactory

pytestmark = pytest.mark.django_db

BOMB_REFUSED = (
    "This image is too large: 12,000 \N{MULTIPLICATION SIGN} 9,000 pixels (108.0 megapixels). "
    "The limit is 40 megapixels: make it smaller and upload it again."
)
GENERATED = re.compile(r"^resources/\d{4}/[0-9a-f]{32}(-(card|detail))?-\d+x\d+\.(jpg|png|webp)$")


# --- files built in the test --------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def decompression_bomb(width: int = 12_000, height: int = 9_000) -> bytes:
    """A valid 1-bit PNG of `width` by `height` black pixels: ~13 kB that decode to ~430 MB RGBA.

    Built row block by row block, so the test itself never holds the raw pixels either.
    """
    compressor = zlib.compressobj(9)
    block = (b"\0" + b"\0" * ((width + 7) // 8)) * 1000  # filter byte + packed row, 1000 rows
    data = b"".join(compressor.compress(block) for _ in range(height // 1000))
    data += compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1 bit, greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", data)
        + _png_chunk(b"IEND", b"")
    )


def picture(
    name: str, size: tuple[int, int] = (40, 20), pillow_format: str | None = None, **save: object
) -> SimpleUploadedFile:
    fmt = pillow_format or {"jpg": "JPEG", "jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}.get(
        name.rsplit(".", 1)[-1], "PNG"
    )
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, format=fmt, **save)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{fmt.lower()}")


def jpeg_with_gps_exif(name: str = "IMG_2041 Anna Jansen at home.jpg") -> SimpleUploadedFile:
    """A portrait photo stored sideways (EXIF orientation 6) with a GPS position and XMP."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # "rotate 90° clockwise to show"
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (52.0, 22.0, 12.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (4.0, 53.0, 24.0),
    }
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buffer = io.BytesIO()
    Image.new("RGB", (60, 30), "teal").save(
        buffer,
        format="JPEG",
        exif=exif,
        icc_profile=srgb,
        xmp=b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>Anna Jansen</x:xmpmeta>",
    )
    content = buffer.getvalue()
    assert b"PhoneMaker" in content and b"Anna Jansen" in content  # the test file is real
    return SimpleUploadedFile(name, content, content_type="image/jpeg")


def stored_files() -> list[str]:
    from django.conf import settings

    root = Path(settings.MEDIA_ROOT)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


# --- what check_upload refuses ----------------------------------------------------------


def test_a_decompression_bomb_png_is_refused_from_its_header_without_decoding(monkeypatch):
    def no_decoding(self, *args, **kwargs):
        raise AssertionError("the pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    bomb = SimpleUploadedFile("walk.png", decompression_bomb(), content_type="image/png")
    assert bomb.size < 20_000

    with pytest.raises(ValidationError) as refused:
        images.check_upload(bomb)

    assert refused.value.messages == [BOMB_REFUSED]


def test_a_picture_just_over_the_pixel_limit_is_refused_and_one_at_the_limit_is_not():
    with pytest.raises(ValidationError, match="40 megapixels"):
        images.check_upload(SimpleUploadedFile("big.png", decompression_bomb(8_001, 5_000)))
    assert images.check_upload(SimpleUploadedFile("ok.png", decompression_bomb(8_000, 5_000)))


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (
            picture("walk.jpg", pillow_format="PNG"),
            "This file is not a JPEG image, although its name ends in .jpg. It is really a PNG "
            "image: save it with a name ending in .png.",
        ),
        (
            SimpleUploadedFile("walk.png", b"Just some text, no picture."),
            "This file is not a PNG image, although its name ends in .png. Upload a JPEG, PNG "
            "or WebP picture.",
        ),
        (
            picture("walk.gif", pillow_format="GIF"),
            "Upload a JPEG, PNG or WebP picture (a name ending in .jpg, .jpeg, .png or .webp).",
        ),
        (
            SimpleUploadedFile("walk.svg", b"<svg onload='alert(1)'/>"),
            "Upload a JPEG, PNG or WebP picture (a name ending in .jpg, .jpeg, .png or .webp).",
        ),
        (
            SimpleUploadedFile("huge.jpg", b"\xff\xd8" + b"\0" * images.MAX_BYTES),
            "This file is too large: 10.0\xa0MB. The limit is 10.0\xa0MB.",
        ),
    ],
    ids=["png-named-jpg", "text-named-png", "gif", "svg", "over-10-mb"],
)
def test_a_file_that_is_not_an_accepted_picture_is_refused_in_words(upload, message):
    with pytest.raises(ValidationError) as refused:
        images.check_upload(upload)
    assert refused.value.messages == [message]


def test_an_animated_picture_is_refused():
    frames = [Image.new("RGB", (20, 20), colour) for colour in ("red", "blue")]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="WEBP", save_all=True, append_images=frames[1:])
    with pytest.raises(ValidationError, match="Animated images are not accepted"):
        images.check_upload(SimpleUploadedFile("moving.webp", buffer.getvalue()))


def test_a_damaged_file_with_a_good_header_is_refused_not_a_server_error():
    whole = picture("walk.png", size=(200, 200)).read()
    damaged = SimpleUploadedFile("walk.png", whole[:60])  # the header survives, the data not
    with pytest.raises(ValidationError, match="could not be read"):
        images.prepare_upload(damaged)


# --- re-encoding and renditions -------------------------------------------------------------


def test_reencoding_strips_exif_gps_xmp_and_turns_the_photo_upright():
    prepared = images.prepare_upload(jpeg_with_gps_exif())
    content = prepared.original.read()

    assert b"PhoneMaker" not in content
    assert b"Anna Jansen" not in content
    with Image.open(io.BytesIO(content)) as stored:
        assert stored.format == "JPEG"
        assert stored.size == (30, 60)  # rotated, as the phone showed it
        assert not stored.getexif()
        assert not {"exif", "xmp", "icc_profile"} & set(stored.info)
    assert re.fullmatch(r"[0-9a-f]{32}-30x60\.jpg", prepared.original.name)


def test_png_text_chunks_are_dropped_and_transparency_kept():
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Anna Jansen")
    buffer = io.BytesIO()
    Image.new("RGBA", (30, 30), (0, 128, 128, 0)).save(buffer, format="PNG", pnginfo=info)

    prepared = images.prepare_upload(SimpleUploadedFile("logo.png", buffer.getvalue()))

    content = prepared.original.read()
    assert b"Anna Jansen" not in content
    with Image.open(io.BytesIO(content)) as stored:
        assert stored.mode == "RGBA"
        assert stored.getpixel((0, 0))[3] == 0


@pytest.mark.parametrize(
    ("size", "card", "detail"),
    [
        ((2000, 1000), (640, 320), (1280, 640)),
        ((300, 200), (300, 200), (300, 200)),  # never upscaled
        ((800, 4000), (256, 1280), (512, 2560)),  # a very tall picture stays within its box
    ],
)
def test_renditions_are_webp_at_card_and_detail_sizes(size, card, detail):
    prepared = images.prepare_upload(picture("walk.png", size=size))

    for name, expected in (("card", card), ("detail", detail)):
        rendition = prepared.renditions[name]
        with Image.open(io.BytesIO(rendition.read())) as stored:
            assert (stored.format, stored.size) == ("WEBP", expected)
        assert rendition.name.endswith(f"-{name}-{expected[0]}x{expected[1]}.webp")


# --- through the admin form -----------------------------------------------------------------


@pytest.fixture
def organisation() -> Organisation:
    return Organisation.objects.create(name="Move More Trust", slug="move-more-trust")


def _add_form(organisation: Organisation, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "kind": "guide",
        "title": "Seated strength for beginners",
        "slug": "seated-strength",
        "summary": "Six movements from a chair, ten minutes in all.",
        "organisation": organisation.pk,
        "language": "en",
        "body": "Roll your shoulders slowly.",
        "image_alt": "A woman lifting a small water bottle while seated.",
        "bone_metastasis_safety": "not-reviewed",
        "status": "draft",
        "_save": "Save",
    }
    data.update(overrides)
    return data


def _errors(response) -> dict[str, list[str]]:
    return response.context["adminform"].form.errors


def test_admin_refuses_a_decompression_bomb_with_a_clear_message(
    admin_client: Client, organisation
):
    bomb = SimpleUploadedFile("walk.png", decompression_bomb(), content_type="image/png")

    response = admin_client.post(
        reverse("admin:resources_resource_add"), _add_form(organisation, image=bomb)
    )

    assert response.status_code == 200
    assert _errors(response)["image"] == [BOMB_REFUSED]
    assert "12,000 \N{MULTIPLICATION SIGN} 9,000 pixels" in response.content.decode()
    assert not Resource.objects.exists()
    assert stored_files() == []


def test_admin_stores_a_clean_copy_under_a_generated_name_with_renditions(
    admin_client: Client, organisation
):
    response = admin_client.post(
        reverse("admin:resources_resource_add"),
        _add_form(organisation, image=jpeg_with_gps_exif()),
    )

    assert response.status_code == 302, _errors(response)
    resource = Resource.objects.get(slug="seated-strength")
    names = [resource.image.name, resource.image_card.name, resource.image_detail.name]
    assert all(GENERATED.match(name) for name in names), names
    assert "Anna" not in "".join(stored_files())
    assert sorted(stored_files()) == sorted(names)  # no copy under the uploader's name
    stem = Path(resource.image.name).name.split("-")[0]
    assert all(stem in name for name in names)
    with resource.image.open("rb") as original:
        content = original.read()
    assert b"PhoneMaker" not in content
    assert not Image.open(io.BytesIO(content)).getexif()
    assert Image.open(resource.image_card.path).format == "WEBP"


def test_replacing_the_image_replaces_the_renditions_and_clearing_clears_them(
    admin_client: Client, organisation
):
    url = reverse("admin:resources_resource_add")
    admin_client.post(url, _add_form(organisation, image=picture("one.png", size=(900, 600))))
    resource = Resource.objects.get()
    change = reverse("admin:resources_resource_change", args=[resource.pk])
    first = (resource.image.name, resource.image_card.name)

    admin_client.post(change, _add_form(organisation, image=picture("two.png", size=(700, 700))))
    resource.refresh_from_db()
    assert resource.image_card.name != first[1]
    assert resource.image_card.name.endswith("-card-640x640.webp")
    assert resource.image.name.endswith("-700x700.png")

    response = admin_client.post(change, _add_form(organisation, **{"image-clear": "on"}))
    assert response.status_code == 302, _errors(response)
    resource.refresh_from_db()
    assert (resource.image.name, resource.image_card.name, resource.image_detail.name) == (
        "",
        "",
        "",
    )


def test_saving_without_a_new_upload_keeps_image_and_renditions(admin_client: Client, organisation):
    url = reverse("admin:resources_resource_add")
    admin_client.post(url, _add_form(organisation, image=picture("one.png")))
    resource = Resource.objects.get()
    before = (resource.image.name, resource.image_card.name, resource.image_detail.name)

    admin_client.post(
        reverse("admin:resources_resource_change", args=[resource.pk]),
        _add_form(organisation, title="Seated strength (updated)"),
    )

    resource.refresh_from_db()
    assert resource.title == "Seated strength (updated)"
    assert (resource.image.name, resource.image_card.name, resource.image_detail.name) == before
    assert len(stored_files()) == 3


def test_an_image_without_alt_text_is_refused_on_the_alt_field(admin_client: Client, organisation):
    response = admin_client.post(
        reverse("admin:resources_resource_add"),
        _add_form(organisation, image=picture("walk.png"), image_alt="  "),
    )

    assert response.status_code == 200
    assert _errors(response)["image_alt"] == ["Describe the image for people who cannot see it."]
    assert "image" not in _errors(response)
    assert not Resource.objects.exists()
    assert stored_files() == []  # nothing written for a form that was refused


def test_editor_sees_the_wrong_format_message_on_the_image_field(
    editor: Client, editor_user: User, organisation
):
    response = editor.post(
        reverse("admin:resources_resource_add"),
        _add_form(organisation, image=picture("walk.jpg", pillow_format="PNG")),
    )
    assert response.status_code == 200
    assert "It is really a PNG image" in _errors(response)["image"][0]


# --- public pages ---------------------------------------------------------------------------


def _with_renditions(**fields: object) -> Resource:
    prepared = images.prepare_upload(picture("walk.png", size=(2000, 1000)))
    resource = ResourceFactory.build(image=prepared.original, image_alt="Two people walking.")
    images.attach(resource, prepared)
    for name, value in fields.items():
        setattr(resource, name, value)
    resource.organisation.save()
    resource.save()
    return resource


def test_browse_card_shows_the_card_rendition_lazily_with_its_size(client: Client):
    resource = _with_renditions()

    page = client.get(reverse("resources:list")).content.decode()

    img = re.search(r"<img[^>]*>", page)
    assert img, page
    tag = img.group(0)
    assert f'src="{resource.image_card.url}"' in tag
    assert 'width="640"' in tag and 'height="320"' in tag
    assert 'loading="lazy"' in tag
    assert 'alt="Two people walking."' in tag


def test_detail_page_shows_the_detail_rendition_with_its_size(client: Client):
    resource = _with_renditions()

    page = client.get(resource.get_absolute_url()).content.decode()

    tag = re.search(r"<img[^>]*>", page).group(0)
    assert f'src="{resource.image_detail.url}"' in tag
    assert 'width="1280"' in tag and 'height="640"' in tag
    assert 'alt="Two people walking."' in tag
    assert "loading=" not in tag  # at the top of the page: load at once


def test_an_image_without_renditions_falls_back_to_the_original(client: Client):
    resource = ResourceFactory(image=picture("old-upload.png"), image_alt="An old picture.")

    for url in (reverse("resources:list"), resource.get_absolute_url()):
        tag = re.search(r"<img[^>]*>", client.get(url).content.decode()).group(0)
        assert f'src="{resource.image.url}"' in tag
        assert "width=" not in tag  # unknown size: better none than a wrong one
        assert 'alt="An old picture."' in tag


def test_a_resource_without_an_image_has_no_img(client: Client):
    resource = ResourceFactory()
    for url in (reverse("resources:list"), resource.get_absolute_url()):
        assert "<img" not in client.get(url).content.decode()


def test_renditions_round_trip_through_a_portable_content_file():
    """export_content/import_content carry the rendition names like the original's."""
    from resources.editorial.portable import export_document, import_document

    resource = _with_renditions()
    names = (resource.image.name, resource.image_card.name, resource.image_detail.name)
    document = export_document()
    Resource.objects.all().delete()

    report = import_document(document)

    restored = Resource.objects.get(slug=resource.slug)
    assert (restored.image.name, restored.image_card.name, restored.image_detail.name) == names
    assert report.missing_media == []  # the files were not touched


def test_the_add_form_tells_editors_the_rules(admin_client: Client):
    page = admin_client.get(reverse("admin:resources_resource_add")).content.decode()
    assert "A JPEG, PNG or WebP picture of at most 10.0\xa0MB and 40 megapixels." in page


def test_make_renditions_fills_in_images_stored_without_them():
    from django.core.management import call_command

    old = ResourceFactory(image=picture("old-upload.png", size=(1600, 800)), image_alt="Old.")
    broken = ResourceFactory(image=picture("broken.png"), image_alt="Broken.")
    Path(broken.image.path).write_bytes(b"not a picture any more")
    before = (old.image.name, old.updated_at)
    out, err = io.StringIO(), io.StringIO()

    call_command("make_renditions", stdout=out, stderr=err)

    old.refresh_from_db()
    assert (old.image.name, old.updated_at) == before  # the original and history untouched
    assert old.image_card.name.endswith("-card-640x320.webp")
    assert old.image_detail.name.endswith("-detail-1280x640.webp")
    assert Image.open(old.image_detail.path).format == "WEBP"
    assert "Renditions made for 1 image(s); 1 could not be read." in out.getvalue()
    assert broken.image.name in err.getvalue()

    call_command("make_renditions", stdout=out, stderr=io.StringIO())  # again: nothing to do
    assert "Renditions made for 0 image(s)" in out.getvalue()


@pytest.mark.parametrize(
    "save", [{"lossless": True}, {"quality": 80}, {"exif": b"Exif\0\0MM\0*"}], ids=str
)
def test_webp_size_is_read_from_each_webp_layout(save):
    upload = picture("walk.webp", size=(321, 123), **save)
    assert images.webp_size(upload.read(30)) == (321, 123)


def test_a_webp_bomb_is_refused_before_libwebp_sees_it(monkeypatch):
    """A VP8X header declaring 16,000 x 16,000: libwebp would reserve 2 GB for its canvas."""
    header = picture("walk.webp", size=(10, 10), exif=b"Exif\0\0MM\0*").read()
    assert header[12:16] == b"VP8X"
    forged = header[:24] + (15_999).to_bytes(3, "little") * 2 + header[30:]
    monkeypatch.setitem(images.HEADER_READERS, "WEBP", None)  # would fail if called

    with pytest.raises(ValidationError, match="16,000 \N{MULTIPLICATION SIGN} 16,000 pixels"):
        images.check_upload(SimpleUploadedFile("bomb.webp", forged))
