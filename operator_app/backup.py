"""Backup and restore of the embedded default: the SQLite database and the uploaded files in one archive.

``flask backup PATH`` writes a gzip-compressed tar holding

- ``database.sqlite3``: a snapshot taken with SQLite's online backup API, consistent even while the app
  (web and scheduler) keeps writing;
- ``files/<key>``: every file under UPLOAD_FOLDER (``<base id>/<generated name>``);
- ``manifest.json``: the format and its version, the Alembic revision of the snapshot, when it was made (UTC),
  the rows of every table, and the size and SHA-256 of every member.

``flask restore PATH`` checks all of that before it touches anything, brings an archive of an older revision
up to the code's head on a staged copy, and only then replaces the database (through SQLite's backup API, one
transaction) and the upload folder (a rename). PostgreSQL is backed up with pg_dump and pg_restore instead
(docs/deploy.md, "Backups").
"""
import gzip
import hashlib
import io
import json
import os
import secrets
import shutil
import sqlite3
import tarfile
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from flask import current_app

from .extensions import db
from .timeutil import utcnow

FORMAT = "shuangchuang-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE = "database.sqlite3"
FILES = "files"
_MAX_MANIFEST_BYTES = 64 * 1024 * 1024
_CHUNK = 1024 * 1024
_POSTGRESQL_ADVICE = ("flask backup and flask restore work on the embedded SQLite database; this app runs on "
                      "{dialect}. Back it up with pg_dump and pg_restore as docs/deploy.md (\"Backups\") describes.")


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and is shown to the operator as is."""


@dataclass
class Restored:
    """What ``restore_backup`` did."""

    manifest: dict
    upgraded_from: str | None = None  # the archive's revision when it was older than the code's head
    kept: list = field(default_factory=list)  # where the replaced database and files were put aside


# -- where the data lives ---------------------------------------------------------------------------------------

def database_path():
    """The SQLite file of the current app; BackupError for PostgreSQL or an in-memory database."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        raise BackupError(_POSTGRESQL_ADVICE.format(dialect=url.get_backend_name()))
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise BackupError(f"The database {url.render_as_string()} is not a file; there is nothing to back up.")
    return Path(url.database).resolve()


def upload_folder():
    """The root folder of the uploaded files."""
    from .storage import LocalStorage, storage

    backend = storage()
    if not isinstance(backend, LocalStorage):
        describe = getattr(backend, "describe", lambda: "object storage")
        raise BackupError(f"flask backup and flask restore keep the uploaded files of a local folder; this app keeps "
                          f"them in {describe()} (STORAGE_BACKEND={current_app.config.get('STORAGE_BACKEND')}). "
                          "Back up the database with its own tool and copy the bucket with the storage's (rclone "
                          "sync, aws s3 sync), as docs/deploy.md (\"Backups\") describes.")
    return Path(backend.root).resolve()


# -- backup -----------------------------------------------------------------------------------------------------

