"""`flask backup` and `flask restore` (embedded SQLite) round-trip a demo base exactly; damaged archives and
occupied targets are refused with nothing changed; a backup taken under concurrent writes is consistent.
PostgreSQL (TEST_DB=postgresql): the documented pg_dump -Fc / pg_restore round-trips a demo base too.

The SQLite tests make their own SQLite databases under tmp_path, so they run in the PostgreSQL run as well."""
import gzip
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import threading
import uuid
from pathlib import Path
from types import SimpleNamespace

import psycopg
import pytest
from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy import make_url, select, text

from operator_app.db import unscoped
from operator_app.demo import DEMO_PASSWORD
from operator_app.extensions import db
from tenants.models import TenantCompany

from ..conftest import DEFAULT_PG, make_app
from ..helpers import Browser

PDF = b"%PDF-1.4\n% a licence scan\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"


# -- helpers ----------------------------------------------------------------------------------------------------

def sqlite_app(folder, name, migrate=True, revision="head"):
    """An app on the SQLite file ``folder/name.db`` with its uploads in ``folder/name-uploads``."""
    folder.mkdir(parents=True, exist_ok=True)
    app = make_app(f"sqlite:///{folder / (name + '.db')}", UPLOAD_FOLDER=str(folder / f"{name}-uploads"))
    if migrate:
        with app.app_context():
            upgrade(revision=revision)
    return app


def database_file(app):
    return Path(make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database)


def upload_root(app):
    return Path(app.config["UPLOAD_FOLDER"])


def tables(path):
    """Every table of the SQLite file ``path`` with its columns and all its rows (every column), and the
    schema (tables, indexes, triggers) as SQLite keeps it."""
    connection = sqlite3.connect(path)
    try:
        schema = connection.execute("SELECT type, name, tbl_name, sql FROM sqlite_master "
                                    "WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name").fetchall()
        contents = {}
        for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                          "AND name NOT LIKE 'sqlite_%'").fetchall():
            cursor = connection.execute(f'SELECT * FROM "{name}" ORDER BY rowid')
            contents[name] = ([column[0] for column in cursor.description], cursor.fetchall())
        return schema, contents
    finally:
        connection.close()


def files(root):
    """{path under ``root``: bytes} of every file."""
    root = Path(root)
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in sorted(root.rglob("*"))
            if path.is_file()}


def state(app):
    """What a restore may change: the database's tables and rows, the uploaded files, and the names in the
    folders holding them (no staging folder or kept-aside copy may be left behind by a refused restore)."""
    database, root = database_file(app), upload_root(app)

    def names(folder):  # SQLite's -wal and -shm come and go with the connections; they are not contents
        return sorted(name for name in os.listdir(folder) if not name.endswith(("-wal", "-shm")))

    return (tables(database) if database.exists() else None, files(root) if root.exists() else None,
            names(database.parent), names(root.parent))


