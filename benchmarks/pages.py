"""Benchmark: the pages staff open every day, served as in production, and the tenants' monthly submissions
(issue 11).

For one database (``measure_database``):
1. **Latency**: the app in gunicorn with 2 sync workers (``gunicorn.conf.py``, ``APP_ENV=production``), on
   PostgreSQL as the app's own role (it owns no table: row-level security applies, as in production), driven
   from threads on loopback (``benchmarks/loadgen.py``). Each thread logs in through the login form as the
   manager of several bases and requests every page of every base in a new random order each round: the
   dashboard, the tenant list (page 1 and a filtered search), one company's file, the service ledger, the
   attendance month, the rent compliance page and the filings list, plus the **floor** (``/_bench/floor``,
   benchmarks/wsgi_bench.py: one indexed query and a trivial template in the same app). Median and p95 in ms,
   and their ratio to the floor's.
2. **SQL statements per page**: the same pages in-process (Flask test client, the same configuration and role),
   counted with ``before_cursor_execute``; at two scales they must be equal (constant as the data grows).
3. **Monthly report submissions**: 100 tenant contacts of 100 different companies (spread over the bases), each
   logged in on its own connection, open the report form of the month being collected and submit it at the same
   moment. Every stored row is then checked (status, figures, revision, its revision row). The floor here is the
   same 100 threads each requesting the floor twice (a form and its post).

The database of each scale is made once and kept (PostgreSQL: ``bench_<scale>``; SQLite: a file in a temporary
folder) with benchmarks/generate.py. Before each submission run the benchmark deletes the chosen companies'
reports of that month (and their revisions), so the run can be repeated; the submissions put them back.

Run: ``.venv/bin/python -m benchmarks.pages --help`` (``.venv/bin/python -m benchmarks`` runs everything).
"""
import argparse
import contextlib
import os
import platform
import random
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from benchmarks.loadgen import BenchError, Client, hidden_fields, percentile, run_rounds

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
PAGES = ("dashboard", "readiness panel", "tenant list", "tenant search", "company file", "ledger list",
         "attendance month", "rent compliance", "filings list", "operator: bases", "operator: filings")
# The pages that read across the bases of one operator, opened by its owner (the others by a base's manager).
OWNER_PAGES = {"operator: bases": "/operator/bases", "operator: filings": "/operator/filings"}
FLOOR = "floor"
APP_ROLE = "shuangchuang_app"
SCALE_BASES = {"province": 200, "small": 10, "base300": 1}
TARGET_P95_MS = 100
TARGET_RATIO = 3
TARGET_SQL = 15
HTTPS = "https://localhost"  # the test client's address: production cookies are Secure and __Host- prefixed


def log(message):
    print(f"  .. {message}", flush=True)


# --- Databases ----------------------------------------------------------------------------------------------

@dataclass
class Database:
    """A generated database: ``url`` for setup (a superuser, or the SQLite file), ``app_url`` for the app."""

    label: str
    scale: str
    url: str
    app_url: str
    dialect: str
    folder: str  # uploads of the app (the generator's files are not read by the pages measured)
    notes: list = field(default_factory=list)


def _make_app(url, folder, env="testing", **extra):
    from operator_app import create_app
    from operator_app.config import normalise_database_url

    return create_app(env, {"SQLALCHEMY_DATABASE_URI": normalise_database_url(url), "UPLOAD_FOLDER": folder,
                            "SECRET_KEY": extra.pop("secret", None) or secrets.token_hex(32), **extra})


def _fill(url, folder, scale):
    """Migrate the database at ``url`` and fill it with ``scale`` unless it already has bases. Returns its bases."""
    from flask_migrate import upgrade

    from benchmarks.generate import file_quarters, generate

    app = _make_app(url, folder)
    with app.app_context():
        upgrade()
    engine = create_engine(_driver_url(url))
    with engine.connect() as connection:
        bases = connection.execute(text("SELECT count(*) FROM bases")).scalar()
    if not bases:
        log(f"generating {scale} into {make_url(url).render_as_string(hide_password=True)}")
        result = generate(app, scale, progress=log)
        log(f"generated {result['rows']:,} rows in {result['elapsed']:.0f} s")
        with engine.connect() as connection:
            bases = connection.execute(text("SELECT count(*) FROM bases")).scalar()
    else:  # a database generated before the generator filed quarters: file them now (minutes, once)
        with engine.connect() as connection:
            filed = connection.execute(text("SELECT count(*) FROM quarterly_filings")).scalar()
        if not filed:
            log("filing the last four quarters of every base")
            file_quarters(app, progress=log)
    engine.dispose()
    with app.app_context():
        from operator_app.extensions import db

        db.engine.dispose()
    return bases


