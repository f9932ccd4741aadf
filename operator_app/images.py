"""Uploaded photos: checked, decoded within limits, re-encoded without metadata, thumbnailed, stored.

DESIGN.md "Files": a photo is accepted only when its first bytes say JPEG, PNG or WEBP and Pillow, limited
to that one format, agrees. It is decoded only below a pixel limit (a small file can declare a huge
picture), turned upright from its EXIF orientation, shrunk, and written again from the pixels alone, so
GPS position, camera serial numbers, comments and colour profiles never reach storage. The capture time
is read from EXIF first and kept as evidence. Both the picture and its JPEG thumbnail go through the
storage layer, so they are confined to the current base and removed again if the transaction rolls back.
"""
import os
import struct
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta
from io import BytesIO

from flask_babel import lazy_gettext as _l
from PIL import ExifTags, Image

from .storage import StoredFile, UploadError, detect_type, read_upload, store_bytes
from .timeutil import utcnow

# Larger pictures are refused before decoding: 50 megapixels already take 200 MB of memory as RGBA.
MAX_PIXELS = 50_000_000
# The storage type (from the magic bytes) -> the only Pillow format allowed to open it.
PILLOW_FORMATS = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}
# A scanned or photographed document stays legible at this size (an A4 page at about 250 dpi).
DOCUMENT_MAX_SIDE = 3000
JPEG_QUALITY = 85
WEBP_QUALITY = 85
# EXIF tags tried in order for the capture time: when the shutter fired, when it was digitised, when the
# file was last changed (some phones write only the last).
CAPTURE_TAGS = ((ExifTags.IFD.Exif, ExifTags.Base.DateTimeOriginal),
                (ExifTags.IFD.Exif, ExifTags.Base.DateTimeDigitized),
                (None, ExifTags.Base.DateTime))
# EXIF Orientation -> the transposition that makes the picture upright (1, or none, is upright already).
TRANSPOSITIONS = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
                  4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270,
                  7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_90}
EXIF_TIME_FORMAT = "%Y:%m:%d %H:%M:%S"
EARLIEST_CAPTURE = datetime(1990, 1, 1)
# What a broken file makes Pillow raise while opening or decoding it.
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error)

