"""Two scheduler processes at once (issue 11): two real `flask --app wsgi scheduler` processes, configured as
production (APP_ENV=production, the app's role bound by row-level security), start on one PostgreSQL database
whose bases all have work due, and each job's work is done once per base and period.

Every job fires once at a scheduler's start (the catch-up), so the work is known in advance. To make the two
processes really meet at the claims rather than one finishing before the other has imported the app, the test
holds `LOCK TABLE job_runs IN SHARE MODE` until every claiming job of both processes is waiting on it
(pg_stat_activity, by each process's application_name), then lets them all go at once.

The test makes a PostgreSQL schema of its own whichever database the run is for (like test_rls.py): concurrent
processes are what a PostgreSQL deployment has, and the embedded SQLite default runs one scheduler in its web
process."""
import os
import re
import signal
import subprocess
import sys
import time
from datetime import date

import psycopg
import pytest
from sqlalchemy import create_engine, func, select, text

from billing.models import RentInvoice
from operator_app.accounts.models import Base
from operator_app.config import PROJECT_ROOT
from operator_app.db import scoped_to, unscoped
from operator_app.extensions import db
from operator_app.filings import services as filing_services
from operator_app.filings.models import QuarterlyFiling
from operator_app.scheduler import JOBS, JobRun
from operator_app.storage import StoredFile
from operator_app.timeutil import today_in, utcnow

from ..billing.test_invoicing_issue import enable
from ..conftest import DEFAULT_PG
from ..helpers import Factory

BASES, COMPANIES = 3, 2
PROCESSES = ("scheduler-a", "scheduler-b")  # their application_name on PostgreSQL
WAIT_SECONDS = 30
RESULT = re.compile(r"Job (\S+): done \d+ \[([\d, ]*)\]; skipped \d+ \[([\d, ]*)\]; failed \d+ \[([\d, ]*)\]")


@pytest.fixture(scope="module")
def pg(pg_app):
    return pg_app


def _bases_with_work(app):
    """BASES bases, each with COMPANIES leased companies, rent billing on from this month, and created at the
    start of the last quarter (so that quarter's filing is due). Returns their ids."""
    factory = Factory(app)
    today = today_in("Asia/Shanghai")
    year, quarter = filing_services.previous_quarter(*filing_services.quarter_of(today))
    created = filing_services.quarter_bounds(year, quarter)[0]
    ids = []
    for _ in range(BASES):
        base = factory.base(roles=())
        for _ in range(COMPANIES):
            factory.lease(base, factory.company(base, moved_in_on=created))
        enable(app, base, first_month=date(today.year, today.month, 1))  # this month's bills are due
        ids.append(base.id)
    owner = create_engine(app.config["MIGRATION_DATABASE_URL"])
    with owner.begin() as connection:
        connection.execute(text("UPDATE bases SET created_at = :created"), {"created": f"{created} 00:00+08"})
    owner.dispose()
    return ids, (year, quarter)


def _due_jobs(app, base_ids):
    """The jobs that have a period due now (the others skip every base without a claim)."""
    now = utcnow()
    with app.app_context(), scoped_to(base_ids[0]):
        base = db.session.get(Base, base_ids[0])
        due = sorted(job.name for job in JOBS.values() if job.period(base, now) is not None)
    with app.app_context():
        db.session.remove()
    return due


