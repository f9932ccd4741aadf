"""Uploaded photos (operator_app.images): only real JPEG/PNG/WEBP pictures are kept, decoded within limits,
turned upright, shrunk and written again without any metadata; refused files leave nothing behind."""
import os
import random
import struct
import zlib
from datetime import datetime
from io import BytesIO

import pytest
from flask_babel import lazy_gettext as _l
from PIL import ExifTags, Image, ImageCms
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from operator_app.accounts.models import User
from operator_app.db import scoped_to
from operator_app.extensions import db
from operator_app.images import DAMAGED, NOT_A_PHOTO, TOO_LARGE, save_image
from operator_app.storage import StoredFile, UploadError, storage

from ..helpers import PDF_BYTES

SERIAL = "SN-4711-0815"
ICC_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


@pytest.fixture
def base(factory):
    return factory.base()


@pytest.fixture
def owner(app, base):
    """The base's owner, loaded inside a request confined to the base (where views call save_image)."""
    with app.test_request_context(), scoped_to(base.id):
        yield db.session.get(User, base.owner.id)
        db.session.rollback()


def upload(data, filename):
    return FileStorage(stream=BytesIO(data), filename=filename)


def encoded(image, fmt, **params):
    out = BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def camera_exif(orientation=None, **times):
    """EXIF as a phone writes it: GPS position, body serial number, and the times given by tag name."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestCam"
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    if "DateTime" in times:
        exif[ExifTags.Base.DateTime] = times.pop("DateTime")
    details = exif.get_ifd(ExifTags.IFD.Exif)
    details[ExifTags.Base.BodySerialNumber] = SERIAL
    for name, value in times.items():
        details[ExifTags.Base[name]] = value
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef], gps[ExifTags.GPS.GPSLatitude] = "N", (37.0, 52.0, 12.5)
    gps[ExifTags.GPS.GPSLongitudeRef], gps[ExifTags.GPS.GPSLongitude] = "E", (112.0, 33.0, 4.25)
    return exif.tobytes()


def one_colour_png(width, height):
    """A valid 1-bit greyscale PNG of ``width`` x ``height`` black pixels: a few kilobytes at any size."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = bytes(1 + (width + 7) // 8)  # filter byte "none", then the packed pixels
    compressor = zlib.compressobj(9)
    pixels = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def reopened(stored):
    """The stored file read back from storage and opened by Pillow."""
    return Image.open(BytesIO(storage().read(stored.key)))


def files_on_disk(app):
    return {os.path.join(root, name) for root, _, names in os.walk(app.config["UPLOAD_FOLDER"]) for name in names}


def stored_count():
    return db.session.scalar(select(func.count(StoredFile.id)))


def test_a_phone_photo_is_turned_upright_and_keeps_no_exif(app, base, owner):
    photo = Image.new("RGB", (600, 400), "blue")
    photo.paste((255, 0, 0), (0, 0, 300, 200))  # red top-left as the sensor saw it
    data = encoded(photo, "JPEG", exif=camera_exif(6, DateTimeOriginal="2025:04:03 10:11:12",
                                                    DateTime="2025:05:01 08:00:00"),
                   icc_profile=ICC_SRGB, comment=b"shot at the north gate")

    saved = save_image(upload(data, "IMG_0001.JPEG"), by=owner)
    db.session.commit()

    picture = reopened(saved.stored)
    assert picture.format == "JPEG" and picture.size == (400, 600) == (saved.width, saved.height)
    # Orientation 6: shown turned a quarter clockwise, so the red corner is now at the top right.
    assert picture.getpixel((380, 20))[0] > 200 and picture.getpixel((20, 20))[2] > 200
    assert len(picture.getexif()) == 0 and picture.getexif().get_ifd(ExifTags.IFD.GPSInfo) == {}
    assert not {"exif", "icc_profile", "comment"} & set(picture.info)
    assert [marker for marker, _ in picture.applist] == ["APP0"]  # JFIF only: no APP1 EXIF/XMP, no APP2 ICC
    raw = storage().read(saved.stored.key)
    assert b"Exif" not in raw and SERIAL.encode() not in raw and b"TestCam" not in raw
    assert saved.captured_at == datetime(2025, 4, 3, 10, 11, 12)

    thumbnail = reopened(saved.thumbnail)
    assert thumbnail.format == "JPEG" and thumbnail.mode == "RGB" and max(thumbnail.size) <= 400
    assert thumbnail.size == (267, 400) and "exif" not in thumbnail.info

    assert (saved.stored.original_name, saved.stored.content_type) == ("IMG_0001.jpg", "image/jpeg")
    assert (saved.thumbnail.original_name, saved.thumbnail.content_type) == ("thumb-IMG_0001.jpg", "image/jpeg")
    assert saved.stored.key.startswith(f"{base.id}/") and saved.thumbnail.key.startswith(f"{base.id}/")
    assert saved.stored.uploaded_by_id == owner.id and saved.stored.base_id == base.id
    assert saved.stored.size == len(raw) and stored_count() == 2


