"""The scheduler: a job's work is done once per base and period, scoped to its base, retried after a failure,
and claimed only once when two schedulers race; the command line and the APScheduler wiring around it."""
import logging
import threading
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select

from operator_app import audit, scheduler
from operator_app.accounts.models import Zone
from operator_app.audit import AuditEntry
from operator_app.config import load_config
from operator_app.db import unscoped
from operator_app.extensions import db
from operator_app.scheduler import JobRun, init_scheduler, register_job, run_job
from tenants.models import CheckInPoint

from ..conftest import make_app

SHANGHAI = ZoneInfo("Asia/Shanghai")
NIGHT = datetime(2026, 11, 22, 18, 0, tzinfo=timezone.utc)  # 02:00 on 23 November in Shanghai
NIGHTLY = {"hour": 1, "minute": 10}


@pytest.fixture
def registry():
    """Only the jobs the test registers are known while it runs; the real registry comes back after."""
    saved = dict(scheduler.JOBS)
    scheduler.JOBS.clear()
    yield scheduler.JOBS
    scheduler.JOBS.clear()
    scheduler.JOBS.update(saved)


def daily(base, now):
    """The base-local date: a daily job's unit of work."""
    return now.astimezone(ZoneInfo(base.timezone)).date().isoformat()


def note_the_night(base, now):
    """The work of the test job: an audit entry in the base, committed (or rolled back) with the claim."""
    audit.record("test.nightly", base, after={"period": daily(base, now)})


def work_done(app):
    """(base id, period) of every piece of work the test job did, in order."""
    with app.app_context():
        rows = db.session.execute(select(AuditEntry.base_id, AuditEntry.after)
                                  .where(AuditEntry.action == "test.nightly"))
        return sorted((base_id, after["period"]) for base_id, after in rows)


def claims(app, job="test.nightly"):
    """(base id, period) of the committed claims of ``job``; every one of them has finished."""
    with app.app_context(), unscoped("the test reads the claims of every base"):
        runs = db.session.scalars(select(JobRun).where(JobRun.job == job)).all()
        assert all(run.finished_at is not None for run in runs)
        return sorted((run.base_id, run.period) for run in runs)


def test_a_daily_job_runs_once_per_base_and_day(app, factory, registry):
    first, second = factory.base().id, factory.base().id
    register_job("test.nightly", note_the_night, period=daily, trigger=NIGHTLY)

    with app.app_context():
        result = run_job("test.nightly", NIGHT)
        again = run_job("test.nightly", NIGHT + timedelta(hours=3))  # still 23 November in Shanghai
    assert (result.done, result.skipped, result.failed) == ([first, second], [], [])
    assert (again.done, again.skipped, again.failed) == ([], [first, second], [])
    assert work_done(app) == [(first, "2026-11-23"), (second, "2026-11-23")]
    assert claims(app) == [(first, "2026-11-23"), (second, "2026-11-23")]

    with app.app_context():
        next_day = run_job("test.nightly", NIGHT + timedelta(days=1))
    assert next_day.done == [first, second]
    assert work_done(app) == [(first, "2026-11-23"), (first, "2026-11-24"),
                              (second, "2026-11-23"), (second, "2026-11-24")]


def test_a_base_with_nothing_due_is_skipped_without_a_claim(app, factory, registry):
    due, idle = factory.base().id, factory.base().id
    register_job("test.nightly", note_the_night, trigger=NIGHTLY,
                 period=lambda base, now: daily(base, now) if base.id == due else None)

    with app.app_context():
        result = run_job("test.nightly", NIGHT)
    assert (result.done, result.skipped) == ([due], [idle])
    assert claims(app) == [(due, "2026-11-23")]