def _start(name, app_url, tmp_path):
    """One `flask --app wsgi scheduler` process as production runs it; its output goes to files."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("STRIPE_", "MAIL_", "S3_", "SCHEDULER_")) and key not in {
               "REDIS_URL", "STORAGE_BACKEND", "MIGRATION_DATABASE_URL", "FLASK_APP", "FLASK_DEBUG"}}
    env.update(APP_ENV="production", SECRET_KEY="two-schedulers-" + "0" * 48, PYTHONUNBUFFERED="1",
               DATABASE_URL=f"{app_url}&application_name={name}", UPLOAD_FOLDER=str(tmp_path / "uploads"))
    out, err = (open(tmp_path / f"{name}.{kind}", "wb") for kind in ("out", "err"))
    with out, err:
        return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "scheduler"], cwd=PROJECT_ROOT,
                                env=env, stdout=out, stderr=err)


def _output(tmp_path, name):
    return "".join((tmp_path / f"{name}.{kind}").read_text(errors="replace") for kind in ("out", "err"))


def _wait(condition, what, processes, tmp_path):
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        exited = {name: process.returncode for name, process in processes.items() if process.poll() is not None}
        if exited or time.monotonic() > deadline:
            logs = "\n".join(f"--- {name}\n{_output(tmp_path, name)[-4000:]}" for name in processes)
            pytest.fail(f"waiting for {what}: {'exited ' + str(exited) if exited else 'timed out'}\n{logs}")
        time.sleep(0.1)


def _ids(listed):
    return [int(part) for part in listed.split(",") if part.strip()]


def test_two_scheduler_processes_do_each_jobs_work_once_per_base_and_period(pg, tmp_path):
    base_ids, (year, quarter) = _bases_with_work(pg)
    due = _due_jobs(pg, base_ids)
    assert {"filings.quarterly", "billing.invoices"} <= set(due)
    server = os.environ.get("TEST_DATABASE_URL", DEFAULT_PG)
    superuser = psycopg.connect(server)  # holds the lock in its transaction
    observer = psycopg.connect(server, autocommit=True)  # pg_stat_activity is a snapshot per transaction
    schema = pg.config["SQLALCHEMY_DATABASE_URI"].rsplit("csearch_path%3D", 1)[1]
    processes = {}
    try:
        superuser.execute(f'LOCK TABLE "{schema}".job_runs IN SHARE MODE')  # held until the commit below

        def waiting_on_the_lock():
            rows = observer.execute(
                "SELECT application_name, count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND application_name = ANY(%s) GROUP BY application_name", [list(PROCESSES)]).fetchall()
            return dict(rows)

        processes = {name: _start(name, pg.config["SQLALCHEMY_DATABASE_URI"], tmp_path) for name in PROCESSES}
        _wait(lambda: waiting_on_the_lock() == {name: len(due) for name in PROCESSES},
              f"each process's {len(due)} due jobs to wait at their first claim", processes, tmp_path)
        superuser.commit()  # all of them go at once

        def finished():
            return all(len({m[0] for m in RESULT.findall(_output(tmp_path, name))}) == len(JOBS) for name in PROCESSES)

        _wait(finished, "both processes to log every job's result", processes, tmp_path)
        # Stopped as a terminal or systemd with KillSignal=SIGINT stops one, and as systemd or Docker by default.
        for process, stop in zip(processes.values(), (signal.SIGINT, signal.SIGTERM)):
            process.send_signal(stop)
        for name, process in processes.items():
            assert process.wait(timeout=WAIT_SECONDS) == 0, _output(tmp_path, name)
            assert "Scheduler stopped." in _output(tmp_path, name)
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()
        superuser.close()
        observer.close()

    # The logs: each process walked every base for every job; each base's work was done by exactly one of them.
    results = {name: {m[0]: (_ids(m[1]), _ids(m[2]), _ids(m[3])) for m in RESULT.findall(_output(tmp_path, name))}
               for name in PROCESSES}
    for job in JOBS:
        done = [base for name in PROCESSES for base in results[name][job][0]]
        assert not any(results[name][job][2] for name in PROCESSES), (job, results)
        for name in PROCESSES:
            assert sorted(results[name][job][0] + results[name][job][1]) == base_ids, (job, name, results)
        assert sorted(done) == (base_ids if job in due else []), (job, results)

    # The claims: one per job, base and period, all finished.
    with pg.app_context(), unscoped("the test reads every base's claims"):
        runs = db.session.execute(select(JobRun.job, JobRun.base_id, JobRun.period, JobRun.finished_at)).all()
        assert sorted((job, base_id) for job, base_id, _, _ in runs) == sorted(
            (job, base_id) for job in due for base_id in base_ids)
        assert all(finished_at is not None for *_, finished_at in runs)
        assert len({(job, period) for job, _, period, _ in runs}) == len(due)  # the same period in every base

    # The work: one filing of the last quarter per base, generated once (a second run would have replaced its
    # three files with three new ones); one rent bill per lease, numbered 1..N in each base.
    for base_id in base_ids:
        with pg.app_context(), scoped_to(base_id):
            filings = db.session.execute(select(QuarterlyFiling.year, QuarterlyFiling.quarter,
                                                QuarterlyFiling.version)).all()
            assert filings == [(year, quarter, 1)]
            assert db.session.scalar(select(func.count(StoredFile.id))) == 3
            bills = db.session.execute(select(RentInvoice.number, RentInvoice.lease_id)
                                       .order_by(RentInvoice.number)).all()
            assert [number for number, _ in bills] == list(range(1, COMPANIES + 1))
            assert len({lease for _, lease in bills}) == COMPANIES
    with pg.app_context(), unscoped("the test reads every base's files"):
        assert db.session.scalar(select(func.max(StoredFile.id))) == 3 * BASES  # no file written and replaced