def _driver_url(url):
    from operator_app.config import normalise_database_url

    return normalise_database_url(url)


def postgres_database(server_url, scale, *, name=None, app_role=APP_ROLE, folder):
    """The PostgreSQL database ``bench_<scale>`` on the server of ``server_url`` (a superuser's URL): created,
    migrated and generated when missing, the app's role created when missing and granted row access. The app
    connects as ``app_role`` (owns nothing, no BYPASSRLS: row-level security binds it)."""
    from operator_app.rls import grant_app_role

    name = name or f"bench_{scale}"
    server = make_url(_driver_url(server_url))
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if not connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}).scalar():
            log(f"creating database {name}")
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        if not connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": app_role}).scalar():
            log(f"creating role {app_role} (LOGIN NOSUPERUSER NOBYPASSRLS)")
            connection.execute(text(f'CREATE ROLE "{app_role}" LOGIN NOSUPERUSER NOBYPASSRLS'))
    admin.dispose()
    url = server.set(database=name).render_as_string(hide_password=False)
    bases = _fill(url, folder, scale)
    if bases < SCALE_BASES[scale]:
        raise BenchError(f"{name} has {bases} bases, {scale} has {SCALE_BASES[scale]}: is it still being generated?")
    engine = create_engine(url)
    with engine.begin() as connection:
        grant_app_role(connection, app_role)
        # Bulk-loaded tables have no planner statistics until autovacuum gets to them: without them the planner
        # expects a dozen rows where there are thousands. ANALYZE takes seconds and changes no data.
        never = connection.execute(text("SELECT count(*) FROM pg_stat_user_tables WHERE n_live_tup > 0 "
                                        "AND last_analyze IS NULL AND last_autoanalyze IS NULL")).scalar()
    if never:
        log(f"ANALYZE {name} ({never} tables never analysed)")
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))
    engine.dispose()
    app_url = server.set(database=name, username=app_role).render_as_string(hide_password=False)
    return Database(f"PostgreSQL {scale}", scale, url, app_url, "postgresql", folder)


def sqlite_database(folder, scale):
    """A SQLite file of ``scale`` generated in ``folder`` (the embedded default's database)."""
    url = f"sqlite:///{os.path.join(folder, f'bench_{scale}.db')}"
    _fill(url, folder, scale)
    return Database(f"SQLite {scale}", scale, url, url, "sqlite", folder)


# --- What each base's pages are -----------------------------------------------------------------------------

@dataclass
class BasePages:
    slug: str
    base_id: int
    manager: str
    company_id: int
    paths: dict
    owner: str = ""  # the operator owner's login, for OWNER_PAGES


def base_pages(database, count):
    """``count`` bases spread over the database (the first always), with the paths of their pages."""
    from benchmarks.generate import manager_email
    from operator_app.timeutil import add_months, month_key, month_of, today_in

    last_month = month_key(add_months(month_of(today_in("Asia/Shanghai")), -1))
    engine = create_engine(_driver_url(database.url))
    chosen = []
    with engine.connect() as connection:
        bases = connection.execute(text("SELECT id, slug FROM bases ORDER BY id")).all()
        for index in sorted({round(k * len(bases) / count) for k in range(count)}):
            base_id, slug = bases[index]
            # The company with the fullest file: most reports, milestones and documents.
            company_id = connection.execute(text(
                "SELECT c.id FROM tenant_companies c WHERE c.base_id = :base AND c.status = 'in_residence' "
                "AND c.deleted_at IS NULL ORDER BY "
                "(SELECT count(*) FROM monthly_reports r WHERE r.company_id = c.id) "
                "+ 5 * (SELECT count(*) FROM milestones m WHERE m.company_id = c.id) "
                "+ 5 * (SELECT count(*) FROM company_documents d WHERE d.company_id = c.id) DESC, c.id LIMIT 1"),
                {"base": base_id}).scalar()
            owner = connection.execute(text(
                "SELECT u.email FROM users u JOIN bases b ON b.operator_id = u.operator_id "
                "WHERE b.id = :base AND u.is_operator_owner ORDER BY u.id LIMIT 1"), {"base": base_id}).scalar()
            prefix = f"/b/{slug}"
            chosen.append(BasePages(slug, base_id, manager_email(slug), company_id, owner=owner, paths={
                "dashboard": f"{prefix}/",
                "readiness panel": f"{prefix}/filings/compliance/panel",  # the dashboard fetches it after loading
                "tenant list": f"{prefix}/tenants/",
                "tenant search": f"{prefix}/tenants/?q=%E7%A7%91%E6%8A%80&status=all&sort=moved_in_on&direction=desc",
                "company file": f"{prefix}/tenants/{company_id}",
                "ledger list": f"{prefix}/ledger/",
                "attendance month": f"{prefix}/tenants/attendance?month={last_month}",
                "rent compliance": f"{prefix}/tenants/rent",
                "filings list": f"{prefix}/filings/",
                FLOOR: f"/_bench/floor?slug={slug}",
            }))
    engine.dispose()
    return chosen


