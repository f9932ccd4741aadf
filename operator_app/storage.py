"""File storage: one interface for every upload; a local folder by default, S3-compatible object storage with
``STORAGE_BACKEND=s3``.

Files get generated names; the original name, type, size and hash are kept in ``StoredFile``. Files are
served only by views that first load the owning record within the current base (``send_stored``): never from
the folder or the bucket directly, which stays private.

A backend has ``write(key, data)`` (all or nothing: a reader never sees half a file), ``read(key)`` and
``open(key)`` (FileNotFoundError for a missing key), ``delete(key)`` (a missing key is no error) and
``exists(key)``.
"""
import base64
import hashlib
import logging
import os
import secrets
import unicodedata
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from flask import current_app, send_file
from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, DateTime, ForeignKey, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from .db import BaseOwnedMixin
from .extensions import db
from .timeutil import utcnow

log = logging.getLogger(__name__)

# What a document upload may be, recognised by its first bytes (never by the name the browser sends).
SIGNATURES = {
    "pdf": (b"%PDF-",),
    "jpg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "webp": (b"RIFF",),  # plus "WEBP" at offset 8, checked below
    "xlsx": (b"PK\x03\x04",),
}
CONTENT_TYPES = {"pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png", "webp": "image/webp",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 # written by the product itself (filings), never accepted as uploads: SIGNATURES decides those
                 "csv": "text/csv; charset=utf-8", "json": "application/json",
                 "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
DOCUMENT_TYPES = ("pdf", "jpg", "png", "webp")
PICTURE_TYPES = ("jpg", "png", "webp")


class UploadError(ValueError):
    """An upload that is not accepted; ``message`` is shown to the user."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class StoredFile(BaseOwnedMixin, db.Model):
    """One stored upload of a base."""

    __tablename__ = "stored_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    original_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def detect_type(head):
    """The type ``head`` (a file's first bytes) shows, among SIGNATURES, or None."""
    for kind, prefixes in SIGNATURES.items():
        if any(head.startswith(prefix) for prefix in prefixes):
            if kind == "webp" and head[8:12] != b"WEBP":
                continue
            return kind
    return None


class LocalStorage:
    """Files under ``<instance>/uploads/<base id>/``."""

    def __init__(self, root):
        self.root = Path(root)

    def _path(self, key):
        return self.root / key

    def write(self, key, data):
        """Write under a temporary name and move into place: a reader never sees half a file."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            temporary.write_bytes(data)
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)

    def read(self, key):
        return self._path(key).read_bytes()

    def open(self, key):
        """The file opened for reading (binary); FileNotFoundError when there is none."""
        return self._path(key).open("rb")

    def delete(self, key):
        self._path(key).unlink(missing_ok=True)

    def exists(self, key):
        return self._path(key).is_file()

    def path(self, key):
        """The file's place on disk (local storage only: object storage has no path)."""
        return self._path(key)

    def describe(self):
        return f"the folder {self.root}"


class S3Storage:
    """Files as objects ``<prefix><base id>/<generated name>`` in a private bucket of S3-compatible storage
    (AWS S3, MinIO, Ceph, Aliyun OSS, Tencent COS, …), reached with boto3.

    A PUT is atomic (a reader sees the whole object or none), so ``write`` needs no temporary name. Objects
    are written without an ACL (the bucket's own, private) and leave only through ``send_stored``.
    """

    def __init__(self, bucket, *, prefix="", endpoint_url=None, region=None, access_key_id=None,
                 secret_access_key=None, addressing_style="auto", client=None):
        self.bucket = bucket
        self.prefix = prefix
        self.endpoint_url = endpoint_url
        if client is None:
            import boto3
            from botocore.config import Config as BotoConfig

            client = boto3.session.Session().client(
                "s3", endpoint_url=endpoint_url or None, region_name=region or None,
                # Unset: boto3's own chain (AWS_* variables, ~/.aws, an instance role).
                aws_access_key_id=access_key_id or None, aws_secret_access_key=secret_access_key or None,
                config=BotoConfig(
                    signature_version="s3v4", s3={"addressing_style": addressing_style or "auto"},
                    connect_timeout=5, read_timeout=60, retries={"max_attempts": 3, "mode": "standard"},
                    # boto3's default CRC checksums are refused by several S3-compatible services; a PUT carries
                    # Content-MD5 instead, which all of them check.
                    request_checksum_calculation="when_required", response_checksum_validation="when_required"))
        self.client = client

    def _key(self, key):
        return self.prefix + key

    def write(self, key, data):
        content_type = CONTENT_TYPES.get(Path(key).suffix.lstrip(".").lower(), "application/octet-stream")
        digest = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type,
                               ContentMD5=digest)

    def _get(self, key):
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except self.client.exceptions.NoSuchKey:
            raise FileNotFoundError(f"s3://{self.bucket}/{self._key(key)}") from None

    def read(self, key):
        with self._get(key)["Body"] as body:
            return body.read()

    def open(self, key):
        """The object's body as a stream (read it in chunks, then close it); FileNotFoundError when missing."""
        answer = self._get(key)
        body = answer["Body"]
        body.size = answer.get("ContentLength")
        return body

    def delete(self, key):
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))  # a missing key is no error in S3

    def exists(self, key):
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def describe(self):
        where = f" at {self.endpoint_url}" if self.endpoint_url else ""
        return f"the bucket {self.bucket}{where} (prefix {self.prefix or 'none'})"