def create_backup(destination):
    """Write the archive to ``destination`` (a file name, or a folder to put a dated name in).

    Returns (the archive's path, its manifest). The archive appears only when complete: it is written under a
    temporary name beside it and renamed. An existing file is never overwritten.
    """
    source = database_path()
    root = upload_folder()
    if not source.is_file():
        raise BackupError(f"There is no database at {source}; nothing to back up.")
    destination = Path(destination)
    if destination.is_dir():
        destination = destination / f"shuangchuang-{utcnow():%Y%m%dT%H%M%SZ}.tar.gz"
    if destination.exists():
        raise BackupError(f"{destination} already exists; give a new name (a backup never overwrites a file).")
    if not destination.parent.is_dir():
        raise BackupError(f"The folder {destination.parent} does not exist.")
    destination = destination.resolve()
    work = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", dir=destination.parent))
    temporary = destination.with_name(f".{destination.name}.{secrets.token_hex(4)}.tmp")
    try:
        snapshot = work / DATABASE
        _snapshot(source, snapshot)
        connection = sqlite3.connect(snapshot)
        try:
            revision = _revision(connection)
            tables = _table_counts(connection)
            keys = _stored_keys(connection)
        finally:
            connection.close()
        checksums = {}
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # it holds personal data
        with os.fdopen(descriptor, "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6, format=tarfile.PAX_FORMAT) as tar:
                checksums[DATABASE] = _add_file(tar, snapshot, DATABASE)
                # After the snapshot: every file its rows name was written before their commit, so it is here.
                for path in _files_under(root):
                    name = f"{FILES}/{path.relative_to(root).as_posix()}"
                    checksums[name] = _add_file(tar, path, name)
                present = {name[len(FILES) + 1:] for name in checksums if name.startswith(f"{FILES}/")}
                manifest = {
                    "format": FORMAT, "format_version": FORMAT_VERSION,
                    "created_at": utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "alembic_revision": revision, "tables": tables, "checksums": checksums,
                    # stored_files rows whose file was not in the folder (deleted by hand, or by a later
                    # transaction that replaced it): the restore will lack them as the live site does.
                    "missing_files": sorted(set(keys) - present),
                }
                data = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
                info = _tarinfo(MANIFEST, len(data))
                tar.addfile(info, _BytesReader(data))
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(temporary, destination)
        _fsync_folder(destination.parent)
    finally:
        temporary.unlink(missing_ok=True)
        shutil.rmtree(work, ignore_errors=True)
    return destination, manifest


def _snapshot(source, target, check=True):
    """Copy the live database ``source`` to ``target`` with SQLite's backup API (one read transaction, so one
    consistent moment even with writers in other processes), as a single file with no write-ahead log."""
    live = sqlite3.connect(source, timeout=30)
    copy = sqlite3.connect(target)
    try:
        live.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")
        problems = copy.execute("PRAGMA quick_check").fetchall() if check else [("ok",)]
        if problems != [("ok",)]:
            raise BackupError(f"The database {source} fails SQLite's check: {problems[:5]}")
    finally:
        copy.close()
        live.close()


def _files_under(root):
    """Every regular file under ``root`` in a stable order, without the storage's half-written temporaries
    (``.<name>.<random>.tmp``, renamed into place when complete)."""
    if not root.is_dir():
        return []
    found = []
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        for name in sorted(names):
            path = Path(folder) / name
            if name.startswith(".") or not path.is_file() or path.is_symlink():
                continue
            found.append(path)
    return found


def _tarinfo(name, size, mtime=None):
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = int(mtime if mtime is not None else utcnow().timestamp())
    info.mode = 0o600
    return info


def _add_file(tar, path, name):
    """Add ``path`` as ``name``; returns its size and SHA-256 as read into the archive."""
    with path.open("rb") as source:
        stat = os.fstat(source.fileno())  # the file opened, even if a new one is renamed over the name now
        reader = _HashingReader(source)
        tar.addfile(_tarinfo(name, stat.st_size, stat.st_mtime), reader)
    return {"size": reader.size, "sha256": reader.hash.hexdigest()}


class _HashingReader:
    def __init__(self, raw):
        self.raw = raw
        self.hash = hashlib.sha256()
        self.size = 0

    def read(self, size=-1):
        data = self.raw.read(size)
        self.hash.update(data)
        self.size += len(data)
        return data


class _BytesReader(_HashingReader):
    def __init__(self, data):
        super().__init__(io.BytesIO(data))


def _fsync_folder(folder):
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass  # not every file system syncs a folder
    finally:
        os.close(descriptor)


# -- what a database holds --------------------------------------------------------------------------------------

def _table_names(connection):
    return [name for (name,) in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
        "ORDER BY name")]


def _table_counts(connection):
    # The names come from sqlite_master, not from input.
    return {name: connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
            for name in _table_names(connection)}


def _revision(connection):
    if "alembic_version" not in _table_names(connection):
        return None
    rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    return rows[0][0] if len(rows) == 1 else None


