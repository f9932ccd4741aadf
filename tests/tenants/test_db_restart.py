"""Faults (issue 10 item 8): a database restart during a load of monthly-report submissions loses no committed
report. Tenant contacts file through the real forms from several threads while PostgreSQL restarts
(``pg_ctl restart -m fast``); every submission answered with success is stored exactly once with its figures,
every company ends up with its reports, the outage is answered 503 in Chinese (never 500), and the same app
serves again afterwards, its stale pooled connections detected by the pre-ping. A submission whose commit went
through but whose answer was lost with the connection is found saved when its client comes back, not filed twice.
Beside it: a statement the database refuses stays a 500, and a connection that dies after the page was made
does not turn the page into an error.

The tests start a PostgreSQL cluster of their own (initdb as the ``postgres`` OS user, a free loopback port,
trust authentication, data in a temporary folder), so they never touch the machine's shared server and run in
both runs of the suite, whatever TEST_DB says. Without initdb and pg_ctl they fail rather than skip.
"""
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import ProgrammingError

from operator_app.accounts import constants as ac
from operator_app.config import normalise_database_url
from operator_app.db import unscoped
from operator_app.errors import RETRY_AFTER_SECONDS
from operator_app.extensions import db
from tenants.models import MonthlyReport, ReportRevision

from ..conftest import make_app, migrated_app
from ..helpers import ATTRIBUTE, INPUT_TAG, Browser, Factory

COMPANIES = 40
THREADS = 8
MONTHS = ("2025-04", "2025-05", "2025-06", "2025-07")
RETRY_WAIT = 0.1                  # seconds a client waits after a 503 before it tries again
RESTART_AFTER = 0.3               # share of the submissions stored before the restart begins
LOAD_DEADLINE = 45                # seconds the whole load may take, restart included
UNAVAILABLE_TEXT = "数据库暂时不可用，请稍后重试"
PG_BIN_PATTERNS = ("/usr/lib/postgresql/*/bin", "/usr/local/bin", "/usr/bin", "/usr/local/pgsql/bin")


def _pg_bin():
    """The folder holding initdb and pg_ctl (the newest installed major version first)."""
    candidates = []
    for pattern in PG_BIN_PATTERNS:
        candidates += sorted(glob.glob(pattern), key=lambda path: [int(part) if part.isdigit() else 0
                                                                  for part in Path(path).parts], reverse=True)
    for folder in candidates:
        if all(os.access(Path(folder) / tool, os.X_OK) for tool in ("initdb", "pg_ctl")):
            return Path(folder)
    pytest.fail("The database-restart test needs PostgreSQL's initdb and pg_ctl (looked in "
                + ", ".join(PG_BIN_PATTERNS) + "); install the postgresql server package.", pytrace=False)


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cluster:
    """A private PostgreSQL cluster in a temporary folder, run as the ``postgres`` OS user when we are root
    (initdb refuses root)."""

    def __init__(self):
        self.bin = _pg_bin()
        self.root = Path(tempfile.mkdtemp(prefix="pg-restart-"))
        self.data, self.log = self.root / "data", self.root / "postgres.log"
        self.port = None
        self.as_postgres = []
        if os.geteuid() == 0:
            runuser = shutil.which("runuser")
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                runuser = None
            if runuser is None:
                pytest.fail("The database-restart test runs as root: it needs runuser and the postgres OS user to "
                            "start PostgreSQL (initdb refuses root).", pytrace=False)
            shutil.chown(self.root, user="postgres")
            self.as_postgres = [runuser, "-u", "postgres", "--"]

    def _run(self, tool, *args, timeout=60):
        command = [*self.as_postgres, str(self.bin / tool), *args]
        done = subprocess.run(command, cwd=self.root, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout, check=False)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
            raise RuntimeError(f"{tool} {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}\n"
                               f"--- server log ---\n{log}")
        return done

    def start(self):
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale",
                  "--no-sync")
        for attempt in range(3):  # the free port found may be taken by someone else before the server binds it
            self.port = _free_port()
            options = (f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.root} "
                       "-c max_connections=60")
            try:
                self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")
                return
            except RuntimeError:
                if attempt == 2:
                    raise

    def restart(self):
        """Fast shutdown (every session is ended, every committed transaction kept), then start again."""
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-m", "fast", "-w", "restart")

    def stop(self):
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database):
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"