@pytest.mark.parametrize("times, expected", [
    ({"DateTimeOriginal": "2025:04:03 10:11:12", "DateTimeDigitized": "2025:04:04 00:00:00",
      "DateTime": "2025:05:01 08:00:00"}, datetime(2025, 4, 3, 10, 11, 12)),
    ({"DateTimeOriginal": "0000:00:00 00:00:00", "DateTimeDigitized": "2024:12:31 23:59:59"},
     datetime(2024, 12, 31, 23, 59, 59)),
    ({"DateTime": "2023:01:02 03:04:05"}, datetime(2023, 1, 2, 3, 4, 5)),
    ({"DateTimeOriginal": "1970:01:01 00:00:00"}, None),
    ({"DateTimeOriginal": "2999:01:01 00:00:00"}, None),
    ({"DateTimeOriginal": "yesterday"}, None),
    ({}, None),
])
def test_the_capture_time_is_the_first_sane_exif_time(owner, times, expected):
    data = encoded(Image.new("RGB", (40, 30), "green"), "JPEG", exif=camera_exif(**times))

    assert save_image(upload(data, "a.jpg"), by=owner).captured_at == expected


def test_a_png_keeps_its_transparency_and_its_thumbnail_is_flattened_on_white(owner):
    drawing = Image.new("RGBA", (300, 200), (0, 0, 0, 0))
    drawing.paste((255, 0, 0, 255), (150, 0, 300, 200))
    data = encoded(drawing, "PNG", icc_profile=ICC_SRGB, exif=camera_exif(DateTimeOriginal="2025:04:03 10:11:12"))

    saved = save_image(upload(data, "scan.jpg"), by=owner)

    picture = reopened(saved.stored)
    assert picture.format == "PNG" and picture.mode == "RGBA" and picture.size == (300, 200)
    assert picture.getpixel((10, 10))[3] == 0 and picture.getpixel((290, 10)) == (255, 0, 0, 255)
    assert not {"exif", "icc_profile"} & set(picture.info) and picture.text == {}
    assert saved.captured_at == datetime(2025, 4, 3, 10, 11, 12)
    assert (saved.stored.original_name, saved.stored.content_type) == ("scan.png", "image/png")
    thumbnail = reopened(saved.thumbnail)
    assert thumbnail.format == "JPEG" and thumbnail.mode == "RGB"
    assert min(thumbnail.getpixel((10, 10))) > 240  # white where the drawing was transparent
    red, green, blue = thumbnail.getpixel((290, 10))
    assert red > 240 and green < 20 and blue < 20


def test_a_palette_png_with_a_transparent_entry_stays_transparent(owner):
    drawing = Image.new("P", (60, 40), 1)
    drawing.putpalette([0, 0, 0, 255, 0, 0])
    drawing.paste(0, (0, 0, 30, 40))
    data = encoded(drawing, "PNG", transparency=0)

    picture = reopened(save_image(upload(data, "palette.png"), by=owner).stored)

    assert picture.getpixel((5, 5))[3] == 0 and picture.getpixel((50, 5)) == (255, 0, 0, 255)


def test_16_bit_grey_is_scaled_not_clipped_to_white(owner):
    data = encoded(Image.new("I;16", (40, 30), 32768), "PNG")

    picture = reopened(save_image(upload(data, "grey.png"), by=owner).stored)

    assert picture.mode == "L" and picture.getpixel((5, 5)) == 128


def test_a_webp_is_kept_as_webp_without_exif(owner):
    data = encoded(Image.new("RGB", (320, 240), "orange"), "WEBP", exif=camera_exif())

    saved = save_image(upload(data, "photo.webp"), by=owner)

    picture = reopened(saved.stored)
    assert picture.format == "WEBP" and picture.size == (320, 240) and "exif" not in picture.info
    assert SERIAL.encode() not in storage().read(saved.stored.key)
    assert (saved.stored.original_name, saved.stored.content_type) == ("photo.webp", "image/webp")
    assert reopened(saved.thumbnail).format == "JPEG" and saved.captured_at is None


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_an_animated_picture_keeps_its_first_frame(owner, fmt):
    frames = [Image.new("RGB", (50, 40), colour) for colour in ("red", "lime", "blue")]
    data = encoded(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, lossless=True)

    picture = reopened(save_image(upload(data, "moving"), by=owner).stored)

    red, green, blue = picture.convert("RGB").getpixel((5, 5))
    assert getattr(picture, "n_frames", 1) == 1 and red > 240 and green < 20 and blue < 20