def _stored_keys(connection):
    if "stored_files" not in _table_names(connection):
        return []
    return [key for (key,) in connection.execute("SELECT key FROM stored_files")]


def _rows_in(path):
    """The rows the SQLite file ``path`` holds outside ``alembic_version`` (0 when there is no file), or None
    when it cannot be read (a damaged database: often the reason for a restore)."""
    if not path.exists() or path.stat().st_size == 0:
        return 0
    connection = sqlite3.connect(path, timeout=30)
    try:
        return sum(count for name, count in _table_counts(connection).items() if name != "alembic_version")
    except sqlite3.DatabaseError:
        return None
    finally:
        connection.close()


# -- restore ----------------------------------------------------------------------------------------------------

def restore_backup(archive, force=False):
    """Replace the database and the upload folder with the contents of ``archive``.

    Everything is checked first: the archive reads to its end, its members are exactly those of the manifest
    with their sizes and SHA-256, the database passes SQLite's integrity check and holds the manifest's rows
    and revision, and that revision is the code's head or an older one (then a staged copy is upgraded).
    A database with rows, or an upload folder with files, is replaced only with ``force``, and is then kept
    aside (its names are in ``Restored.kept``). Raises BackupError, with nothing changed, when any check fails.
    """
    target = database_path()
    root = upload_folder()
    archive = Path(archive)
    if not archive.is_file():
        raise BackupError(f"There is no file {archive}.")
    db.session.remove()
    db.engine.dispose()  # this process's own connections: the restore must not race them
    rows = _rows_in(target)
    files = len(_files_under(root))
    occupied = rows is None or rows > 0 or files > 0
    if occupied and not force:
        holds = "cannot be read as a database" if rows is None else f"already holds {rows} rows"
        raise BackupError(
            f"The database {target} {holds} and the upload folder {root} {files} files. Restoring replaces "
            "them: run it again with --force to do so (they are then kept aside), or point DATABASE_URL and "
            "UPLOAD_FOLDER at an empty database and folder.")
    target.parent.mkdir(parents=True, exist_ok=True)
    root.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.restore-", dir=target.parent))
    staged_files = Path(tempfile.mkdtemp(prefix=f".{root.name}.restore-", dir=root.parent))
    if root.is_dir():
        staged_files.chmod(root.stat().st_mode & 0o7777)  # the folder keeps its permissions
    try:
        snapshot = work / DATABASE
        manifest = _unpack(archive, snapshot, staged_files)
        revision = _check_database(snapshot, manifest)
        upgraded_from = None
        if revision not in _head_revisions():
            _upgrade(snapshot)
            upgraded_from = revision
        kept = _swap_in(snapshot, staged_files, target, root, keep_old=occupied, readable=rows is not None)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(staged_files, ignore_errors=True)
        db.engine.dispose()
    return Restored(manifest=manifest, upgraded_from=upgraded_from, kept=kept)


def _damaged(archive, why):
    return BackupError(f"{archive} is not a usable backup: {why}. Nothing was changed.")