def make_storage(config, instance_path):
    """The backend ``config`` asks for: STORAGE_BACKEND "local" (UPLOAD_FOLDER) or "s3" (the S3_* settings)."""
    if config.get("STORAGE_BACKEND", "local") == "s3":
        return S3Storage(config["S3_BUCKET"], prefix=config.get("S3_PREFIX") or "",
                         endpoint_url=config.get("S3_ENDPOINT_URL"), region=config.get("S3_REGION"),
                         access_key_id=config.get("S3_ACCESS_KEY_ID"),
                         secret_access_key=config.get("S3_SECRET_ACCESS_KEY"),
                         addressing_style=config.get("S3_ADDRESSING_STYLE") or "auto")
    return LocalStorage(config.get("UPLOAD_FOLDER") or Path(instance_path) / "uploads")


def storage():
    """The current app's storage backend (made at first use, then kept: one S3 client per process)."""
    backend = current_app.extensions.get("storage")
    if backend is None:
        backend = current_app.extensions["storage"] = make_storage(current_app.config, current_app.instance_path)
    return backend


def read_upload(upload, max_bytes=None):
    """The bytes of the werkzeug ``upload`` (None counts as empty), read no further than the limit.

    Raises UploadError for an empty file or one larger than ``max_bytes`` (default: MAX_UPLOAD_BYTES).
    """
    max_bytes = max_bytes or current_app.config["MAX_UPLOAD_BYTES"]
    data = upload.read(max_bytes + 1) if upload else b""
    if not data:
        raise UploadError(_l("Choose a file to upload."))
    if len(data) > max_bytes:
        raise UploadError(_l("The file is larger than %(mb)d MB.", mb=max_bytes // (1024 * 1024)))
    return data


def save_upload(upload, *, allowed, by=None, max_bytes=None):
    """Store the werkzeug ``upload`` if its content is one of ``allowed`` types; returns the StoredFile.

    A picture (a photographed licence, a scanned sign-in sheet) is kept re-encoded without its metadata, so
    the location a phone wrote into it never reaches storage. Raises UploadError with a user-facing message
    for an empty, oversized, wrong-typed, damaged or too large file.
    """
    data = read_upload(upload, max_bytes)
    kind = detect_type(data[:16])
    if kind not in allowed:
        raise UploadError(_l("This kind of file is not accepted here. Accepted: %(kinds)s.",
                             kinds=", ".join(k.upper() for k in allowed)))
    if kind in PICTURE_TYPES:
        from .images import without_metadata  # (images builds on this module)

        data = without_metadata(data, kind)
    return store_bytes(data, kind, upload.filename or f"file.{kind}", by=by)


def store_bytes(data, kind, original_name, by=None):
    """Write ``data`` (already checked to be of type ``kind``) under a generated name in the current base.

    Returns the flushed StoredFile. The file is removed again if the transaction rolls back. Raises
    ScopeError (from the flush) when no base is current.
    """
    from .db import current_base_id

    key = f"{current_base_id()}/{secrets.token_hex(16)}.{kind}"
    storage().write(key, data)
    db.session.info.setdefault(_WRITTEN, []).append((storage(), key))
    stored = StoredFile(key=key, original_name=original_name[-255:], content_type=CONTENT_TYPES[kind],
                        size=len(data), sha256=hashlib.sha256(data).hexdigest(), uploaded_by_id=by.id if by else None)
    db.session.add(stored)
    db.session.flush()
    return stored


def discard(stored):
    """Delete ``stored`` (a file the product wrote and replaced, e.g. a draft's old export): its row now, its
    bytes once the transaction commits, so a rollback leaves both in place."""
    db.session.info.setdefault(_DISCARDED, []).append((storage(), stored.key))
    db.session.delete(stored)


_WRITTEN = "files_written_in_transaction"
_DISCARDED = "files_discarded_in_transaction"


@event.listens_for(Session, "after_commit")
def _keep_written_files(session):
    if session.in_nested_transaction():
        return  # a savepoint released (after_commit fires for those too): the transaction can still roll back
    session.info.pop(_WRITTEN, None)
    for backend, key in session.info.pop(_DISCARDED, []):
        _delete_quietly(backend, key, "discarded")


@event.listens_for(Session, "after_soft_rollback")
def _remove_written_files(session, previous_transaction):
    """Files written for records that were rolled back would be orphans: remove them."""
    if not previous_transaction.parent:  # the outermost transaction, not a savepoint
        session.info.pop(_DISCARDED, None)
        for backend, key in session.info.pop(_WRITTEN, []):
            _delete_quietly(backend, key, "rolled back")


def _delete_quietly(backend, key, why):
    """Delete a file no row names any more. The transaction is already over: a failure (object storage
    unreachable) leaves an orphan, which is logged, never an error for the request or job that ended it."""
    try:
        backend.delete(key)
    except Exception:  # any backend's failure: the file is only an orphan
        log.exception("Could not delete the %s file %s from %s", why, key, backend.describe())


def send_stored(stored, as_attachment=True):
    """Answer with the stored file's bytes under its original name (the caller checked access).

    From object storage the bytes are streamed through the app, never by a link to the bucket, which stays
    private. Raises FileNotFoundError when the file is gone (a draft's export replaced meanwhile).
    """
    backend = storage()
    if isinstance(backend, LocalStorage):
        response = send_file(backend.path(stored.key), mimetype=stored.content_type)
    else:
        body = backend.open(stored.key)
        response = send_file(body, mimetype=stored.content_type, conditional=False, etag=False)
        if body.size is not None:
            response.content_length = body.size
    response.headers["Content-Disposition"] = content_disposition(stored.original_name, stored.key,
                                                                  as_attachment)
    return response


# RFC 5987 attr-char: what may stand unencoded in ``filename*``.
_ATTR_CHARS = "!#$&+-.^_`|~"


def download_name(original_name, key):
    """(stem, extension) of the name a browser saves ``original_name`` under: its last path part, without
    control or invisible characters (CR, LF, NUL, right-to-left overrides that make "exe.pdf" look like
    "fdp.exe"), and with the stored type's extension (from the generated ``key``), whatever the uploader sent."""
    visible = "".join(" " if unicodedata.category(ch) == "Zs" else ch for ch in original_name or ""
                      if unicodedata.category(ch)[0] != "C" and unicodedata.category(ch) not in ("Zl", "Zp"))
    name = visible.replace("\\", "/").rsplit("/", 1)[-1].strip(" .")
    extension = Path(key).suffix.lower()
    stem = name[:-len(extension)] if extension and name.lower().endswith(extension) else name
    return stem.strip(" .") or "file", extension


def content_disposition(original_name, key, as_attachment=True):
    """A Content-Disposition value for a stored file: an ASCII ``filename`` for old clients and the real
    (often Chinese) name in an RFC 5987 ``filename*``; nothing from the name can end the header or add a
    parameter."""
    stem, extension = download_name(original_name, key)
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    ascii_stem = " ".join("".join(ch for ch in ascii_stem if ch.isalnum() or ch in " ()+,-._").split())
    ascii_name = (ascii_stem.strip(" ._-") and ascii_stem or "file") + extension
    value = f'{"attachment" if as_attachment else "inline"}; filename="{ascii_name}"'
    if ascii_name != stem + extension:
        value += f"; filename*=UTF-8''{quote(stem + extension, safe=_ATTR_CHARS)}"
    return value