@pytest.fixture(scope="module")
def cluster():
    made = Cluster()
    try:
        made.start()
        yield made
    finally:
        made.stop()


@pytest.fixture(scope="module")
def pg_app(cluster):
    """The app on a scratch database of the private cluster, migrated to head with the project's migrations."""
    with psycopg.connect(cluster.url("postgres"), autocommit=True) as connection:
        connection.execute("CREATE DATABASE reports")
    yield from migrated_app(normalise_database_url(cluster.url("reports")))


@dataclass
class Load:
    """What the clients saw, shared by the threads (list.append is atomic)."""

    statuses: list = field(default_factory=list)        # (status, started at)
    unavailable: list = field(default_factory=list)     # (Retry-After, Chinese text shown) of every 503
    stored: list = field(default_factory=list)          # (company, month, figures, answered at): success answers
    already: list = field(default_factory=list)         # (company, month): saved although the answer was lost
    problems: list = field(default_factory=list)        # anything else: unexpected answers, exceptions


def _figures(index, month):
    """Distinct figures per company and month (yuan as typed in the form, fen and people as stored)."""
    n = index * 100 + int(month[-2:])
    return {"revenue_yuan": f"{n * 10}.25", "tax_yuan": f"{n}.50", "employees": str(n % 97)}, (
        n * 1000 + 25, n * 100 + 50, n % 97)


def _hidden_fields(html):
    fields = {}
    for tag in INPUT_TAG.findall(html):
        attributes = dict(ATTRIBUTE.findall(tag))
        if attributes.get("type") == "hidden" and "name" in attributes:
            fields.setdefault(attributes["name"], attributes.get("value", ""))
    return fields


def _answer(load, response, started):
    """Record a response; True when it is the 503 the clients retry after."""
    load.statuses.append((response.status_code, started))
    if response.status_code != 503:
        return False
    load.unavailable.append((response.headers.get("Retry-After"), UNAVAILABLE_TEXT in response.get_data(as_text=True)))
    return True


def _submit(load, client, url, index, company, month):
    """Open the month's form and submit it, like a person on a phone; "retry" after a 503."""
    started = time.monotonic()
    page = client.get(url)
    if _answer(load, page, started):
        return "retry"
    if page.status_code != 200:
        load.problems.append(f"GET {url}: {page.status_code}")
        return "failed"
    fields = _hidden_fields(page.get_data(as_text=True))
    if fields.get("version"):
        # The report exists: an earlier attempt was committed although its answer was lost with the connection.
        load.already.append((company, month))
        return "done"
    typed, stored = _figures(index, month)
    started = time.monotonic()
    response = client.post(url, data={**fields, **typed, "action": "submit"})
    if _answer(load, response, started):
        return "retry"
    if response.status_code == 302 and response.headers["Location"].endswith("/tenants/portal"):
        load.stored.append((company, month, stored, time.monotonic()))
        return "done"
    load.problems.append(f"POST {url}: {response.status_code} {response.get_data(as_text=True)[:300]}")
    return "failed"


def _client_thread(load, clients, slug, deadline):
    """One thread's share of the companies: every month of each, one client per company's contact."""
    try:
        for month in MONTHS:
            for index, company, client in clients:
                url = f"/b/{slug}/tenants/{company}/reports/{month}"
                while (outcome := _submit(load, client, url, index, company, month)) == "retry":
                    if time.monotonic() > deadline:
                        load.problems.append(f"{url}: still unavailable at the deadline")
                        return
                    time.sleep(RETRY_WAIT)
                if outcome == "failed":
                    return
    except Exception:  # an exception escaping the app is the 500 this test forbids
        load.problems.append(traceback.format_exc())


