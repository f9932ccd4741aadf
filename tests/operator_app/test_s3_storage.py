"""Uploads in S3-compatible object storage (issue 11): with STORAGE_BACKEND=s3 the app's own views upload to a
real S3 server on loopback (moto's, started here; no S3 call is mocked), stream the bytes back through the
base-checking view, delete the files a regenerated filing replaced, and remove the objects of a request that
rolled back. The bucket is checked with boto3, as an operator would check it."""
import logging
import re
import socket
import uuid
from io import BytesIO

import boto3
import pytest
from botocore.config import Config as BotoConfig
from moto.server import ThreadedMotoServer
from sqlalchemy import select

from operator_app.db import scoped_to, unscoped
from operator_app.extensions import db
from operator_app.filings import services as filing_services
from operator_app.filings.models import QuarterlyFiling
from operator_app.storage import S3Storage, StoredFile, storage, store_bytes
from operator_app.timeutil import today_in
from tenants.rules import rules_of

from ..conftest import make_app
from ..helpers import PDF_BYTES, Browser, Factory, valid_uscc

REGION = "us-east-1"
KEY_ID, SECRET = "test-key-id", "test-secret-key"
PREFIX = "shuangchuang/"


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def s3_server():
    """A real S3-compatible server (moto) on a free loopback port, for the module."""
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_server):
    """A new private bucket, and a boto3 client to look into it."""
    client = boto3.client("s3", endpoint_url=s3_server, region_name=REGION, aws_access_key_id=KEY_ID,
                          aws_secret_access_key=SECRET)
    name = f"uploads-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    yield name, client
    client.close()


def objects(bucket):
    """{object name: bytes} of everything in the bucket."""
    name, client = bucket
    listed = client.list_objects_v2(Bucket=name).get("Contents", [])
    return {item["Key"]: client.get_object(Bucket=name, Key=item["Key"])["Body"].read() for item in listed}


@pytest.fixture
def s3_app(app, s3_server, bucket, tmp_path):
    """The app on the run's database with its uploads in ``bucket`` (configured as production configures it);
    its local upload folder must stay empty."""
    return make_app(app.config["SQLALCHEMY_DATABASE_URI"], STORAGE_BACKEND="s3", S3_ENDPOINT_URL=s3_server,
                    S3_BUCKET=bucket[0], S3_REGION=REGION, S3_ACCESS_KEY_ID=KEY_ID, S3_SECRET_ACCESS_KEY=SECRET,
                    S3_PREFIX="shuangchuang", UPLOAD_FOLDER=str(tmp_path / "local-uploads"))


def _stored_keys(app, base):
    with app.app_context(), scoped_to(base.id):
        return sorted(db.session.scalars(select(StoredFile.key)))


def test_upload_download_and_removal_of_a_document_go_through_the_bucket(s3_app, bucket, tmp_path):
    factory = Factory(s3_app)
    base = factory.base("s3-alpha")
    company_id = factory.company(base)
    browser = Browser(s3_app.test_client())
    browser.login(base.users["staff"])
    detail = f"/b/{base.slug}/tenants/{company_id}"

    response = browser.client.post(f"{detail}/documents", data={
        "csrf_token": browser.csrf_token(detail), "kind": "lease", "file": (BytesIO(PDF_BYTES), "租赁合同.pdf")})
    assert response.status_code == 302
    [key] = _stored_keys(s3_app, base)
    assert re.fullmatch(rf"{base.id}/[0-9a-f]{{32}}\.pdf", key)
    assert objects(bucket) == {PREFIX + key: PDF_BYTES}
    head = bucket[1].head_object(Bucket=bucket[0], Key=PREFIX + key)
    assert head["ContentType"] == "application/pdf" and head["ContentLength"] == len(PDF_BYTES)
    assert not (tmp_path / "local-uploads").exists() or not any((tmp_path / "local-uploads").rglob("*"))

    # Downloaded through the view that loads the record in the base: the bytes streamed from the bucket.
    page = browser.get(detail).get_data(as_text=True)
    document_id = int(re.search(rf"{detail}/documents/(\d+)\"", page).group(1))
    download = browser.get(f"{detail}/documents/{document_id}")
    assert download.status_code == 200 and download.data == PDF_BYTES
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Length"] == str(len(PDF_BYTES))
    assert download.headers["Content-Disposition"].startswith('attachment; filename="file.pdf"; filename*=UTF-8')
    assert "no-store" in download.headers["Cache-Control"]
    # Nothing points a browser at the bucket, and another base's staff cannot reach the file.
    assert "127.0.0.1" not in page and bucket[0] not in page
    outsider = Browser(s3_app.test_client())
    outsider.login(factory.base("s3-beta").users["staff"])
    assert outsider.get(f"{detail}/documents/{document_id}").status_code == 404

    # Taking the document out of the file keeps the stored file (records are deleted softly).
    token = browser.csrf_token(detail)
    assert browser.client.post(f"{detail}/documents/{document_id}/delete",
                               data={"csrf_token": token}).status_code == 302
    assert document_id not in map(int, re.findall(rf"{detail}/documents/(\d+)\"", browser.get(detail).get_data(
        as_text=True)))
    assert objects(bucket) == {PREFIX + key: PDF_BYTES}