def _unpack(archive, database_to, files_to):
    """Read the whole archive, writing the database and the files to their staging places; returns the
    manifest once every member has been checked against it."""
    seen = {}
    manifest_data = None
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                name = member.name
                parts = _member_parts(archive, name)
                if member.isdir() and parts[0] == FILES:
                    continue
                if not member.isfile() or name == FILES:
                    raise _damaged(archive, f"it holds {name!r}, which is not a plain file")
                if name in seen or (name == MANIFEST and manifest_data is not None):
                    raise _damaged(archive, f"it holds {name!r} twice")
                source = tar.extractfile(member)
                if name == MANIFEST:
                    if member.size > _MAX_MANIFEST_BYTES:
                        raise _damaged(archive, "its manifest is implausibly large")
                    manifest_data = source.read()
                    continue
                path = database_to if name == DATABASE else files_to.joinpath(*parts[1:])
                path.parent.mkdir(parents=True, exist_ok=True)
                digest, size = hashlib.sha256(), 0
                with path.open("xb") as out:
                    while chunk := source.read(_CHUNK):
                        digest.update(chunk)
                        size += len(chunk)
                        out.write(chunk)
                seen[name] = {"size": size, "sha256": digest.hexdigest()}
            while tar.fileobj.read(_CHUNK):  # to the end of the gzip stream: its length and CRC are checked there
                pass
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise _damaged(archive, f"it cannot be read to its end ({error}); it is damaged or truncated") from None
    if manifest_data is None:
        raise _damaged(archive, f"it has no {MANIFEST} (an incomplete or foreign archive)")
    try:
        manifest = json.loads(manifest_data)
    except ValueError:
        raise _damaged(archive, f"its {MANIFEST} is not JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _damaged(archive, "it is not a backup made by flask backup")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise _damaged(archive, f"its format version is {version!r}; this version of the app reads "
                                f"{FORMAT_VERSION} (a newer app made it)")
    checksums = manifest.get("checksums")
    if not isinstance(checksums, dict) or not isinstance(manifest.get("tables"), dict):
        raise _damaged(archive, f"its {MANIFEST} lacks the checksums or the table counts")
    if DATABASE not in seen:
        raise _damaged(archive, f"it has no {DATABASE}")
    missing = sorted(set(checksums) - set(seen))
    unlisted = sorted(set(seen) - set(checksums))
    if missing:
        raise _damaged(archive, f"{len(missing)} members of the manifest are missing, first {missing[0]}")
    if unlisted:
        raise _damaged(archive, f"{len(unlisted)} members are not in the manifest, first {unlisted[0]}")
    for name, found in seen.items():
        if checksums[name] != found:
            raise _damaged(archive, f"{name} does not match its checksum in the manifest (it was changed)")
    return manifest


def _member_parts(archive, name):
    """The parts of a member's name, refused unless it is the manifest, the database or a plain relative name
    under files/ (no absolute names, no "..", nothing that could land outside the staging folders)."""
    path = PurePosixPath(name)
    if name in (MANIFEST, DATABASE, FILES):
        return (name,)
    parts = path.parts
    if (str(path) != name or path.is_absolute() or len(parts) < 2 or parts[0] != FILES
            or any(part in ("..", ".") or "\\" in part or "\x00" in part for part in parts)):
        raise _damaged(archive, f"it holds the unexpected name {name!r}")
    return parts


def _check_database(snapshot, manifest):
    """The archived database passes SQLite's integrity check and holds what the manifest says; returns its
    Alembic revision, after checking this code knows it."""
    connection = sqlite3.connect(snapshot)
    try:
        problems = connection.execute("PRAGMA integrity_check").fetchall()
        revision = _revision(connection)
        tables = _table_counts(connection)
    except sqlite3.DatabaseError as error:
        raise BackupError(f"The archived database cannot be read ({error}). Nothing was changed.") from None
    finally:
        connection.close()
    if problems != [("ok",)]:
        raise BackupError(f"The archived database fails SQLite's integrity check: {problems[:5]}. "
                          "Nothing was changed.")
    if revision is None or revision != manifest.get("alembic_revision"):
        raise BackupError(f"The archived database is at revision {revision!r}, its manifest says "
                          f"{manifest.get('alembic_revision')!r}. Nothing was changed.")
    if tables != manifest["tables"]:
        differ = sorted(name for name in set(tables) | set(manifest["tables"])
                        if tables.get(name) != manifest["tables"].get(name))
        raise BackupError(f"The archived database's rows differ from its manifest in {', '.join(differ[:5])}. "
                          "Nothing was changed.")
    if revision not in _known_revisions():
        raise BackupError(f"The archive's database is at revision {revision}, which this version of the app "
                          f"does not know (its newest is {', '.join(_head_revisions())}): it was made by a newer "
                          "version. Install that version, then restore. Nothing was changed.")
    return revision