# --- SQL statements per page, in-process ----------------------------------------------------------------------

class StatementLog:
    """Every statement the engine runs while ``active``: (SQL, parameters, milliseconds)."""

    def __init__(self, engine):
        self.active = False
        self.statements = []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, connection, cursor, statement, parameters, context, executemany):
        connection.info["bench_started"] = time.perf_counter()

    def _after(self, connection, cursor, statement, parameters, context, executemany):
        if self.active:
            self.statements.append((statement, parameters,
                                    (time.perf_counter() - connection.info.pop("bench_started")) * 1000))


def count_statements(database, base, *, explain=0):
    """{page: [(SQL, parameters, ms)]} of the second request of each page (the first warms the process's caches),
    in-process with the production configuration and the app's role. With ``explain``, EXPLAIN ANALYZE the
    ``explain`` slowest statements of each page (PostgreSQL) and return them too."""
    from benchmarks.generate import PASSWORD
    from benchmarks.wsgi_bench import add_floor
    from operator_app.extensions import db

    app = add_floor(_make_app(database.app_url, database.folder, env="production"))
    with app.app_context():
        statements = StatementLog(db.engine)
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    _test_login(client, base.manager, PASSWORD)
    owner = app.test_client()
    owner.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    _test_login(owner, base.owner, PASSWORD)
    counted, plans = {}, {}
    for name, path in [*base.paths.items(), *OWNER_PAGES.items()]:
        reader = owner if name in OWNER_PAGES else client
        for attempt in (1, 2):
            statements.statements = []
            statements.active = attempt == 2
            response = reader.get(path, base_url=HTTPS)
            statements.active = False
            if response.status_code != 200:
                raise BenchError(f"in-process {name}: GET {path} answered {response.status_code}")
        counted[name] = statements.statements
        if explain and database.dialect == "postgresql":
            plans[name] = _explain(app, base.base_id, statements.statements, explain)
    with app.app_context():
        db.engine.dispose()
    return counted, plans


def _test_login(client, email, password):
    page = client.get("/login", base_url=HTTPS)
    response = client.post("/login", base_url=HTTPS, headers={"Referer": HTTPS + "/login"}, data={
        **hidden_fields(page.get_data(as_text=True)), "email": email, "password": password})
    if response.status_code != 302:
        raise BenchError(f"in-process login of {email} answered {response.status_code}")


def _explain(app, base_id, statements, top):
    """EXPLAIN (ANALYZE, BUFFERS) of the ``top`` slowest SELECTs, as the app's role confined to the base."""
    from operator_app.extensions import db

    slowest = sorted((s for s in statements if s[0].lstrip().upper().startswith(("SELECT", "WITH"))
                      and "set_config" not in s[0]), key=lambda s: -s[2])[:top]
    plans = []
    with app.app_context():
        connection = db.engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute("SELECT set_config('app.base_id', %s, true)", (str(base_id),))
            for statement, parameters, ms in slowest:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                plans.append((statement, ms, "\n".join(row[0] for row in cursor.fetchall())))
            connection.rollback()
        finally:
            connection.close()
    return plans


