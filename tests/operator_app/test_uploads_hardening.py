"""Uploads (issue 10 item 6): oversized requests answer 413, decompression bombs and other formats are refused
with a message on the field, stored names are generated, and files leave only through the base-checking view
with a Content-Disposition that no file name can break."""
import re
import struct
import zlib
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from operator_app.extensions import db
from operator_app.storage import StoredFile, content_disposition

from ..conftest import make_app
from ..helpers import Browser, Factory, field_errors

PDF = b"%PDF-1.4\n% test\n"


def _png_header(width, height):
    """A PNG that declares ``width`` x ``height`` pixels in a few dozen bytes (a decompression bomb's header)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def _image(kind):
    out = BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, kind)
    return out.getvalue()


@pytest.fixture
def company(factory, browser):
    base = factory.base("alpha")
    company_id = factory.company(base)
    browser.login(base.users["staff"])
    return base, company_id, f"/b/{base.slug}/tenants/{company_id}"


def _upload(browser, detail, data, filename):
    return browser.client.post(f"{detail}/documents", data={
        "csrf_token": browser.csrf_token(detail), "kind": "lease", "file": (BytesIO(data), filename)})


def _stored_count(app):
    from operator_app.db import unscoped

    with app.app_context(), unscoped("test counts every base's files"):
        return db.session.scalar(select(func.count(StoredFile.id)))


def test_a_request_over_max_content_length_is_413_in_chinese_and_stores_nothing(databases, app):
    small = make_app(app.config["SQLALCHEMY_DATABASE_URI"], MAX_CONTENT_LENGTH=64 * 1024)
    base = Factory(small).base("alpha")
    company_id = Factory(small).company(base)
    browser = Browser(small.test_client())
    browser.login(base.users["staff"])
    response = _upload(browser, f"/b/{base.slug}/tenants/{company_id}", PDF + b"0" * 100_000, "大文件.pdf")
    page = response.get_data(as_text=True)
    assert response.status_code == 413 and "文件过大" in page
    assert _stored_count(small) == 0
    assert not any(Path(small.config["UPLOAD_FOLDER"]).rglob("*.*"))


@pytest.mark.parametrize("width, height", [(100_000, 100_000),  # beyond Pillow's own limit: DecompressionBombError
                                           (8_000, 8_000)])  # below it, above ours (MAX_PIXELS)
def test_a_decompression_bomb_gets_a_chinese_field_error_not_a_500(app, company, browser, width, height):
    base, company_id, detail = company
    response = _upload(browser, detail, _png_header(width, height), "炸弹.png")
    assert response.status_code == 200
    assert field_errors(response)["file"] == ["图片过大（超过 50 百万像素），请上传较小的照片。"]
    assert _stored_count(app) == 0


@pytest.mark.parametrize("data, filename", [
    (_image("GIF"), "动图.gif"), (_image("BMP"), "位图.bmp"), (_image("TIFF"), "扫描.tif"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "logo.svg"),
    (b"<html><script>alert(1)</script></html>", "photo.jpg"),  # the name says JPEG, the bytes do not
    (b"MZ\x90\x00" + b"\0" * 100, "营业执照.pdf"),
])
def test_only_the_allowed_formats_are_accepted(app, company, browser, data, filename):
    base, company_id, detail = company
    response = _upload(browser, detail, data, filename)
    assert response.status_code == 200
    assert field_errors(response)["file"] == ["不接受此类文件。可接受：PDF, JPG, PNG, WEBP。"]
    assert _stored_count(app) == 0


def test_a_file_whose_first_bytes_lie_is_not_decoded_as_another_format(app, company, browser):
    base, company_id, detail = company
    # JPEG's magic bytes in front of a PNG: Pillow is allowed only the JPEG decoder and refuses it.
    response = _upload(browser, detail, b"\xff\xd8\xff" + _image("PNG"), "照片.jpg")
    assert field_errors(response)["file"] == ["无法读取该照片：文件已损坏或不完整。"]
    assert _stored_count(app) == 0


def test_stored_names_are_generated_and_the_original_name_is_only_kept(app, company, browser):
    base, company_id, detail = company
    response = _upload(browser, detail, PDF, "../../../etc/evil.php.pdf")
    assert response.status_code == 302
    from operator_app.db import unscoped

    with app.app_context(), unscoped("test reads the stored file"):
        stored = db.session.scalars(select(StoredFile)).one()
    assert re.fullmatch(rf"{base.id}/[0-9a-f]{{32}}\.pdf", stored.key)
    assert stored.original_name == "../../../etc/evil.php.pdf"
    root = Path(app.config["UPLOAD_FOLDER"])
    assert (root / stored.key).read_bytes() == PDF
    # The folder is shared by the whole run: every file in it, this one included, has a generated name.
    files = [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()]
    assert stored.key in files
    assert all(re.fullmatch(r"[0-9]+/[0-9a-f]{32}\.[a-z]+", name) for name in files), files
    # The upload folder is not served as such: only the view that loads the record in the base sends it.
    for path in (f"/static/../uploads/{stored.key}", f"/uploads/{stored.key}", f"/static/{stored.key}"):
        assert browser.get(path).status_code == 404, path


@pytest.mark.parametrize("filename, ascii_name, utf8_name", [
    ("营业执照.pdf", "file.pdf", "%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7.pdf"),
    ("租赁合同 2026.pdf", "2026.pdf", "%E7%A7%9F%E8%B5%81%E5%90%88%E5%90%8C%202026.pdf"),
    ('a"b\r\nSet-Cookie: admin=1.pdf', "abSet-Cookie admin1.pdf", "a%22bSet-Cookie%3A%20admin%3D1.pdf"),
    ('合同"; filename=evil.exe', "filenameevil.exe.pdf",
     "%E5%90%88%E5%90%8C%22%3B%20filename%3Devil.exe.pdf"),
    ("invoice\u202efdp.exe", "invoicefdp.exe.pdf", None),  # a right-to-left override would show "exe.pdf"
    ("C:\\fakepath\\licence.pdf", "licence.pdf", None),
])
def test_downloads_have_a_safe_content_disposition(app, factory, browser, filename, ascii_name, utf8_name):
    base = factory.base("alpha")
    company_id = factory.company(base)
    document_id = factory.document(base, company_id, data=PDF, filename=filename)
    browser.login(base.users["staff"])
    response = browser.get(f"/b/{base.slug}/tenants/{company_id}/documents/{document_id}")
    assert response.status_code == 200 and response.data == PDF
    expected = f'attachment; filename="{ascii_name}"' + (f"; filename*=UTF-8''{utf8_name}" if utf8_name else "")
    assert response.headers.getlist("Content-Disposition") == [expected]
    assert "Set-Cookie" not in response.headers or "admin" not in response.headers["Set-Cookie"]
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # Another base's staff cannot reach it: the view loads the record within the current base first.
    other = factory.base("beta")
    outsider = Browser(app.test_client())
    outsider.login(other.users["staff"])
    assert outsider.get(f"/b/{base.slug}/tenants/{company_id}/documents/{document_id}").status_code == 404
    assert outsider.get(f"/b/{other.slug}/tenants/{company_id}/documents/{document_id}").status_code == 404


def test_a_photo_is_served_inline_and_other_files_as_attachments():
    assert content_disposition("活动照片.jpg", "1/ab.jpg", as_attachment=False).startswith('inline; filename="file.jpg"')
    assert content_disposition("", "1/ab.png") == 'attachment; filename="file.png"'
    assert content_disposition("x.PDF", "1/ab.pdf") == 'attachment; filename="x.pdf"'


def test_the_413_page_states_a_limit_below_1_mb_in_kb_not_as_0_mb(databases, app):
    from operator_app.errors import request_size_text

    assert [request_size_text(size) for size in (500, 64 * 1024, 1536 * 1024, 25 * 1024 * 1024)] == [
        "500 B", "64 KB", "1.5 MB", "25 MB"]
    small = make_app(app.config["SQLALCHEMY_DATABASE_URI"], MAX_CONTENT_LENGTH=64 * 1024)
    response = small.test_client().post("/login", data={"email": "a@example.com", "password": "0" * 100_000})
    page = response.get_data(as_text=True)
    assert response.status_code == 413 and "文件过大" in page
    assert "单次 64 KB 的上限" in page and "0 MB" not in page