@pytest.mark.parametrize("size, expected", [
    ((5000, 3000), (2048, 1229)), ((3000, 5000), (1229, 2048)), ((8000, 6000), (2048, 1536)), ((640, 480), (640, 480)),
])
def test_a_big_photo_is_shrunk_to_2048_pixels_and_a_small_one_is_not_enlarged(owner, size, expected):
    data = encoded(Image.new("RGB", size, "teal"), "JPEG")

    saved = save_image(upload(data, "big.jpg"), by=owner)

    assert reopened(saved.stored).size == expected == (saved.width, saved.height)
    assert max(reopened(saved.thumbnail).size) == 400


def truncated_jpeg():
    data = encoded(Image.effect_noise((400, 300), 60).convert("RGB"), "JPEG")
    return data[:len(data) // 2]


@pytest.mark.parametrize("data, filename, message", [
    (PDF_BYTES, "photo.jpg", NOT_A_PHOTO),
    (random.Random(7).randbytes(5000), "photo.jpg", NOT_A_PHOTO),
    (encoded(Image.new("P", (40, 30)), "GIF"), "photo.gif", NOT_A_PHOTO),
    (truncated_jpeg(), "photo.jpg", DAMAGED),
    (b"\xff\xd8\xff" + random.Random(8).randbytes(5000), "photo.jpg", DAMAGED),  # JPEG's first bytes only
    (b"", "photo.jpg", _l("Choose a file to upload.")),
], ids=["pdf", "random", "gif", "truncated", "jpeg-magic-only", "empty"])
def test_what_is_not_a_sound_photo_is_refused_and_nothing_is_kept(app, owner, data, filename, message):
    before = files_on_disk(app)

    with pytest.raises(UploadError) as refused:
        save_image(upload(data, filename), by=owner)
    db.session.rollback()

    assert str(refused.value.message) == str(message)
    assert stored_count() == 0 and files_on_disk(app) == before


def test_no_upload_at_all_is_refused(owner):
    with pytest.raises(UploadError) as refused:
        save_image(None, by=owner)

    assert str(refused.value.message) == str(_l("Choose a file to upload."))


@pytest.mark.parametrize("size", [(10_000, 10_000), (20_000, 10_000), (8_000, 7_000)],
                         ids=["pillow-warns", "pillow-refuses", "over-50-megapixels"])
def test_a_decompression_bomb_is_refused_before_decoding(app, owner, size):
    data = one_colour_png(*size)
    assert len(data) < 100_000
    before = files_on_disk(app)

    with pytest.raises(UploadError) as refused:
        save_image(upload(data, "bomb.png"), by=owner)
    db.session.rollback()

    assert str(refused.value.message) == str(TOO_LARGE) and "50" in str(TOO_LARGE)
    assert stored_count() == 0 and files_on_disk(app) == before


def test_the_hand_made_png_is_a_valid_picture_when_small(owner):
    picture = reopened(save_image(upload(one_colour_png(300, 200), "small.png"), by=owner).stored)

    assert picture.size == (300, 200) and picture.getpixel((5, 5)) == 0


def test_a_file_over_the_upload_limit_is_refused(app, owner):
    app.config["MAX_UPLOAD_BYTES"], limit = 1024 * 1024, app.config["MAX_UPLOAD_BYTES"]
    try:
        with pytest.raises(UploadError) as refused:
            save_image(upload(b"\xff\xd8\xff" + bytes(1024 * 1024), "huge.jpg"), by=owner)
    finally:
        app.config["MAX_UPLOAD_BYTES"] = limit

    assert str(refused.value.message) == str(_l("The file is larger than %(mb)d MB.", mb=1))
    assert stored_count() == 0


def test_a_rolled_back_photo_leaves_no_file_behind(app, owner):
    before = files_on_disk(app)
    saved = save_image(upload(encoded(Image.new("RGB", (64, 48), "navy"), "JPEG"), "gone.jpg"), by=owner)
    assert len(files_on_disk(app) - before) == 2
    keys = (saved.stored.key, saved.thumbnail.key)

    db.session.rollback()

    assert stored_count() == 0 and files_on_disk(app) == before
    assert not any(storage().path(key).exists() for key in keys)