def test_a_failing_base_is_rolled_back_logged_and_retried_while_the_others_are_done(app, factory, registry,
                                                                                      caplog):
    first, broken, third = factory.base().id, factory.base().id, factory.base().id
    failing = {broken}

    def run(base, now):
        note_the_night(base, now)
        if base.id in failing:
            raise RuntimeError("mail server down")

    register_job("test.nightly", run, period=daily, trigger=NIGHTLY)
    with app.app_context(), caplog.at_level(logging.ERROR, logger="operator_app.scheduler"):
        result = run_job("test.nightly", NIGHT)
    assert (result.done, result.failed) == ([first, third], [broken])
    assert work_done(app) == [(first, "2026-11-23"), (third, "2026-11-23")]  # the broken base's work is gone
    assert claims(app) == [(first, "2026-11-23"), (third, "2026-11-23")]  # and so is its claim
    [failure] = caplog.records
    assert failure.getMessage() == f"Job test.nightly failed for base {broken}"
    assert "mail server down" in caplog.text

    failing.clear()
    with app.app_context():
        retry = run_job("test.nightly", NIGHT)
    assert (retry.done, retry.skipped, retry.failed) == ([broken], [first, third], [])
    assert work_done(app) == [(first, "2026-11-23"), (broken, "2026-11-23"), (third, "2026-11-23")]


def test_the_job_body_reads_and_writes_only_its_own_base(app, factory, registry):
    first, second = factory.base().id, factory.base().id
    zones_seen = {}

    def run(base, now):
        zones_seen[base.id] = [zone.base_id for zone in db.session.scalars(select(Zone))]
        db.session.add(CheckInPoint(name="夜间巡检点", secret="0" * 64))  # no base_id given

    register_job("test.nightly", run, period=daily, trigger=NIGHTLY)
    with app.app_context():
        assert run_job("test.nightly", NIGHT).done == [first, second]
    assert zones_seen == {first: [first] * 3, second: [second] * 3}  # each base has its three zones
    with app.app_context(), unscoped("the test checks which base each new row was stamped with"):
        stamped = sorted(point.base_id for point in db.session.scalars(select(CheckInPoint)))
    assert stamped == [first, second]