def test_a_database_restart_during_a_load_of_submissions_loses_no_committed_report(cluster, pg_app):
    assert pg_app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True
    factory = Factory(pg_app)
    base = factory.base("restart", roles=())
    clients = []
    for index in range(COMPANIES):
        company = factory.company(base, moved_in_on=date(2025, 3, 1))
        contact = factory.member(base, ac.ROLE_TENANT)
        factory.link_tenant(base, company, contact)
        browser = Browser(pg_app.test_client())
        browser.login(contact)
        clients.append((index, company, browser.client))

    load = Load()
    total = COMPANIES * len(MONTHS)
    deadline = time.monotonic() + LOAD_DEADLINE
    threads = [threading.Thread(target=_client_thread, args=(load, clients[n::THREADS], base.slug, deadline),
                                daemon=True) for n in range(THREADS)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    while len(load.stored) < total * RESTART_AFTER and time.monotonic() < deadline and not load.problems:
        time.sleep(0.01)
    restart_began = time.monotonic()
    cluster.restart()
    restart_ended = time.monotonic()
    for thread in threads:
        thread.join(max(deadline - time.monotonic(), 0) + 5)
    assert not any(thread.is_alive() for thread in threads), "the clients did not finish in time"
    assert not load.problems, "\n".join(load.problems)
    print(f"\n{total} submissions by {THREADS} threads in {time.monotonic() - began:.1f}s; restart took "
          f"{restart_ended - restart_began:.2f}s; {len(load.unavailable)} answers 503; "
          f"{len(load.already)} saved although their answer was lost")

    # Never a 500: every answer was a page, a redirect after saving, or the 503 of the outage.
    assert {status for status, _ in load.statuses} <= {200, 302, 503}
    assert load.unavailable, "no request met the restart: the test did not exercise the outage"
    assert any(at < restart_began for *_, at in load.stored), "nothing was stored before the restart"

    with pg_app.app_context(), unscoped("test reads every report of the base"):
        rows = db.session.execute(select(MonthlyReport.company_id, MonthlyReport.month_on, MonthlyReport.status,
                                         MonthlyReport.revision, MonthlyReport.revenue_fen, MonthlyReport.tax_fen,
                                         MonthlyReport.employees)).all()
        revisions = dict(db.session.execute(select(ReportRevision.report_id, func.count(ReportRevision.id))
                                            .group_by(ReportRevision.report_id)).all())
        report_ids = db.session.scalars(select(MonthlyReport.id)).all()
    saved = {}
    for company, month_on, status, revision, revenue, tax, employees in rows:
        key = (company, month_on.strftime("%Y-%m"))
        assert key not in saved, f"{key} stored twice"
        saved[key] = (status, revision, (revenue, tax, employees))
    # Every submission answered with success is there exactly once, with the figures sent, and never corrected.
    for company, month, figures, _ in load.stored:
        assert saved.get((company, month)) == ("submitted", 1, figures), (company, month)
    assert len(load.stored) + len(load.already) == total
    # Every company has each month's report, with the figures its contact sent, and a single revision.
    assert saved == {(company, month): ("submitted", 1, _figures(index, month)[1])
                     for index, company, _ in clients for month in MONTHS}
    assert len(report_ids) == total and all(revisions.get(report_id) == 1 for report_id in report_ids)

    # The same app serves after the restart: reports were stored after it, and no request begun once the server
    # was back met a dead pooled connection.
    assert any(at > restart_ended for *_, at in load.stored), "nothing was stored after the restart"
    assert [status for status, started in load.statuses if started > restart_ended and status == 503] == []
    # A restart nobody noticed (no request running) leaves only dead connections in the pool: the pre-ping finds
    # them on checkout, so the first pages after it are served, not answered 503.
    with pg_app.app_context():
        assert db.engine.pool.checkedin() > 0
    cluster.restart()
    assert [client.get(f"/b/{base.slug}/tenants/portal").status_code for _, _, client in clients] == [200] * COMPANIES

    # During the outage the answer was the Chinese 503 page with Retry-After.
    assert all(retry == str(RETRY_AFTER_SECONDS) and chinese for retry, chinese in load.unavailable), \
        load.unavailable[:5]


def _app_with_routes(url, **overrides):
    """An app on ``url`` with three routes that query the database: one fine, two refused by it."""
    application = make_app(url, **overrides)
    application.add_url_rule("/t/select", "select", lambda: str(db.session.execute(text("SELECT 1")).scalar()))
    application.add_url_rule("/t/missing-table", "missing_table",
                             lambda: str(db.session.execute(text("SELECT * FROM no_such_table")).all()))
    application.add_url_rule("/t/cancelled", "cancelled", lambda: str(db.session.execute(
        text("SET LOCAL statement_timeout = 1; SELECT pg_sleep(1)")).all()))
    return application


def test_a_lost_database_is_a_503_and_a_bad_statement_still_a_500(cluster, pg_app):
    """Only a connection-level failure is the 503 of a restart: a statement the database refuses is a bug."""
    url = pg_app.config["SQLALCHEMY_DATABASE_URI"]
    client = _app_with_routes(url, PROPAGATE_EXCEPTIONS=False).test_client()
    assert client.get("/t/select").status_code == 200
    for path in ("/t/missing-table", "/t/cancelled"):   # UndefinedTable (a ProgrammingError), QueryCanceled
        response = client.get(path)
        assert response.status_code == 500 and "Retry-After" not in response.headers, path
        assert "系统出错了" in response.get_data(as_text=True)
    with pytest.raises(ProgrammingError):              # in tests it still propagates as itself
        _app_with_routes(url).test_client().get("/t/missing-table")

    # A connection the server ends: while the page is being made it is a 503; after the page was made (only the
    # session's closing rollback is left) the page is answered as made, never turned into an error.
    def end_own_connection():
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
        with psycopg.connect(cluster.url("reports"), autocommit=True) as other:
            assert other.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,)).fetchone()[0]

    def lost_while_making():
        end_own_connection()
        return str(db.session.execute(text("SELECT 1")).scalar())

    def lost_after_making():
        end_own_connection()
        return "made"

    strict = _app_with_routes(url)   # exceptions propagate to the test, as the load test relies on
    strict.add_url_rule("/t/lost-while-making", "lost_while_making", lost_while_making)
    strict.add_url_rule("/t/lost-after-making", "lost_after_making", lost_after_making)
    client = strict.test_client()
    response = client.get("/t/lost-while-making")
    assert response.status_code == 503 and response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert UNAVAILABLE_TEXT in response.get_data(as_text=True)
    response = client.get("/t/lost-after-making")
    assert response.status_code == 200 and response.get_data(as_text=True) == "made"
    assert client.get("/t/select").status_code == 200           # the pool replaced the dead connections

    nobody = _app_with_routes(normalise_database_url(f"postgresql://postgres@127.0.0.1:{_free_port()}/reports"),
                              PROPAGATE_EXCEPTIONS=False)
    response = nobody.test_client().get("/t/select")
    assert response.status_code == 503 and response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert UNAVAILABLE_TEXT in response.get_data(as_text=True)


def test_on_sqlite_a_missing_table_is_a_500_not_a_503(tmp_path):
    application = _app_with_routes(f"sqlite:///{tmp_path / 'empty.db'}", PROPAGATE_EXCEPTIONS=False)
    response = application.test_client().get("/t/missing-table")   # sqlite3 calls this an OperationalError
    assert response.status_code == 500 and "Retry-After" not in response.headers
    assert application.test_client().get("/t/select").status_code == 200
    with application.app_context():
        assert db.engine.pool._pre_ping   # the same engine options on SQLite, harmless there