NOT_A_PHOTO = _l("This file is not a photo. Accepted: JPG, PNG, WEBP.")
DAMAGED = _l("This photo cannot be read: the file is damaged or incomplete.")
TOO_LARGE = _l("The picture is too large (more than %(mp)d megapixels). Send a smaller photo.",
               mp=MAX_PIXELS // 1_000_000)


@dataclass(frozen=True)
class SavedImage:
    """A stored photo: the re-encoded picture, its thumbnail, when it was taken and its size in pixels."""

    stored: StoredFile
    thumbnail: StoredFile
    captured_at: datetime | None
    width: int
    height: int


def save_image(upload, *, by=None, max_side=2048, thumb_side=400):
    """Store the werkzeug ``upload`` as a clean photo and a JPEG thumbnail; returns a SavedImage.

    The picture keeps its type (JPEG, PNG or WEBP), is turned upright, shrunk so its longer side is at most
    ``max_side`` (never enlarged) and carries no metadata at all; its first frame is kept if it is animated.
    The thumbnail is an RGB JPEG whose longer side is at most ``thumb_side``. ``captured_at`` is the
    first sane EXIF DateTimeOriginal, DateTimeDigitized or DateTime (well formed, from 1990 to tomorrow), as
    a naive datetime: EXIF has no time zone, so it is the camera's local time; None when the photo has none.

    Raises UploadError with a user-facing message for an empty or oversized file, a file that is not a
    JPEG, PNG or WEBP picture, a picture of more than MAX_PIXELS pixels and a damaged one. Nothing is
    stored then.
    """
    data = read_upload(upload)
    kind = detect_type(data[:16])
    if kind not in PILLOW_FORMATS:
        raise UploadError(NOT_A_PHOTO)
    picture, captured_at = _clean(data, kind, max_side)
    thumbnail = _thumbnail(picture, thumb_side)
    name = _stem(upload.filename)
    return SavedImage(stored=store_bytes(_encode(picture, kind), kind, f"{name}.{kind}", by=by),
                      thumbnail=store_bytes(_encode(thumbnail, "jpg"), "jpg", f"thumb-{name}.jpg", by=by),
                      captured_at=captured_at, width=picture.width, height=picture.height)


def without_metadata(data, kind, max_side=DOCUMENT_MAX_SIDE):
    """The picture ``data`` of storage type ``kind`` re-encoded from its pixels alone, upright and shrunk to
    ``max_side``: what storage keeps of a scanned or photographed document (a licence, a sign-in sheet).

    Raises UploadError when it is damaged or too large.
    """
    picture, _ = _clean(data, kind, max_side)
    return _encode(picture, kind)


def _clean(data, kind, max_side):
    """(the decoded picture in a plain mode, shrunk to ``max_side``; its capture time)."""
    image, captured_at = _decode(data, kind, max_side)
    return _picture(image, max_side), captured_at


def _decode(data, kind, max_side):
    """The decoded, upright picture and its capture time.

    Raises UploadError when the picture is damaged (Pillow does not see a ``kind`` picture in it) or too
    large.
    """
    image = _open(data, kind)
    _check_pixels(image)
    return _load(image, max_side)


def _open(data, kind):
    """The picture opened (header read, pixels not decoded yet) by the one Pillow format ``kind`` allows.

    Raises UploadError when Pillow does not recognise it or finds it broken, or when it declares more
    pixels than Pillow's own limit (a decompression bomb).
    """
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its own limit and twice that; here that is a refusal too. (The
            # pixel check after opening is what really holds: warning filters are process-wide, not per
            # thread, and MAX_PIXELS is below Pillow's limit.)
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(BytesIO(data), formats=[PILLOW_FORMATS[kind]])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadError(TOO_LARGE) from None
    except DECODE_ERRORS:
        # Including UnidentifiedImageError: the first bytes were right, so the rest is damaged.
        raise UploadError(DAMAGED) from None


def _load(image, max_side):
    """Decode the opened ``image``, read its capture time, turn it upright; returns (image, captured_at).

    Raises UploadError when the pixel data is truncated or corrupt.
    """
    try:
        # A JPEG can be decoded at 1/2, 1/4 or 1/8 scale directly: far less memory for a big photo.
        image.draft(None, (max_side, max_side))
        image.load()
        exif = image.getexif()
    except DECODE_ERRORS:
        raise UploadError(DAMAGED) from None
    return _upright(image, exif), _captured_at(exif)


def _upright(image, exif):
    """``image`` turned as its EXIF Orientation says.

    What ImageOps.exif_transpose does to the pixels, without writing the EXIF back into the image: it is
    dropped anyway, and writing back a malformed one raises TypeError.
    """
    method = TRANSPOSITIONS.get(exif.get(ExifTags.Base.Orientation))
    return image.transpose(method) if method else image


def _check_pixels(image):
    """Raises UploadError when the picture declares more than MAX_PIXELS pixels (checked before decoding)."""
    if image.width * image.height > MAX_PIXELS:
        raise UploadError(TOO_LARGE)


def _captured_at(exif):
    """The first sane capture time among CAPTURE_TAGS (naive, the camera's local time), or None."""
    for ifd, tag in CAPTURE_TAGS:
        moment = _exif_time((exif.get_ifd(ifd) if ifd else exif).get(tag))
        if moment is not None:
            return moment
    return None


def _exif_time(value):
    """An EXIF "YYYY:MM:DD HH:MM:SS" as a datetime when it is well formed and plausible, else None.

    Cameras with an unset clock write zeros or 1970; a time after tomorrow (UTC, so every time zone's
    today is allowed) cannot be a capture time.
    """
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.strptime(value.strip("\x00 "), EXIF_TIME_FORMAT)
    except ValueError:
        return None
    latest = utcnow().replace(tzinfo=None) + timedelta(days=1)
    return moment if EARLIEST_CAPTURE <= moment <= latest else None


def _picture(image, max_side):
    """The picture in a mode every encoder and resampling filter handles, shrunk to fit ``max_side``."""
    picture = _plain_mode(image)
    picture.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return picture


def _plain_mode(image):
    """``image`` as L, LA, RGB or RGBA.

    Transparency kept in ``info`` (a palette entry, a colour key) would be lost with the metadata, palette
    and bilevel pictures would be resized without filtering, CMYK cannot be written as PNG or WEBP, and
    16-bit grey would be clipped to white by a plain conversion, so it is scaled to 8 bits.
    """
    if "transparency" in image.info:
        return image.convert("RGBA")
    if image.mode in ("L", "LA", "RGB", "RGBA"):
        return image
    if image.mode.startswith("I"):
        return image.convert("I").point(lambda value: value / 256).convert("L")
    if image.mode == "1":
        return image.convert("L")
    return image.convert("RGBA" if "A" in image.mode else "RGB")


def _thumbnail(picture, side):
    """An RGB copy of ``picture`` whose longer side is at most ``side``, transparency flattened on white."""
    small = picture.copy()
    small.thumbnail((side, side), Image.Resampling.LANCZOS)
    if "A" not in small.mode:
        return small.convert("RGB")
    white = Image.new("RGBA", small.size, "white")
    return Image.alpha_composite(white, small.convert("RGBA")).convert("RGB")


def _encode(image, kind):
    """The bytes of ``image`` written as ``kind`` from its pixels only: no EXIF, ICC profile or comment."""
    # Encoders fall back on image.info for some metadata (a PNG's colour profile, a JPEG's comment).
    image.info = {}
    out = BytesIO()
    if kind == "jpg":
        image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    elif kind == "png":
        image.save(out, "PNG", optimize=True)
    else:
        image.save(out, "WEBP", quality=WEBP_QUALITY)
    return out.getvalue()


def _stem(filename):
    """The uploaded name without its extension: the stored name gets the real type's."""
    return os.path.splitext(filename or "photo")[0]