# --- gunicorn -----------------------------------------------------------------------------------------------

def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serve(database, *, workers=2, log_path=None):
    """gunicorn with ``workers`` sync workers on a free loopback port, serving benchmarks/wsgi_bench.py in
    production mode as the app's role. Yields (host, port); stops the server it started afterwards."""
    port = _free_port()
    env = {**os.environ, "APP_ENV": "production", "SECRET_KEY": secrets.token_hex(32),
           "DATABASE_URL": database.app_url, "UPLOAD_FOLDER": database.folder, "SCHEDULER_IN_PROCESS": "false",
           "WEB_CONCURRENCY": str(workers), "GUNICORN_BIND": f"127.0.0.1:{port}"}
    for name in ("MIGRATION_DATABASE_URL", "REDIS_URL", "STORAGE_BACKEND", "TRUSTED_PROXIES"):
        env.pop(name, None)
    log_path = log_path or os.path.join(database.folder, "gunicorn.log")
    with open(log_path, "ab") as log_file:
        process = subprocess.Popen(
            [os.path.join(BIN, "gunicorn"), "-c", os.path.join(PROJECT, "gunicorn.conf.py"), "--log-level",
             "warning", "benchmarks.wsgi_bench:create_bench_app()"], cwd=PROJECT, env=env, stdout=log_file,
            stderr=log_file)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise BenchError(f"gunicorn stopped at start (exit {process.returncode}); see {log_path}")
            try:
                client = Client("127.0.0.1", port, timeout=5)
                status, _, _ = client.get("/_bench/floor")
                client.close()
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise BenchError(f"gunicorn did not answer in 60 s; see {log_path}")
            time.sleep(0.3)
        yield "127.0.0.1", port
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- Latency ------------------------------------------------------------------------------------------------

def measure_latency(server, bases, *, rounds, concurrency):
    """{page: [ms]} over every base, and requests per second (see run_rounds)."""
    from benchmarks.generate import PASSWORD

    host, port = server

    owners = sorted({base.owner for base in bases})

    def make_clients(n):
        clients = {base.slug: Client(host, port).login(base.manager, PASSWORD) for base in bases}
        clients.update({owner: Client(host, port).login(owner, PASSWORD) for owner in owners})
        return clients

    pages = [(name, base.slug, path) for base in bases for name, path in base.paths.items()]
    pages += [(name, owner, path) for owner in owners for name, path in OWNER_PAGES.items()]
    return run_rounds(make_clients, pages, rounds=rounds, concurrency=concurrency)


# --- Monthly report submissions ---------------------------------------------------------------------------------

@dataclass
class Reporter:
    email: str
    slug: str
    base_id: int
    company_id: int


def pick_reporters(database, count, month_on, seed=1):
    """``count`` tenant contacts of different housed companies, spread over the bases at random (seeded). Where
    the database has fewer contacts (a one-base scale), contacts are added to other housed companies (users and
    memberships written directly, with the generated password's hash)."""
    from operator_app.timeutil import month_end

    engine = create_engine(_driver_url(database.url))
    try:
        found = _contacts(engine, month_end(month_on))
        if len(found) < count:
            added = _add_contacts(engine, count - len(found), month_end(month_on))
            if added:
                database.notes.append(f"{added} tenant contacts added for the submissions (the generator gives a "
                                      f"login to one housed company in five)")
            found = _contacts(engine, month_end(month_on))
    finally:
        engine.dispose()
    reporters = sorted(found.values(), key=lambda r: r.company_id)
    if len(reporters) < count:
        raise BenchError(f"only {len(reporters)} companies with a tenant contact")
    return random.Random(seed).sample(reporters, count)


def _contacts(engine, end):
    """{company id: Reporter} of the housed companies with an active tenant contact (the first by id)."""
    found = {}
    with engine.connect() as connection:
        for row in connection.execute(text(
                "SELECT u.email, b.slug, b.id AS base_id, c.id AS company_id FROM memberships m "
                "JOIN users u ON u.id = m.user_id JOIN tenant_companies c ON c.id = m.tenant_company_id "
                "JOIN bases b ON b.id = m.base_id WHERE m.role = 'tenant' AND m.is_active AND u.is_active "
                "AND c.status = 'in_residence' AND c.deleted_at IS NULL AND c.moved_in_on <= :end "
                "ORDER BY c.id, u.id"), {"end": end}):
            found.setdefault(row.company_id, Reporter(row.email, row.slug, row.base_id, row.company_id))
    return found