def test_a_regenerated_filing_deletes_the_files_it_replaced_from_the_bucket(s3_app, bucket):
    factory = Factory(s3_app)
    base = factory.base("s3-filing")
    factory.company(base)
    browser = Browser(s3_app.test_client())
    browser.login(base.owner)
    year, quarter = filing_services.previous_quarter(*filing_services.quarter_of(today_in("Asia/Shanghai")))
    generate = f"/b/{base.slug}/filings/quarterly/{year}/{quarter}/generate"
    token = browser.csrf_token(f"/b/{base.slug}/filings/quarterly/{year}/{quarter}")

    assert browser.client.post(generate, data={"csrf_token": token}).status_code == 302
    first = _stored_keys(s3_app, base)
    assert len(first) == 3 and sorted(objects(bucket)) == [PREFIX + key for key in first]
    with s3_app.app_context(), unscoped("test finds the filing"):
        filing_id = db.session.scalar(select(QuarterlyFiling.id))
    download = browser.get(f"/b/{base.slug}/filings/{filing_id}/download/json")
    json_key = next(key for key in first if key.endswith(".json"))
    assert download.status_code == 200 and download.data == objects(bucket)[PREFIX + json_key]

    # Regenerating the draft writes three new files and, once committed, deletes the three it replaced.
    assert browser.client.post(generate, data={"csrf_token": token}).status_code == 302
    second = _stored_keys(s3_app, base)
    assert len(second) == 3 and not set(first) & set(second)
    assert sorted(objects(bucket)) == [PREFIX + key for key in second]

    # A file gone from the bucket (a draft regenerated a moment ago) is the view's "download it again".
    json_key = next(key for key in second if key.endswith(".json"))
    bucket[1].delete_object(Bucket=bucket[0], Key=PREFIX + json_key)
    missing = browser.get(f"/b/{base.slug}/filings/{filing_id}/download/json")
    assert missing.status_code == 302 and missing.headers["Location"].endswith(f"/filings/{filing_id}")


def test_a_request_that_rolls_back_leaves_no_object_behind(s3_app, bucket):
    factory = Factory(s3_app)
    base = factory.base("s3-apply")
    with s3_app.test_request_context(), scoped_to(base.id):
        from operator_app.accounts.models import Base

        rules = rules_of(db.session.get(Base, base.id))
        rules.accepts_applications, rules.required_documents = True, ["licence", "business_plan"]
        db.session.commit()
    visitor = Browser(s3_app.test_client())
    token = visitor.csrf_token(f"/p/{base.slug}/apply")
    # The licence is stored first; the business plan is refused, so the whole application rolls back.
    response = visitor.client.post(f"/p/{base.slug}/apply", data={
        "csrf_token": token, "name": "晋源企业", "uscc": valid_uscc(41), "industry": "I",
        "document_licence": (BytesIO(PDF_BYTES), "执照.pdf"),
        "document_business_plan": (BytesIO(b"not a document at all"), "plan.exe")})
    assert response.status_code == 200 and "不接受此类文件" in response.get_data(as_text=True)
    assert _stored_keys(s3_app, base) == [] and objects(bucket) == {}

    # The same in a service call: the object written before the rollback is gone after it.
    with s3_app.test_request_context(), scoped_to(base.id):
        key = store_bytes(PDF_BYTES, "pdf", "执照.pdf").key
        assert storage().exists(key) and storage().read(key) == PDF_BYTES
        assert objects(bucket) == {PREFIX + key: PDF_BYTES}
        db.session.rollback()
        assert not storage().exists(key)
        with pytest.raises(FileNotFoundError):
            storage().read(key)
    assert objects(bucket) == {}


