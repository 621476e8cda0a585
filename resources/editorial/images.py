"""Uploaded resource images: checked, re-encoded and given their renditions once, on upload.

An editor's upload goes through three steps, all while the admin form is cleaned and saved,
never in a page request:

1. `check_upload` refuses anything that is not a still JPEG, PNG or WebP whose content matches
   its extension, of at most 10 MB and 40 megapixels. The pixel count is read from the file's
   header before anything is decoded, so a "decompression bomb" (a tiny file declaring a huge
   picture) is refused without allocating its pixels.
2. `prepare_upload` decodes the picture once, turns it upright (EXIF orientation), converts it
   to sRGB and writes it again in the same format without any metadata (EXIF with GPS
   position, XMP, ICC profile, text chunks), under a generated name: the uploader's file name
   may hold a patient's or a colleague's name.
3. It also makes the WebP renditions the public pages show (`RENDITIONS`), never upscaled.

Generated names carry the picture's size (``<uuid4 hex>-<width>x<height>.<ext>``), so that
templates can give every ``<img>`` its width and height (no layout shift) without opening the
file or storing the size in extra columns.

Animated images are refused rather than cut to their first frame: the editor should choose
the still picture the public sees.
"""

from __future__ import annotations

import io
import re
import uuid
from dataclasses import dataclass
from pathlib import PurePath
from typing import IO, TYPE_CHECKING

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.formats import number_format
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from PIL import Image, ImageCms, ImageOps
from PIL.JpegImagePlugin import JpegImageFile
from PIL.PngImagePlugin import PngImageFile
from PIL.WebPImagePlugin import WebPImageFile

from hub.cache import content_changed

if TYPE_CHECKING:
    from django.db.models.fields.files import FieldFile

    from ..models import Resource

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
# Pillow's own guard, for every Image.open in the process (warning above, error above twice):
# set to our limit so that nothing opened here can be decoded past it.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

# Extension -> (Pillow format, the extension stored names get).
EXTENSIONS: dict[str, tuple[str, str]] = {
    "jpg": ("JPEG", "jpg"),
    "jpeg": ("JPEG", "jpg"),
    "png": ("PNG", "png"),
    "webp": ("WEBP", "webp"),
}
# Image.open() raises DecompressionBombError for a huge header before it tells us the size;
# each format's plugin class reads the header only, so the editor learns the real size.
HEADER_READERS: dict[str, type[Image.Image]] = {
    "JPEG": JpegImageFile,
    "PNG": PngImageFile,
    "WEBP": WebPImageFile,
}
# Name -> the largest box a rendition fits in (width, height); width is what matters.
RENDITIONS: dict[str, tuple[int, int]] = {"card": (640, 1280), "detail": (1280, 2560)}
QUALITY = {"JPEG": 85, "WEBP": 80}

_SIZE_IN_NAME = re.compile(r"-(?P<width>[0-9]+)x(?P<height>[0-9]+)\.[a-z]+$")


@dataclass(frozen=True)
class PreparedImage:
    """An upload after re-encoding, and its renditions: files not yet in storage."""

    original: ContentFile
    renditions: dict[str, ContentFile]


def _extension(name: str) -> str:
    return PurePath(name).suffix.lower().removeprefix(".")


def _megapixels(pixels: int) -> str:
    return number_format(pixels / 1_000_000, decimal_pos=1, force_grouping=True)


def _read_header(file: UploadedFile, pillow_format: str) -> Image.Image:
    """The picture's header in `pillow_format`, nothing decoded; ValidationError otherwise."""
    file.seek(0)
    try:
        return HEADER_READERS[pillow_format](file)
    except (SyntaxError, OSError, ValueError, EOFError, Image.DecompressionBombError):
        file.seek(0)
        raise ValidationError(
            _("This file is not a %(format)s image, although its name ends in .%(ext)s.%(actual)s")
            % {
                "format": pillow_format,
                "ext": _extension(file.name or ""),
                "actual": _what_it_really_is(file),
            },
            code="wrong_format",
        ) from None


def _what_it_really_is(file: IO[bytes]) -> str:
    """A hint for the editor when the content is another image format than the name says."""
    for pillow_format, reader in HEADER_READERS.items():
        file.seek(0)
        try:
            reader(file)
        except (SyntaxError, OSError, ValueError, EOFError):
            continue
        extension = next(ext for ext, (fmt, _stored) in EXTENSIONS.items() if fmt == pillow_format)
        return " " + _(
            "It is really a %(format)s image: save it with a name ending in .%(extension)s."
        ) % {"format": pillow_format, "extension": extension}
    return " " + _("Upload a JPEG, PNG or WebP picture.")


