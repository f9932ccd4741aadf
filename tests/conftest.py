"""Test fixtures: one migrated database per run (SQLite file or a PostgreSQL schema of its own),
emptied after every test; factories that build bases with users; browsers that log in through the forms."""
import os
import tempfile
import uuid
from pathlib import Path

import psycopg
import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, make_url, text

from operator_app import create_app
from operator_app.config import normalise_database_url
from operator_app.i18n import compile_catalogues
from operator_app.extensions import db

from .helpers import Browser, Factory

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
# On PostgreSQL the suite runs as production does: migrations as the tables' owner, the app as a role that owns
# nothing and is bound by row-level security (operator_app/rls.py).
OWNER_ROLE, APP_ROLE = "shuangchuang_owner", "shuangchuang_app"
_MIGRATION_URLS = {}  # app database URL -> the owner's URL of the same schema


class Databases:
    """Makes empty databases of the kind this run is for: SQLite files or PostgreSQL schemas."""

    def __init__(self, tmp_dir, kind=None):
        self.kind = kind or os.environ.get("TEST_DB", "sqlite")
        self.tmp_dir = Path(tmp_dir)
        self.pg_url = os.environ.get("TEST_DATABASE_URL", DEFAULT_PG)
        self.schemas = []

    def new(self):
        name = f"t{uuid.uuid4().hex[:12]}"
        if self.kind == "sqlite":
            return f"sqlite:///{self.tmp_dir / (name + '.db')}"
        if self.kind != "postgresql":
            raise RuntimeError(f"TEST_DB must be sqlite or postgresql, not {self.kind!r}")
        with psycopg.connect(self.pg_url, autocommit=True) as connection:
            for role in (OWNER_ROLE, APP_ROLE):
                try:
                    connection.execute(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOBYPASSRLS')
                except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
                    pass  # made by an earlier run (roles belong to the cluster, not the schema)
            connection.execute(f'CREATE SCHEMA "{name}" AUTHORIZATION "{OWNER_ROLE}"')
        self.schemas.append(name)
        separator = "&" if "?" in self.pg_url else "?"
        base_url = make_url(normalise_database_url(self.pg_url) + f"{separator}options=-csearch_path%3D{name}")
        app_url = base_url.set(username=APP_ROLE).render_as_string(hide_password=False)
        _MIGRATION_URLS[app_url] = base_url.set(username=OWNER_ROLE).render_as_string(hide_password=False)
        return app_url

    def drop_all(self):
        if not self.schemas:
            return
        with psycopg.connect(self.pg_url, autocommit=True) as connection:
            for name in self.schemas:
                connection.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.fixture(scope="session")
def databases(tmp_path_factory):
    made = Databases(tmp_path_factory.mktemp("db"))
    yield made
    made.drop_all()


def make_app(database_url, **overrides):
    """An app on ``database_url`` with uploads in a temporary folder of its own."""
    settings = {"SQLALCHEMY_DATABASE_URI": database_url, "UPLOAD_FOLDER": tempfile.mkdtemp(prefix="uploads-"),
                "MIGRATION_DATABASE_URL": _MIGRATION_URLS.get(database_url)}
    return create_app("testing", {**settings, **overrides})


@pytest.fixture(scope="session")
def app(databases):
    """The application on a database migrated to head with the project's own migrations."""
    compile_catalogues()
    application = make_app(databases.new())
    with application.app_context():
        upgrade()
    return application


def migrated_app(database_url, **overrides):
    """Yields an app on ``database_url`` migrated to head; closes its connections after (for module fixtures
    that need a database of their own)."""
    compile_catalogues()
    application = make_app(database_url, **overrides)
    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def pg_app(tmp_path_factory):
    """An app on a migrated PostgreSQL schema of its own, whichever database the run is for: for what only
    PostgreSQL has (row-level security, several processes on one database). Dropped after the module."""
    made = Databases(tmp_path_factory.mktemp("pg"), kind="postgresql")
    yield from migrated_app(made.new())
    made.drop_all()


@pytest.fixture(autouse=True)
def _empty_database_after_test(request):
    yield
    if "app" not in request.fixturenames:
        return
    application = request.getfixturevalue("app")
    with application.app_context():
        db.session.remove()
        tables = [table.name for table in reversed(db.metadata.sorted_tables)]
        with _owner_engine(application).begin() as connection:
            if connection.dialect.name == "postgresql":
                # DELETE is some twenty times faster than TRUNCATE on tables holding a test's few rows. The
                # policies are forced on the owner too: this transaction sees every base.
                connection.execute(text("SELECT set_config('app.unscoped', 'on', true)"))
            for name in tables:
                connection.execute(text(f'DELETE FROM "{name}"'))
            if connection.dialect.name == "postgresql":
                counted = [table.name for table in db.metadata.sorted_tables
                           if "id" in table.c and table.c.id.autoincrement is not False
                           and table.c.id.type.python_type is int]
                connection.execute(text("SELECT " + ", ".join(
                    f"setval(pg_get_serial_sequence('\"{name}\"', 'id'), 1, false)" for name in counted)))
        application.extensions["login_counter"].__init__()


_owner_engines = {}


def _owner_engine(application):
    """The engine that empties the tables: the owner's on PostgreSQL (the app's role may not TRUNCATE)."""
    url = application.config.get("MIGRATION_DATABASE_URL")
    if not url:
        return db.engine
    if url not in _owner_engines:
        _owner_engines[url] = create_engine(url)
    return _owner_engines[url]


class MailServer:
    """A real SMTP server on a free loopback port, keeping what it receives (no mail server is mocked)."""

    def __init__(self):
        import socket

        from aiosmtpd.controller import Controller

        self.received = []
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):
        self.received.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server():
    server = MailServer()
    server.controller.start()
    yield server
    server.controller.stop()


@pytest.fixture
def factory(app):
    return Factory(app)


@pytest.fixture
def browser(app):
    """An anonymous browser; ``browser.login(user)`` logs in through the login form."""
    return Browser(app.test_client())


@pytest.fixture
def new_browser(app):
    """Makes more browsers (other devices, other users) in one test."""
    return lambda: Browser(app.test_client())