def test_two_schedulers_racing_claim_each_base_once(app, factory, registry):
    bases = [factory.base().id for _ in range(3)]
    at_the_claim = threading.Barrier(2, timeout=30)

    def period(base, now):
        at_the_claim.wait()  # both schedulers reach each base's claim at the same moment
        return daily(base, now)

    register_job("test.nightly", note_the_night, period=period, trigger=NIGHTLY)
    results = []

    def scheduler_process():
        with app.app_context():
            results.append(run_job("test.nightly", NIGHT))

    processes = [threading.Thread(target=scheduler_process) for _ in range(2)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
    assert len(results) == 2 and not any(result.failed for result in results)
    assert sorted(results[0].done + results[1].done) == bases
    assert sorted(results[0].skipped + results[1].skipped) == bases
    assert work_done(app) == [(base_id, "2026-11-23") for base_id in bases]
    assert claims(app) == [(base_id, "2026-11-23") for base_id in bases]


def test_jobs_list_and_run_from_the_command_line(app, factory, registry):
    base = factory.base().id
    register_job("test.nightly", note_the_night, period=daily, trigger=NIGHTLY)
    runner = app.test_cli_runner()

    listed = runner.invoke(args=["jobs", "list"])
    assert listed.exit_code == 0 and "test.nightly" in listed.output
    assert "cron[hour='1', minute='10'] (Asia/Shanghai)" in listed.output

    ran = runner.invoke(args=["jobs", "run", "test.nightly", "--now", "2026-11-23T02:00:00+08:00"])
    assert ran.exit_code == 0, ran.output
    assert f"test.nightly: done 1 [{base}]; skipped 0 []; failed 0 []" in ran.output
    assert work_done(app) == [(base, "2026-11-23")]

    unknown = runner.invoke(args=["jobs", "run", "no.such.job"])
    assert unknown.exit_code == 1 and "No job named 'no.such.job'; registered: test.nightly" in unknown.output
    naive = runner.invoke(args=["jobs", "run", "test.nightly", "--now", "2026-11-23T02:00:00"])
    assert naive.exit_code == 2 and "give the UTC offset too" in naive.output


def test_jobs_run_exits_non_zero_when_a_base_failed(app, factory, registry):
    base = factory.base().id

    def run(base, now):
        raise RuntimeError("template missing")

    register_job("test.nightly", run, period=daily, trigger=NIGHTLY)
    ran = app.test_cli_runner().invoke(args=["jobs", "run", "test.nightly"])
    assert ran.exit_code == 1 and f"failed 1 [{base}]" in ran.output


def test_register_job_refuses_a_taken_name_and_a_bad_trigger(registry):
    register_job("test.nightly", note_the_night, period=daily, trigger=NIGHTLY)
    register_job("test.nightly", note_the_night, period=daily, trigger=NIGHTLY)  # a module imported again
    with pytest.raises(ValueError, match="already registered"):
        register_job("test.nightly", print, period=daily, trigger=NIGHTLY)
    with pytest.raises(ValueError):
        register_job("test.later", note_the_night, period=daily, trigger={"hour": 25})
    assert list(registry) == ["test.nightly"]


def test_the_scheduler_has_one_cron_job_per_registered_job_first_fired_at_start(app, registry):
    register_job("test.nightly", note_the_night, period=daily, trigger=NIGHTLY)
    register_job("test.quarterly", note_the_night, period=daily, trigger={"month": "1,4,7,10", "day": 1, "hour": 2})
    before = datetime.now(SHANGHAI)
    built = init_scheduler(app)
    jobs = {job.id: job for job in built.get_jobs()}

    assert not built.running and set(jobs) == {"test.nightly", "test.quarterly"}
    nightly, quarterly = jobs["test.nightly"].trigger, jobs["test.quarterly"].trigger
    assert isinstance(nightly, CronTrigger) and str(nightly.timezone) == "Asia/Shanghai"
    assert str(nightly) == "cron[hour='1', minute='10']"
    assert str(quarterly) == "cron[month='1,4,7,10', day='1', hour='2']"
    noon = datetime(2026, 11, 23, 12, 0, tzinfo=SHANGHAI)
    assert nightly.get_next_fire_time(None, noon) == datetime(2026, 11, 24, 1, 10, tzinfo=SHANGHAI)
    assert quarterly.get_next_fire_time(None, noon) == datetime(2027, 1, 1, 2, 0, tzinfo=SHANGHAI)
    for job in jobs.values():
        assert job.coalesce and job.misfire_grace_time == scheduler.MISFIRE_GRACE_SECONDS
        assert before <= job.next_run_time <= datetime.now(SHANGHAI)  # the catch-up run, at start


def test_a_started_scheduler_catches_up_at_once_in_an_app_context(app, factory, registry):
    base = factory.base().id
    ran = threading.Event()

    def run(base, now):
        note_the_night(base, now)
        ran.set()

    register_job("test.nightly", run, period=daily, trigger=NIGHTLY)
    started = init_scheduler(app)
    today = datetime.now(SHANGHAI).date().isoformat()
    started.start()
    try:
        assert ran.wait(timeout=30)
    finally:
        started.shutdown()  # waits for the job to commit
    assert claims(app) == [(base, today)]


def test_in_development_the_first_request_starts_the_one_in_process_scheduler(app, registry):
    web = make_app(app.config["SQLALCHEMY_DATABASE_URI"], SCHEDULER_IN_PROCESS=True)
    assert web.test_cli_runner().invoke(args=["jobs", "list"]).exit_code == 0
    assert "scheduler" not in web.extensions  # building the app or running a command starts nothing

    client = web.test_client()
    client.get("/login")
    started = web.extensions["scheduler"]
    try:
        assert started.running
        client.get("/login")
        assert web.extensions["scheduler"] is started
    finally:
        started.shutdown()


def test_only_development_runs_the_scheduler_in_the_web_process_by_default(tmp_path, monkeypatch):
    monkeypatch.delenv("SCHEDULER_IN_PROCESS", raising=False)
    monkeypatch.setenv("SECRET_KEY", "x" * 64)
    monkeypatch.setenv("DATABASE_URL", "postgresql://app@db.internal/prod")
    assert load_config("development", tmp_path).SCHEDULER_IN_PROCESS is True
    assert load_config("production", tmp_path).SCHEDULER_IN_PROCESS is False
    monkeypatch.setenv("SCHEDULER_IN_PROCESS", "true")
    assert load_config("testing", tmp_path).SCHEDULER_IN_PROCESS is False
    monkeypatch.setenv("SCHEDULER_IN_PROCESS", "false")
    assert load_config("development", tmp_path).SCHEDULER_IN_PROCESS is False