def invoke(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def rewrite(archive, target, change):
    """Copy the tar.gz ``archive`` to ``target``, passing each member's (name, bytes) through ``change``."""
    with tarfile.open(archive, "r:gz") as source, tarfile.open(target, "w:gz") as out:
        for member in source:
            data = change(member.name, source.extractfile(member).read())
            member.size = len(data)
            out.addfile(member, io.BytesIO(data))
    return target


# -- the demo base, backed up once for the module ---------------------------------------------------------------

@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A demo base with a document uploaded through the app, and its backup made with `flask backup`."""
    folder = tmp_path_factory.mktemp("backup-source")
    source = sqlite_app(folder, "source")
    loaded = invoke(source, "demo", "load")
    assert loaded.exit_code == 0, loaded.output
    with source.app_context(), unscoped("test finds the demo's first company"):
        company_id = db.session.scalar(select(TenantCompany.id).order_by(TenantCompany.id))
    browser = Browser(source.test_client())
    browser.login(SimpleNamespace(email="staff@demo.example", password=DEMO_PASSWORD))
    detail = f"/b/jinyang/tenants/{company_id}"
    response = browser.client.post(f"{detail}/documents", data={
        "csrf_token": browser.csrf_token(detail), "kind": "licence", "file": (io.BytesIO(PDF), "备份-营业执照.pdf")})
    assert response.status_code == 302
    assert PDF in files(upload_root(source)).values()
    archive = folder / "demo.tar.gz"
    result = invoke(source, "backup", str(archive))
    assert result.exit_code == 0, result.output
    assert f"Backup written: {archive}" in result.output
    return SimpleNamespace(app=source, archive=archive, detail=detail)


def test_backup_archive_holds_the_snapshot_the_files_and_a_manifest(demo):
    with tarfile.open(demo.archive, "r:gz") as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())
    assert "database.sqlite3" in names and names[-1] == "manifest.json"
    assert {name[len("files/"):] for name in names if name.startswith("files/")} == set(files(upload_root(demo.app)))
    assert manifest["format"] == "shuangchuang-backup" and manifest["format_version"] == 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", manifest["created_at"])
    with demo.app.app_context():
        script = ScriptDirectory.from_config(demo.app.extensions["migrate"].migrate.get_config())
        assert manifest["alembic_revision"] == script.get_current_head()
    _, live = tables(database_file(demo.app))
    assert manifest["tables"] == {name: len(rows) for name, (_, rows) in live.items()}
    assert manifest["tables"]["stored_files"] >= 2 and manifest["missing_files"] == []
    assert set(manifest["checksums"]) == set(names) - {"manifest.json"}
    assert all(re.fullmatch(r"[0-9a-f]{64}", entry["sha256"]) for entry in manifest["checksums"].values())
    assert demo.archive.stat().st_mode & 0o077 == 0  # personal data: readable by its owner only
    assert not [name for name in os.listdir(demo.archive.parent) if name.startswith(".")]  # no temporaries
    again = invoke(demo.app, "backup", str(demo.archive))
    assert again.exit_code == 1 and "already exists" in again.output  # never overwritten


def test_restore_into_an_empty_database_round_trips_every_row_and_every_file(demo, tmp_path):
    target = sqlite_app(tmp_path, "target")  # `flask db upgrade` run, no rows yet: empty
    result = invoke(target, "restore", str(demo.archive))
    assert result.exit_code == 0, result.output
    assert "Restored" in result.output and "kept" not in result.output

    source_schema, source_tables = tables(database_file(demo.app))
    restored_schema, restored_tables = tables(database_file(target))
    assert restored_schema == source_schema
    assert set(restored_tables) == set(source_tables)
    for name, (columns, rows) in source_tables.items():
        assert restored_tables[name] == (columns, rows), f"table {name} differs after the restore"
    assert sum(len(rows) for _, rows in source_tables.values()) > 500  # the demo base, not an empty shell
    assert files(upload_root(target)) == files(upload_root(demo.app))
    connection = sqlite3.connect(database_file(target))
    assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    connection.close()

    # The restored site works: the demo staff logs in and downloads the document uploaded before the backup.
    browser = Browser(target.test_client())
    browser.login(SimpleNamespace(email="staff@demo.example", password=DEMO_PASSWORD))
    page = browser.get(demo.detail).get_data(as_text=True)
    link = re.search(r'href="([^"]+/documents/\d+)">备份-营业执照.pdf', page).group(1)
    assert browser.get(link).data == PDF


def test_restore_into_a_database_that_does_not_exist_yet(demo, tmp_path):
    target = sqlite_app(tmp_path, "fresh", migrate=False)
    assert not database_file(target).exists()
    result = invoke(target, "restore", str(demo.archive))
    assert result.exit_code == 0, result.output
    assert tables(database_file(target)) == tables(database_file(demo.app))
    assert files(upload_root(target)) == files(upload_root(demo.app))


def test_a_database_with_rows_is_replaced_only_with_force_and_then_kept_aside(demo, tmp_path):
    target = sqlite_app(tmp_path, "occupied")
    assert invoke(target, "demo", "load").exit_code == 0  # another site's data, other generated file names
    before = state(target)
    refused = invoke(target, "restore", str(demo.archive))
    assert refused.exit_code == 1
    assert "already holds" in refused.output and "--force" in refused.output
    assert state(target) == before

    forced = invoke(target, "restore", "--force", str(demo.archive))
    assert forced.exit_code == 0, forced.output
    assert tables(database_file(target)) == tables(database_file(demo.app))
    assert files(upload_root(target)) == files(upload_root(demo.app))
    kept = re.findall(r"kept at (\S+)", forced.output)
    assert len(kept) == 2
    kept_database, kept_files = Path(kept[0]), Path(kept[1])
    assert tables(kept_database)[1] == before[0][1]  # the replaced rows, all of them
    assert files(kept_files) == before[1]


def test_a_damaged_live_database_is_replaced_with_force_and_kept_aside_as_it_was(demo, tmp_path):
    target = sqlite_app(tmp_path, "broken", migrate=False)
    garbage = b"SQLite format 3\x00" + b"\xde\xad" * 4000
    database_file(target).write_bytes(garbage)
    refused = invoke(target, "restore", str(demo.archive))
    assert refused.exit_code == 1 and "cannot be read as a database" in refused.output
    assert database_file(target).read_bytes() == garbage
    forced = invoke(target, "restore", "--force", str(demo.archive))
    assert forced.exit_code == 0, forced.output
    assert tables(database_file(target)) == tables(database_file(demo.app))
    kept = re.findall(r"kept at (\S+)", forced.output)
    assert len(kept) == 1 and Path(kept[0]).read_bytes() == garbage  # the upload folder was empty: not kept


@pytest.mark.parametrize("damage", ["one byte of a stored file", "one byte of the compressed archive",
                                    "truncated in the middle", "gzip trailer cut", "manifest left out",
                                    "a file added", "a name outside the folder"])
def test_a_damaged_archive_is_refused_and_nothing_changes(demo, tmp_path, damage):
    target = sqlite_app(tmp_path / "site", "target")
    assert invoke(target, "restore", str(demo.archive)).exit_code == 0
    with target.app_context():
        db.session.execute(text("UPDATE users SET name = '改过的名字' WHERE email = 'staff@demo.example'"))
        db.session.commit()  # so a restore that went through would show
    before = state(target)
    data = demo.archive.read_bytes()
    damaged = tmp_path / "damaged.tar.gz"
    stored = next(name for name in tarfile.open(demo.archive).getnames() if name.endswith(".pdf"))

    if damage == "one byte of a stored file":
        rewrite(demo.archive, damaged,
                lambda name, content: content[:10] + bytes([content[10] ^ 1]) + content[11:]
                if name == stored else content)
    elif damage == "one byte of the compressed archive":
        middle = len(data) // 2
        damaged.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:])
    elif damage == "truncated in the middle":
        damaged.write_bytes(data[:len(data) // 2])
    elif damage == "gzip trailer cut":
        damaged.write_bytes(data[:-4])
    elif damage == "manifest left out":
        with tarfile.open(demo.archive, "r:gz") as source, tarfile.open(damaged, "w:gz") as out:
            for member in source:
                if member.name != "manifest.json":
                    out.addfile(member, source.extractfile(member))
    elif damage == "a file added":
        shutil.copy(demo.archive, damaged)
        with gzip.open(damaged, "rb") as packed:
            raw = io.BytesIO(packed.read())
        with tarfile.open(fileobj=raw, mode="a") as tar:
            extra = tarfile.TarInfo("files/1/smuggled.pdf")
            extra.size = len(PDF)
            tar.addfile(extra, io.BytesIO(PDF))
        damaged.write_bytes(gzip.compress(raw.getvalue()))
    elif damage == "a name outside the folder":
        with tarfile.open(demo.archive, "r:gz") as source, tarfile.open(damaged, "w:gz") as out:
            for member in source:
                if member.name == stored:
                    member.name = "files/../../escaped.pdf"
                out.addfile(member, source.extractfile(member))

    result = invoke(target, "restore", "--force", str(damaged))
    assert result.exit_code == 1, result.output
    assert "not a usable backup" in result.output and "Nothing was changed" in result.output
    assert "Traceback" not in result.output
    assert state(target) == before
    assert not (tmp_path.parent / "escaped.pdf").exists()


def test_an_archive_of_an_older_revision_is_upgraded_and_one_of_a_newer_is_refused(tmp_path):
    probe = sqlite_app(tmp_path, "probe", migrate=False)
    with probe.app_context():
        script = ScriptDirectory.from_config(probe.extensions["migrate"].migrate.get_config())
        head = script.get_current_head()
        previous = script.get_revision(head).down_revision
    old = sqlite_app(tmp_path, "old", revision=previous)
    connection = sqlite3.connect(database_file(old))
    with connection:
        connection.execute("INSERT INTO calendar_years (year, holidays, workdays, updated_at) "
                           "VALUES (2031, '[\"2031-01-01\"]', '[]', '2030-12-01 00:00:00')")
    connection.close()
    archive = tmp_path / "old.tar.gz"
    assert invoke(old, "backup", str(archive)).exit_code == 0

    target = sqlite_app(tmp_path, "target", migrate=False)
    result = invoke(target, "restore", str(archive))
    assert result.exit_code == 0, result.output
    assert f"upgraded from revision {previous}" in result.output
    connection = sqlite3.connect(database_file(target))
    assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [(head,)]
    assert connection.execute("SELECT year, holidays FROM calendar_years").fetchall() == [(2031, '["2031-01-01"]')]
    connection.close()

    newer = sqlite_app(tmp_path, "newer")
    connection = sqlite3.connect(database_file(newer))
    with connection:
        connection.execute("UPDATE alembic_version SET version_num = 'ffffffffffff'")
    connection.close()
    newer_archive = tmp_path / "newer.tar.gz"
    assert invoke(newer, "backup", str(newer_archive)).exit_code == 0
    elsewhere = sqlite_app(tmp_path, "elsewhere")
    before = state(elsewhere)
    refused = invoke(elsewhere, "restore", str(newer_archive))
    assert refused.exit_code == 1 and "newer version" in refused.output
    assert state(elsewhere) == before


def test_a_backup_taken_while_rows_are_written_is_one_consistent_moment(demo, tmp_path):
    """Another connection commits two job_runs rows per transaction all through the backup: the snapshot holds
    whole transactions only (an even number), in order (a prefix of what was written), and passes SQLite's
    integrity check."""
    busy = sqlite_app(tmp_path, "busy", migrate=False)
    live = sqlite3.connect(database_file(demo.app))
    copy = sqlite3.connect(database_file(busy))
    live.backup(copy)
    copy.execute("PRAGMA journal_mode=WAL")
    copy.close()
    live.close()
    shutil.copytree(upload_root(demo.app), upload_root(busy))

    started, stop, written = threading.Event(), threading.Event(), []

    def write():
        connection = sqlite3.connect(database_file(busy), timeout=30, isolation_level=None)
        connection.execute("PRAGMA busy_timeout=30000")
        n = 0
        while not stop.is_set() or n < 40:
            connection.execute("BEGIN IMMEDIATE")
            for period in (f"p{n:06d}", f"p{n + 1:06d}"):
                connection.execute("INSERT INTO job_runs (job, period, started_at, base_id) "
                                   "VALUES ('backup-probe', ?, '2026-11-24 02:00:00', 1)", (period,))
            connection.execute("COMMIT")
            n += 2
            written.append(n)
            if n >= 20:  # in full swing before the backup starts
                started.set()
        connection.close()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert started.wait(10)
        before_backup = written[-1]
        archive = tmp_path / "busy.tar.gz"
        result = invoke(busy, "backup", str(archive))
        after_backup = written[-1]
    finally:
        stop.set()
        writer.join(30)
    assert result.exit_code == 0, result.output
    assert after_backup > before_backup  # the writes went on during the backup

    target = sqlite_app(tmp_path, "target")
    assert invoke(target, "restore", str(archive)).exit_code == 0
    connection = sqlite3.connect(database_file(target))
    assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    periods = [period for (period,) in connection.execute(
        "SELECT period FROM job_runs WHERE job = 'backup-probe' ORDER BY period")]
    connection.close()
    assert before_backup <= len(periods) <= after_backup and len(periods) % 2 == 0
    assert periods == [f"p{n:06d}" for n in range(len(periods))]
    with tarfile.open(archive, "r:gz") as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
    demo_job_runs = len(tables(database_file(demo.app))[1]["job_runs"][1])
    assert manifest["tables"]["job_runs"] == demo_job_runs + len(periods)


def test_backup_and_restore_refuse_postgresql_and_point_to_pg_dump(tmp_path):
    app = make_app("postgresql+psycopg://nobody@127.0.0.1:1/nothing")
    archive = tmp_path / "x.tar.gz"
    archive.write_bytes(b"")
    for args in (["backup", str(tmp_path / "new.tar.gz")], ["restore", str(archive)]):
        result = invoke(app, *args)
        assert result.exit_code == 1
        assert "pg_dump" in result.output and "docs/deploy.md" in result.output
    assert not (tmp_path / "new.tar.gz").exists()


# -- PostgreSQL: the commands docs/deploy.md gives ---------------------------------------------------------------

@pytest.mark.skipif(os.environ.get("TEST_DB") != "postgresql" or not shutil.which("pg_dump")
                    or not shutil.which("pg_restore"), reason="PostgreSQL run with pg_dump and pg_restore only")
def test_postgresql_pg_dump_and_pg_restore_round_trip_a_demo_base(databases, tmp_path):
    url = databases.new()
    source = make_app(url)
    with source.app_context():
        upgrade()
        schema = db.session.execute(text("SELECT current_schema()")).scalar()
        db.session.remove()
        db.engine.dispose()
    assert invoke(source, "demo", "load").exit_code == 0
    with source.app_context():
        db.engine.dispose()
    server = os.environ.get("TEST_DATABASE_URL", DEFAULT_PG)  # a superuser: pg_dump must see past row security
    dump = tmp_path / "shuangchuang.dump"
    subprocess.run(["pg_dump", "-Fc", "-n", schema, "-f", str(dump), "-d", server],
                   check=True, capture_output=True)
    restored_name = f"restore_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{restored_name}"')
    try:
        restored = psycopg.conninfo.make_conninfo(server, dbname=restored_name)
        subprocess.run(["pg_restore", "--exit-on-error", "-d", restored, str(dump)], check=True,
                       capture_output=True)
        original, copy = _pg_contents(server, schema), _pg_contents(restored, schema)
        assert copy == original
        assert sum(len(rows) for _, rows in original["tables"].values()) > 500
        # The app, with its own role and settings, runs on the restored database.
        restored_app = make_app(make_url(url).set(database=restored_name).render_as_string(hide_password=False))
        browser = Browser(restored_app.test_client())
        browser.login(SimpleNamespace(email="manager@demo.example", password=DEMO_PASSWORD))
        assert "晋阳小微企业双创基地" in browser.get("/", follow_redirects=True).get_data(as_text=True)
        with restored_app.app_context():
            db.session.remove()
            db.engine.dispose()
    finally:
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{restored_name}" WITH (FORCE)')


def _pg_contents(conninfo, schema):
    """Every table of ``schema`` with all its rows, the sequences' positions and the row-security policies."""
    with psycopg.connect(conninfo) as connection:
        names = [name for (name,) in connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
            "AND table_type = 'BASE TABLE' ORDER BY table_name", (schema,))]
        contents = {}
        for name in names:
            cursor = connection.execute(f'SELECT * FROM "{schema}"."{name}"')
            contents[name] = ([column.name for column in cursor.description],
                              sorted(cursor.fetchall(), key=repr))
        sequences = connection.execute("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = %s "
                                       "ORDER BY sequencename", (schema,)).fetchall()
        policies = connection.execute("SELECT tablename, policyname, roles, cmd, qual, with_check FROM pg_policies "
                                      "WHERE schemaname = %s ORDER BY tablename, policyname", (schema,)).fetchall()
        forced = connection.execute("SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
                                    "WHERE relnamespace = %s::regnamespace AND relkind = 'r' ORDER BY relname",
                                    (schema,)).fetchall()
    return {"tables": contents, "sequences": sequences, "policies": policies, "row_security": forced}