def _refuse_if_too_large(width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise ValidationError(
            _(
                "This image is too large: %(width)s × %(height)s pixels (%(megapixels)s "  # noqa: RUF001
                "megapixels). The limit is %(limit)s megapixels: make it smaller and upload "
                "it again."
            )
            % {
                "width": number_format(width, force_grouping=True),
                "height": number_format(height, force_grouping=True),
                "megapixels": _megapixels(width * height),
                "limit": MAX_PIXELS // 1_000_000,
            },
            code="pixels",
        )


def webp_size(head: bytes) -> tuple[int, int] | None:
    """(width, height) from the first 30 bytes of a WebP file, or None if it is not one.

    Pillow reads WebP headers through libwebp's demuxer, which reserves memory for the whole
    canvas (up to 16,383 by 16,383 by 4 bytes, twice) before we could see the size; the three
    WebP layouts keep the size at fixed offsets, so a bomb is refused before that.
    """
    if len(head) < 30 or head[:4] != b"RIFF" or head[8:12] != b"WEBP":
        return None
    chunk = head[12:16]
    if chunk == b"VP8X":  # extended: 24-bit canvas width and height, minus one
        return 1 + int.from_bytes(head[24:27], "little"), 1 + int.from_bytes(head[27:30], "little")
    if chunk == b"VP8L" and head[20] == 0x2F:  # lossless: 14 bits each, minus one
        bits = int.from_bytes(head[21:25], "little")
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":  # lossy key frame
        width = int.from_bytes(head[26:28], "little") & 0x3FFF
        return width, int.from_bytes(head[28:30], "little") & 0x3FFF
    return None


def check_upload(file: UploadedFile) -> str:
    """Refuse what the hub cannot safely show; return the Pillow format of what it accepts.

    Order matters: the cheap checks (name, byte size) come before anything is read, and the
    pixel count comes from the header before any decoding.
    """
    extension = _extension(file.name or "")
    if extension not in EXTENSIONS:
        raise ValidationError(
            _("Upload a JPEG, PNG or WebP picture (a name ending in .jpg, .jpeg, .png or .webp)."),
            code="extension",
        )
    if file.size is not None and file.size > MAX_BYTES:
        raise ValidationError(
            _("This file is too large: %(size)s. The limit is %(limit)s.")
            % {"size": filesizeformat(file.size), "limit": filesizeformat(MAX_BYTES)},
            code="file_size",
        )
    pillow_format = EXTENSIONS[extension][0]
    if pillow_format == "WEBP":
        file.seek(0)
        declared = webp_size(file.read(30))
        if declared:
            _refuse_if_too_large(*declared)
    header = _read_header(file, pillow_format)
    _refuse_if_too_large(*header.size)
    if getattr(header, "n_frames", 1) > 1:
        raise ValidationError(
            _("Animated images are not accepted. Upload the one still picture to show."),
            code="animated",
        )
    file.seek(0)
    return pillow_format


def _help_text() -> str:
    return _(
        "A JPEG, PNG or WebP picture of at most %(size)s and %(megapixels)d megapixels. "
        "It is stored under a new name, without its metadata (such as where a photo was taken)."
    ) % {"size": filesizeformat(MAX_BYTES), "megapixels": MAX_PIXELS // 1_000_000}


class ResourceImageField(forms.ImageField):
    """The admin's image field: our checks run before Django's own Pillow check.

    Django's ImageField opens the file with Pillow first and answers any failure, a
    decompression bomb included, with "Upload a valid image"; running `check_upload` first
    gives the editor the real reason.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # Lazy: the admin form class is built once, at import, in no particular language.
        self.help_text = self.help_text or lazy(_help_text, str)()

    def to_python(self, data: UploadedFile | None) -> UploadedFile | None:
        file = forms.FileField.to_python(self, data)  # empty and nameless files first
        if file is None:
            return None
        check_upload(file)
        return super().to_python(data)


def _to_srgb(image: Image.Image) -> Image.Image:
    """Convert from an embedded colour profile to sRGB, so dropping the profile is safe."""
    profile = image.info.get("icc_profile")
    if not profile:
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        mode = "RGBA" if "A" in image.getbands() else "RGB"
        converted = ImageCms.profileToProfile(
            image, source, ImageCms.createProfile("sRGB"), outputMode=mode
        )
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image  # a broken profile: the pixels are most likely sRGB already
    return converted if converted is not None else image


def _normalise_mode(image: Image.Image, pillow_format: str) -> Image.Image:
    """RGB, RGBA (transparency kept) or greyscale; JPEG has no alpha channel."""
    has_alpha = "A" in image.getbands() or "transparency" in image.info
    if pillow_format == "JPEG":
        return image if image.mode in {"RGB", "L"} else image.convert("RGB")
    if has_alpha:
        return image if image.mode == "RGBA" else image.convert("RGBA")
    return image if image.mode in {"RGB", "L"} else image.convert("RGB")


def _encode(image: Image.Image, pillow_format: str) -> bytes:
    """The pixels only: no EXIF, XMP, ICC or text chunks are passed to the encoder."""
    image.info = {}
    buffer = io.BytesIO()
    options: dict[str, object] = {}
    if pillow_format in QUALITY:
        options["quality"] = QUALITY[pillow_format]
    if pillow_format in {"JPEG", "PNG"}:
        options["optimize"] = True
    image.save(buffer, format=pillow_format, **options)
    return buffer.getvalue()


def _name(stem: str, image: Image.Image, extension: str, rendition: str = "") -> str:
    suffix = f"-{rendition}" if rendition else ""
    return f"{stem}{suffix}-{image.width}x{image.height}.{extension}"


def _decode(file: UploadedFile, pillow_format: str) -> Image.Image:
    """The upright pixels; a file whose header was fine but whose data is not is refused.

    check_upload has kept the size within Image.MAX_IMAGE_PIXELS, so Pillow's bomb check
    cannot fire here; were it to, it is an error like any other unreadable file.
    """
    try:
        with Image.open(file, formats=[pillow_format]) as opened:
            return ImageOps.exif_transpose(opened)
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as error:
        raise ValidationError(
            _(
                "This picture could not be read: the file may be damaged. Save it again "
                "and upload it."
            ),
            code="damaged",
        ) from error


def prepare_upload(file: UploadedFile) -> PreparedImage:
    """Decode an upload that passed `check_upload` once; re-encode it and make renditions."""
    pillow_format = check_upload(file)
    extension = EXTENSIONS[_extension(file.name or "")][1]
    stem = uuid.uuid4().hex
    picture = _normalise_mode(_to_srgb(_decode(file, pillow_format)), pillow_format)
    original = ContentFile(
        _encode(picture.copy(), pillow_format), name=_name(stem, picture, extension)
    )
    renditions = {}
    for rendition, box in RENDITIONS.items():
        smaller = picture.convert("RGBA" if "A" in picture.getbands() else "RGB")
        smaller.thumbnail(box, Image.Resampling.LANCZOS)  # shrinks only, keeps proportions
        renditions[rendition] = ContentFile(
            _encode(smaller, "WEBP"), name=_name(stem, smaller, "webp", rendition)
        )
    return PreparedImage(original=original, renditions=renditions)


def attach(resource: Resource, prepared: PreparedImage | None) -> None:
    """Put the renditions on the resource; saving it writes them to storage.

    `None` (the image was cleared) clears the renditions too. The files of a replaced image
    stay in storage: the resource's history (django-simple-history) still refers to them, and
    restoring an old version restores its picture.
    """
    resource.image_card = prepared.renditions["card"] if prepared else ""
    resource.image_detail = prepared.renditions["detail"] if prepared else ""


def clean_resource_image(
    resource: Resource, value: UploadedFile | FieldFile | bool | None
) -> ContentFile | FieldFile | bool | None:
    """`ResourceAdminForm.clean_image`: a new upload becomes its re-encoded, renamed copy.

    Nothing is written to storage here: the files are written when the resource is saved,
    so a form with errors elsewhere leaves no stray files.
    """
    if isinstance(value, UploadedFile):
        prepared = prepare_upload(value)
        attach(resource, prepared)
        return prepared.original
    if value is False:  # "Clear" was ticked
        attach(resource, None)
    return value


def add_missing_renditions(resource: Resource) -> bool:
    """Make renditions for an image stored before they existed (`manage.py make_renditions`).

    The original stays as it is, under its name: only the renditions are written, and saved
    with a queryset update, so the resource's history and "last changed" are not touched.
    Returns False when there is nothing to do; raises ValidationError for a picture that
    would be refused as an upload today.
    """
    if not resource.image or (resource.image_card and resource.image_detail):
        return False
    with resource.image.open("rb") as stored:
        data = stored.read()
    upload = UploadedFile(io.BytesIO(data), name=PurePath(resource.image.name).name, size=len(data))
    prepared = prepare_upload(upload)
    for rendition, content in prepared.renditions.items():
        field = getattr(resource, f"image_{rendition}")
        field.save(content.name, content, save=False)
    type(resource).objects.filter(pk=resource.pk).update(
        image_card=resource.image_card.name, image_detail=resource.image_detail.name
    )
    # update() sends no signal: cached public pages still point at the original image.
    content_changed()
    return True


def size_from_name(file: FieldFile | None) -> tuple[int, int] | None:
    """(width, height) from a generated name, or None for names made before renditions."""
    match = _SIZE_IN_NAME.search(file.name or "") if file else None
    return (int(match["width"]), int(match["height"])) if match else None