def _add_contacts(engine, missing, end):
    """Give ``missing`` housed companies without a contact one (as the generated users: the same password).
    Returns how many were added."""
    from benchmarks.generate import EMAIL_DOMAIN

    now = datetime.now(timezone.utc)
    with engine.begin() as connection:
        hashed = connection.execute(text("SELECT password_hash FROM users WHERE email LIKE 'manager.%' "
                                         "ORDER BY id LIMIT 1")).scalar()
        companies = connection.execute(text(
            "SELECT c.id, c.base_id FROM tenant_companies c WHERE c.status = 'in_residence' "
            "AND c.deleted_at IS NULL AND c.moved_in_on <= :end AND NOT EXISTS (SELECT 1 FROM memberships m "
            "WHERE m.tenant_company_id = c.id) ORDER BY c.id"), {"end": end}).all()[:missing]
        for company_id, base_id in companies:
            user_id = connection.execute(text(
                "INSERT INTO users (email, name, phone, password_hash, is_active, is_platform_admin, "
                "is_operator_owner, created_at) VALUES (:email, '基准联系人', '', :hash, true, false, false, :now) "
                "RETURNING id"), {"email": f"bench.contact{company_id}@{EMAIL_DOMAIN}", "hash": hashed,
                                  "now": now}).scalar()
            connection.execute(text(
                "INSERT INTO memberships (user_id, base_id, role, tenant_company_id, is_active, created_at) "
                "VALUES (:user, :base, 'tenant', :company, true, :now)"),
                {"user": user_id, "base": base_id, "company": company_id, "now": now})
    return len(companies)


def _reset_reports(database, reporters, month_on):
    """Delete the reporters' reports on ``month_on`` and their revisions (as the setup role, which RLS does not
    bind), so each run submits them anew."""
    engine = create_engine(_driver_url(database.url))
    ids = [r.company_id for r in reporters]
    with engine.begin() as connection:
        if database.dialect == "postgresql":
            connection.execute(text("SELECT set_config('app.unscoped', 'on', true)"))
        report_ids = [row[0] for row in connection.execute(text(
            "SELECT id FROM monthly_reports WHERE month_on = :month AND company_id IN ("
            + ",".join(str(i) for i in ids) + ")"), {"month": month_on})]
        if report_ids:
            listed = ",".join(str(i) for i in report_ids)
            connection.execute(text(f"DELETE FROM report_revisions WHERE report_id IN ({listed})"))
            connection.execute(text(f"DELETE FROM monthly_reports WHERE id IN ({listed})"))
    engine.dispose()
    return len(report_ids)


def _stored(database, reporters, month_on, figures):
    """How many of the submissions are stored as sent: submitted, the figures, revision 1 with its revision row."""
    engine = create_engine(_driver_url(database.url))
    ids = ",".join(str(r.company_id) for r in reporters)
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT r.company_id, r.status, r.revenue_fen, r.tax_fen, r.employees, r.revision, "
            "(SELECT count(*) FROM report_revisions v WHERE v.report_id = r.id) AS revisions "
            f"FROM monthly_reports r WHERE r.month_on = :month AND r.company_id IN ({ids})"),
            {"month": month_on}).all()
    engine.dispose()
    ok = 0
    for row in rows:
        want = figures[row.company_id]
        ok += (row.status == "submitted" and (row.revenue_fen, row.tax_fen, row.employees) == want
               and row.revision == 1 and row.revisions == 1)
    return ok, len(rows)


