"""The demo's stand-in photos carry their title in Chinese: the caption is drawn with a CJK font (Noto Sans CJK from
Debian's fonts-noto-cjk, which .ci/run installs), not as the boxes of a font without Chinese."""
from datetime import datetime

from PIL import Image, ImageDraw

from ledger.demo import _photo, caption_font


def drawn(font, char):
    image = Image.new("L", (80, 80))
    ImageDraw.Draw(image).text((4, 4), char, fill=255, font=font)
    return image.tobytes()


def test_the_caption_font_has_the_chinese_of_the_captions():
    font = caption_font()
    assert font.getname()[0].startswith("Noto Sans CJK")
    missing = drawn(font, "\U000e0fff")  # a code point no font draws: the "missing glyph" box
    for char in "创业培训沙龙现场":
        assert drawn(font, char) != missing, char


def test_a_demo_photo_is_a_jpeg_with_its_caption_drawn():
    upload = _photo((30, 90, 160), "创业培训沙龙", datetime(2026, 3, 5, 14, 0))
    image = Image.open(upload.stream)
    assert image.format == "JPEG" and image.size == (1200, 800)
    caption = image.crop((30, 30, 500, 120)).convert("L")
    assert caption.getextrema()[1] > 200  # white text on the blue