def _script():
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())


def _head_revisions():
    return tuple(_script().get_heads())


def _known_revisions():
    return {script.revision for script in _script().walk_revisions()}


def _upgrade(snapshot):
    """Migrate the staged copy to the code's head, through an app of its own bound to that file (the
    migrations read the database from the app), so the live database is not touched if a migration fails."""
    from alembic import command

    from . import create_app

    app = current_app._get_current_object()
    staging_app = create_app(app.config["APP_ENV"], {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{snapshot}", "MIGRATION_DATABASE_URL": None,
        "SECRET_KEY": app.config["SECRET_KEY"], "UPLOAD_FOLDER": str(snapshot.parent / "uploads"),
        "SCHEDULER_IN_PROCESS": False, "TESTING": app.config.get("TESTING", False)})
    with staging_app.app_context():
        try:
            command.upgrade(staging_app.extensions["migrate"].migrate.get_config(), "head")
        except Exception as error:
            raise BackupError(f"Upgrading the archived database to this version failed ({error}). "
                              "Nothing was changed.") from error
        finally:
            db.engine.dispose()


def _swap_in(snapshot, staged_files, target, root, keep_old, readable=True):
    """Put the staged database and files in place; returns the names the replaced ones were kept under.

    The upload folder is swapped by renames. The database is written with SQLite's backup API into the live
    file: one transaction, so a reader (another process still running) sees the old database or the new one,
    and a crash leaves the old one; renaming a new file over a database in WAL mode would leave its -wal and
    -shm files describing the old one.
    """
    stamp = f"{utcnow():%Y%m%dT%H%M%SZ}"
    kept_database = target.with_name(f"{target.stem}.replaced-{stamp}{target.suffix}")
    kept_files = root.with_name(f"{root.name}.replaced-{stamp}")
    while kept_database.exists() or kept_files.exists():  # two restores within a second
        stamp += "-" + secrets.token_hex(2)
        kept_database = target.with_name(f"{target.stem}.replaced-{stamp}{target.suffix}")
        kept_files = root.with_name(f"{root.name}.replaced-{stamp}")
    kept, moved = [], []
    if keep_old and target.exists() and readable:
        try:
            _snapshot(target, kept_database, check=False)  # kept as it is, even damaged (a reason to restore)
            kept.append(kept_database)
        except sqlite3.DatabaseError:
            kept_database.unlink(missing_ok=True)
            readable = False
    if keep_old and target.exists() and not readable:  # SQLite cannot copy it: moved aside whole, with journals
        for suffix in ("", "-wal", "-shm", "-journal"):
            original = target.with_name(target.name + suffix)
            if original.exists():
                aside = kept_database.with_name(kept_database.name + suffix)
                os.replace(original, aside)
                moved.append((aside, original))
        kept.append(kept_database)
    previous = None
    if root.exists():
        previous = root.with_name(f".{root.name}.previous-{secrets.token_hex(4)}")
        os.replace(root, previous)
    os.replace(staged_files, root)
    try:
        _write_database(snapshot, target)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        if previous is not None:
            os.replace(previous, root)
        if moved:
            target.unlink(missing_ok=True)
            for aside, original in moved:
                os.replace(aside, original)
        else:
            for path in kept:
                path.unlink(missing_ok=True)
        raise
    if previous is not None:
        if keep_old or _files_under(previous):  # (a file the running app wrote since the check is kept too)
            os.replace(previous, kept_files)
            kept.append(kept_files)
        else:
            shutil.rmtree(previous)  # it held no files, only empty folders
    return kept


def _write_database(snapshot, target):
    staged = sqlite3.connect(snapshot)
    live = sqlite3.connect(target, timeout=30)
    try:
        staged.backup(live)
        problems = live.execute("PRAGMA quick_check").fetchall()
        if problems != [("ok",)]:
            raise BackupError(f"The restored database fails SQLite's check: {problems[:5]}")
    finally:
        live.close()
        staged.close()