def measure_submissions(database, server, *, count=100):
    """Submissions of ``count`` companies at once. Returns a dict of the measures (see module docstring)."""
    from benchmarks.generate import PASSWORD
    from tenants.reports import current_month_due, key
    from operator_app.timeutil import today_in

    host, port = server
    month_on = current_month_due(today_in("Asia/Shanghai"))
    reporters = pick_reporters(database, count, month_on)
    deleted = _reset_reports(database, reporters, month_on)
    figures = {r.company_id: ((200_000 + n) * 100, (10_000 + n) * 100, 10 + n % 40) for n, r in enumerate(reporters)}
    clients = [None] * count
    log(f"{count} tenant contacts of {len({r.base_id for r in reporters})} bases log in "
        f"({deleted} earlier reports on {key(month_on)} removed first)")

    def login(n):
        clients[n] = Client(host, port, timeout=120).login(reporters[n].email, PASSWORD)

    _in_threads(count, login)

    def timed_threads(work):
        barrier = threading.Barrier(count)
        spans, ends = [None] * count, [None] * count

        def run(n):
            barrier.wait()
            started = time.perf_counter()
            spans[n] = work(n, started)
            ends[n] = time.perf_counter()

        started = time.perf_counter()
        _in_threads(count, run)
        return spans, max(ends) - started

    statuses = [None] * count

    def submit(n, started):
        reporter = reporters[n]
        path = f"/b/{reporter.slug}/tenants/{reporter.company_id}/reports/{key(month_on)}"
        revenue, tax, employees = figures[reporter.company_id]
        status, _, _ = clients[n].post_form(path, path, {
            "revenue_yuan": f"{revenue // 100}.00", "tax_yuan": f"{tax // 100}.00", "employees": str(employees),
            "action": "submit"})
        statuses[n] = status
        return (time.perf_counter() - started) * 1000

    spans, elapsed = timed_threads(submit)
    stored, rows = _stored(database, reporters, month_on, figures)

    def floor(n, started):
        for _ in range(2):
            status, _, _ = clients[n].get(f"/_bench/floor?slug={reporters[n].slug}")
            if status != 200:
                raise BenchError(f"floor answered {status}")
        return (time.perf_counter() - started) * 1000

    floor_spans, floor_elapsed = timed_threads(floor)
    for client in clients:
        client.close()
    return {"count": count, "bases": len({r.base_id for r in reporters}), "redirected": statuses.count(302),
            "statuses": sorted(set(statuses)), "stored": stored, "rows": rows, "elapsed": elapsed,
            "rate": count / elapsed, "median": statistics.median(spans), "p95": percentile(spans, 0.95),
            "floor_elapsed": floor_elapsed, "floor_median": statistics.median(floor_spans),
            "floor_p95": percentile(floor_spans, 0.95), "month": key(month_on)}


def _in_threads(count, work):
    errors = []

    def run(n):
        try:
            work(n)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(n,), daemon=True) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


# --- One database, all measures -----------------------------------------------------------------------------

def measure_database(database, *, bases=10, rounds=10, concurrency=2, submissions=100, explain=0):
    """Latency of every page (and the floor), SQL per page (first base), submissions. Returns a dict."""
    chosen = base_pages(database, bases)
    log(f"{database.label}: SQL statements per page (in-process, base {chosen[0].slug})")
    counted, plans = count_statements(database, chosen[0], explain=explain)
    result = {"label": database.label, "sql": {name: len(items) for name, items in counted.items()},
              "statements": counted, "plans": plans, "bases": [b.slug for b in chosen], "notes": database.notes}
    if not rounds and not submissions:
        return result
    with serve(database) as server:
        if rounds:
            log(f"{database.label}: latency, {len(chosen)} bases x {len(PAGES) + 1} pages x {rounds} rounds x "
                f"{concurrency} clients")
            load = os.getloadavg()[0]
            times, rate = measure_latency(server, chosen, rounds=rounds, concurrency=concurrency)
            result.update(times=times, rate=rate, load=(load, os.getloadavg()[0]))
        if submissions:
            log(f"{database.label}: {submissions} submissions at once")
            result["submissions"] = measure_submissions(database, server, count=submissions)
    return result


# --- The table ------------------------------------------------------------------------------------------------