def test_an_unreachable_bucket_at_rollback_leaves_an_orphan_and_a_log_line_not_an_error(s3_app, bucket, caplog):
    base = Factory(s3_app).base("s3-orphan")
    with s3_app.test_request_context(), scoped_to(base.id):
        key = store_bytes(PDF_BYTES, "pdf", "执照.pdf").key
        backend = storage()
        assert isinstance(backend, S3Storage)
        real_client, backend.client = backend.client, boto3.client(  # the service went away after the write
            "s3", endpoint_url=f"http://127.0.0.1:{_free_port()}", region_name=REGION, aws_access_key_id=KEY_ID,
            aws_secret_access_key=SECRET,
            config=BotoConfig(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=1))
        try:
            with caplog.at_level(logging.ERROR, logger="operator_app.storage"):
                db.session.rollback()
        finally:
            backend.client = real_client
    assert f"Could not delete the rolled back file {key}" in caplog.text
    assert objects(bucket) == {PREFIX + key: PDF_BYTES}  # the orphan; the row is gone with the rollback


def test_flask_backup_and_restore_refuse_object_storage_and_say_what_to_do(s3_server, bucket, tmp_path):
    application = make_app(f"sqlite:///{tmp_path / 'embedded.db'}", STORAGE_BACKEND="s3",
                           S3_ENDPOINT_URL=s3_server, S3_BUCKET=bucket[0], S3_REGION=REGION,
                           S3_ACCESS_KEY_ID=KEY_ID, S3_SECRET_ACCESS_KEY=SECRET)
    archive = tmp_path / "old.tar.gz"
    archive.write_bytes(b"")
    for args in (["backup", str(tmp_path)], ["restore", str(archive)]):
        result = application.test_cli_runner().invoke(args=args)
        assert result.exit_code == 1, result.output
        message = " ".join(result.output.split())
        assert f"this app keeps them in the bucket {bucket[0]} at {s3_server}" in message
        assert "STORAGE_BACKEND=s3" in message and "rclone sync" in message and 'docs/deploy.md ("Backups")' in message
    assert sorted(path.name for path in tmp_path.iterdir()) == ["old.tar.gz"]


@pytest.mark.parametrize("settings, problem", [
    ({"STORAGE_BACKEND": "s3"}, "STORAGE_BACKEND=s3 needs S3_BUCKET"),
    ({"STORAGE_BACKEND": "ftp"}, "STORAGE_BACKEND must be local or s3"),
    ({"STORAGE_BACKEND": "s3", "S3_BUCKET": "b", "S3_ADDRESSING_STYLE": "dns"}, "S3_ADDRESSING_STYLE must be"),
])
def test_a_storage_configuration_that_cannot_work_is_refused_at_start(tmp_path, settings, problem):
    with pytest.raises(RuntimeError, match=problem):
        make_app(f"sqlite:///{tmp_path / 'x.db'}", **settings)


def test_the_prefix_gets_one_slash_and_the_settings_come_from_the_environment(monkeypatch, tmp_path):
    for name, value in {"STORAGE_BACKEND": "S3", "S3_BUCKET": "shuangchuang-files", "S3_PREFIX": "/prod/",
                        "S3_ENDPOINT_URL": "https://oss-cn-beijing.aliyuncs.com", "S3_REGION": "cn-beijing",
                        "S3_ADDRESSING_STYLE": "virtual", "S3_ACCESS_KEY_ID": "id",
                        "S3_SECRET_ACCESS_KEY": "secret"}.items():
        monkeypatch.setenv(name, value)
    application = make_app(f"sqlite:///{tmp_path / 'x.db'}")
    with application.app_context():
        backend = storage()
    assert isinstance(backend, S3Storage) and backend.bucket == "shuangchuang-files" and backend.prefix == "prod/"
    assert backend.client.meta.endpoint_url == "https://oss-cn-beijing.aliyuncs.com"
    assert backend.client.meta.region_name == "cn-beijing"
    assert backend.client.meta.config.s3 == {"addressing_style": "virtual"}