def machine():
    """Cores, memory, PostgreSQL and Python versions, the date: for the results."""
    def run(*command):
        try:
            return subprocess.run(command, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return "?"

    memory = run("free", "-g").splitlines()
    return {"date": date.today().isoformat(), "cores": run("nproc"),
            "memory": memory[1].split()[1] + " GiB" if len(memory) > 1 else "?",
            "python": platform.python_version(), "load": os.getloadavg()}


def postgres_version(url):
    engine = create_engine(_driver_url(url))
    with engine.connect() as connection:
        version = connection.execute(text("SHOW server_version")).scalar()
    engine.dispose()
    return version


def verdict(ok):
    return "met" if ok else "MISSED"


def print_table(results, sql_scales, *, filing=None, out=print):
    """The table: per page, for each measured database median, p95 (ms), ×floor of median and p95; the SQL
    statements at every scale counted; the targets."""
    timed = [r for r in results if "times" in r]
    head = f"{'page':18}"
    for result in timed:
        head += f" | {result['label'][:33]:^33}"
    head += " | SQL per page " + " / ".join(label for label, _ in sql_scales)
    out(head)
    sub = f"{'':18}" + "".join(f" | {'median':>7} {'p95':>7} {'x med':>6} {'x p95':>6}  " for _ in timed)
    out(sub)
    misses = []
    for name in PAGES + (FLOOR,):
        line = f"{name:18}"
        for result in timed:
            values, floor = result["times"][name], result["times"][FLOOR]
            median, p95 = statistics.median(values), percentile(values, 0.95)
            ratio_median = median / statistics.median(floor)
            ratio_p95 = p95 / percentile(floor, 0.95)
            line += f" | {median:7.1f} {p95:7.1f} {ratio_median:5.1f}x {ratio_p95:5.1f}x  "
            if name != FLOOR:
                if p95 >= TARGET_P95_MS:
                    misses.append(f"{result['label']}: {name} p95 {p95:.0f} ms >= {TARGET_P95_MS} ms")
                if ratio_median > TARGET_RATIO:
                    misses.append(f"{result['label']}: {name} median {ratio_median:.1f}x the floor > {TARGET_RATIO}x")
        counts = [sql[name] for _, sql in sql_scales]
        line += " | " + " / ".join(f"{count:>3}" for count in counts)
        if name != FLOOR:
            if max(counts) > TARGET_SQL:
                misses.append(f"{name}: {max(counts)} SQL statements > {TARGET_SQL}")
            by_dialect = {}
            for (label, sql) in sql_scales:
                by_dialect.setdefault(label.split()[0], set()).add(sql[name])
            if any(len(found) > 1 for found in by_dialect.values()):
                misses.append(f"{name}: the SQL count changes with the scale ({counts})")
        out(line)
    for result in timed:
        out(f"{result['label']}: {result['rate']:.0f} requests/s over the run, bases {', '.join(result['bases'])}; "
            f"load average {result['load'][0]:.2f} at start, {result['load'][1]:.2f} at end")
    for result in results:
        sub = result.get("submissions")
        if not sub:
            continue
        out(f"{result['label']}: {sub['count']} monthly report submissions at once ({sub['bases']} bases, month "
            f"{sub['month']}): {sub['rate']:.1f}/s ({sub['elapsed']:.2f} s for all), form+submit per company median "
            f"{sub['median']:.0f} ms, p95 {sub['p95']:.0f} ms; floor (2 requests per thread) "
            f"{sub['floor_elapsed']:.2f} s, median {sub['floor_median']:.0f} ms, p95 {sub['floor_p95']:.0f} ms: "
            f"{sub['elapsed'] / sub['floor_elapsed']:.1f}x the floor; stored as sent {sub['stored']}/{sub['count']} "
            f"(answers {sub['statuses']})")
        if sub["stored"] != sub["count"]:
            misses.append(f"{result['label']}: {sub['count'] - sub['stored']} submissions lost or wrong")
        for note in result["notes"]:
            out(f"  note: {note}")
    if filing:
        out(filing)
    out(f"Targets: p95 < {TARGET_P95_MS} ms, median <= {TARGET_RATIO}x the floor, <= {TARGET_SQL} SQL per page "
        f"and the same count at every scale, no submission lost: "
        + ("all met" if not misses else "MISSED:\n  " + "\n  ".join(misses)))
    return misses


def print_profile(results, out=print, top=5):
    """The slowest statements of each page (and EXPLAIN ANALYZE plans when asked)."""
    for result in results:
        out(f"\n{result['label']}: slowest statements per page (in-process, ms)")
        for name, statements in result["statements"].items():
            slowest = sorted(statements, key=lambda s: -s[2])[:top]
            out(f"  {name}: {len(statements)} statements, {sum(s[2] for s in statements):.1f} ms in all")
            for statement, _, ms in slowest:
                out(f"    {ms:7.2f}  {' '.join(statement.split())[:220]}")
        for name, plans in result["plans"].items():
            for statement, ms, plan in plans:
                out(f"\n  EXPLAIN ANALYZE ({name}, {ms:.1f} ms): {' '.join(statement.split())[:300]}\n{plan}")


# --- Main -----------------------------------------------------------------------------------------------------

def parse_args(argv=None):
    return build_parser().parse_args(argv)


def build_parser(description=None):
    parser = argparse.ArgumentParser(description=description or __doc__.split("\n\n")[0])
    parser.add_argument("--pg", default=os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432"),
                        help="a PostgreSQL superuser's URL (server only; databases bench_<scale> are made on it); "
                             "'none' to skip PostgreSQL")
    parser.add_argument("--scale", default="province", choices=("province", "small"),
                        help="the PostgreSQL scale whose pages are timed (the other is counted only)")
    parser.add_argument("--sqlite-scale", default="base300", choices=("base300", "small", "none"),
                        help="the scale timed on SQLite ('none' to skip)")
    parser.add_argument("--bases", type=int, default=10, help="bases whose pages are requested")
    parser.add_argument("--rounds", type=int, default=10, help="rounds per client (each: every page of every base)")
    parser.add_argument("--concurrency", type=int, default=2, help="clients at once")
    parser.add_argument("--submissions", type=int, default=100, help="companies submitting at once (0: none)")
    parser.add_argument("--profile", action="store_true", help="the slowest statements of each page")
    parser.add_argument("--explain", type=int, default=0, help="EXPLAIN ANALYZE the N slowest statements per page")
    parser.add_argument("--folder", help="for uploads, logs and the SQLite file (default: a temporary folder)")
    return parser


def run(args, out=print, table=True):
    """Measure what ``args`` asks; print the table (unless ``table`` is false). Returns (results, SQL scales,
    the header line, misses)."""
    folder = args.folder or tempfile.mkdtemp(prefix="bench-pages-")
    try:
        info = machine()
        results, sql_scales = [], []
        if args.pg != "none":
            try:
                info["postgresql"] = postgres_version(args.pg.rstrip("/") + "/postgres")
            except OperationalError as error:
                log(f"PostgreSQL at {args.pg} is unreachable, measured on SQLite only: {str(error).splitlines()[0]}")
                args.pg = "none"
        if args.pg != "none":
            other = "small" if args.scale == "province" else "province"
            timed = postgres_database(args.pg, args.scale, folder=folder)
            counted = postgres_database(args.pg, other, folder=folder)
            result = measure_database(timed, bases=args.bases, rounds=args.rounds, concurrency=args.concurrency,
                                      submissions=args.submissions, explain=args.explain)
            small = measure_database(counted, bases=1, rounds=0, submissions=0)
            for item in sorted([result, small], key=lambda r: SCALE_BASES[r["label"].split()[-1]]):
                sql_scales.append((item["label"], item["sql"]))
            results.append(result)
            profiled = [result, small]
        else:
            profiled = []
        if args.sqlite_scale != "none":
            database = sqlite_database(folder, args.sqlite_scale)
            result = measure_database(database, bases=min(args.bases, SCALE_BASES[args.sqlite_scale]),
                                      rounds=args.rounds, concurrency=args.concurrency,
                                      submissions=args.submissions)
            results.append(result)
            sql_scales.append((result["label"], result["sql"]))
            profiled.append(result)
        header = (f"Issue 11 benchmarks, {info['date']}: {info['cores']} cores, {info['memory']} memory, Python "
                  f"{info['python']}" + (f", PostgreSQL {info['postgresql']}" if "postgresql" in info else "")
                  + f"; gunicorn 2 sync workers, {args.concurrency} clients on loopback, {args.rounds} rounds; load "
                    f"average {info['load'][0]:.2f} at start, {os.getloadavg()[0]:.2f} at the end of the pages")
        misses = []
        if table:
            out("\n" + header + "\n")
            misses = print_table(results, sql_scales, out=out)
        if args.profile or args.explain:
            print_profile(profiled, out=out)
        return results, sql_scales, header, misses
    finally:
        if not args.folder:
            shutil.rmtree(folder, ignore_errors=True)


def main(argv=None):
    run(parse_args(argv))


if __name__ == "__main__":
    main()
