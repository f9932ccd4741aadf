"""Scheduled jobs: domain packages register them; each runs once per base and period, claimed in the database.

A job is a pair of functions (DESIGN.md "Scheduling"): ``period(base, now)`` names the unit of work due for
a base ("2026-11-23", "2026Q3") or None, and ``run(base, now)`` does it. ``run_job`` walks every base, claims
(job, base, period) with a unique ``JobRun`` row in the same transaction as the work, and commits both
together. A second scheduler, a restart or a catch-up run finds the claim and skips; a failure rolls the
claim back with the work, so the next run retries.

APScheduler only decides when ``run_job`` is called: ``flask scheduler`` in production, the web process in
development (``SCHEDULER_IN_PROCESS``).
"""
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import DateTime, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from .accounts.models import Base
from .db import BaseOwnedMixin, scoped_to, unscoped
from .extensions import db
from .timeutil import to_local, utcnow

log = logging.getLogger(__name__)

#: The clock the triggers are written in: the bases are in China (a base's own timezone is for ``period``).
TIMEZONE = ZoneInfo("Asia/Shanghai")
#: A firing delayed by up to this long (a busy or suspended process) still runs; later ones wait for the next.
MISFIRE_GRACE_SECONDS = 60 * 60

JOBS = {}  # name -> Job, filled at import time by the domain packages


@dataclass(frozen=True)
class Job:
    """A registered job: what it does for a base, which period is due, and when APScheduler fires it."""

    name: str
    run: Callable  # (base, now) -> None
    period: Callable  # (base, now) -> str | None
    trigger: dict  # APScheduler cron fields, in TIMEZONE


@dataclass
class JobResult:
    """What one ``run_job`` did: the ids of the bases whose work was done, skipped, or failed."""

    done: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    failed: list = field(default_factory=list)

    def __str__(self):
        return "; ".join(f"{label} {len(ids)} {ids}" for label, ids in
                         (("done", self.done), ("skipped", self.skipped), ("failed", self.failed)))


class JobRun(BaseOwnedMixin, db.Model):
    """The claim of one job's unit of work in one base; committed together with the work it stands for."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "base_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Empty only inside the claiming transaction: a committed claim has always finished.
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


def daily(base, now):
    """The period of a job done once per base-local day: that day ("2026-11-23")."""
    return to_local(now, base.timezone).date().isoformat()


def register_job(name: str, run: Callable[[Base, datetime], None], *,
                 period: Callable[[Base, datetime], str | None], trigger: dict):
    """Schedule ``run(base, now)`` for every base whose ``period(base, now)`` is not None, at cron ``trigger``.

    Raises ValueError for a name taken by another job, TypeError or ValueError for a bad trigger (at import
    time, not at the first firing).
    """
    known = JOBS.get(name)
    if known is not None and known.run is not run:
        raise ValueError(f"A job named {name!r} is already registered")
    cron_trigger(trigger)
    JOBS[name] = Job(name, run, period, dict(trigger))


def get_job(name):
    """The registered job called ``name``; raises LookupError when there is none."""
    try:
        return JOBS[name]
    except KeyError:
        raise LookupError(f"No job named {name!r}; registered: {', '.join(sorted(JOBS)) or 'none'}") from None


def cron_trigger(trigger):
    """The APScheduler trigger for cron fields ``trigger``, read in Asia/Shanghai."""
    return CronTrigger(**trigger, timezone=TIMEZONE)


def run_job(name: str, now: datetime | None = None) -> JobResult:
    """Run job ``name`` for every base now (``now``: an aware datetime, default the current time).

    Each base gets a fresh session and its own transaction, committed or rolled back before the next, so
    call it outside any unit of work. A base whose work raises is logged and counted as failed; the others
    go on. Raises LookupError for an unknown job and ValueError for a naive ``now``.
    """
    job = get_job(name)
    now = now or utcnow()
    if now.tzinfo is None:
        raise ValueError("run_job needs an aware datetime")
    now = now.astimezone(timezone.utc)
    result = JobResult()
    for base_id in _all_base_ids():
        try:
            outcome = _run_for_base(job, base_id, now)
        finally:
            db.session.remove()  # nothing loaded for one base is seen while working on the next
        getattr(result, outcome).append(base_id)
    return result


def _all_base_ids():
    """The ids of every base (a base cannot be deactivated yet; one without work gets None from ``period``)."""
    with unscoped("a scheduled job enumerates the bases it runs for"):
        base_ids = db.session.scalars(select(Base.id).order_by(Base.id)).all()
    db.session.remove()
    return base_ids


def _run_for_base(job, base_id, now):
    """Claim and do ``job``'s due period for one base; returns "done", "skipped" or "failed"."""
    with scoped_to(base_id):
        try:
            base = db.session.get(Base, base_id)
            period = job.period(base, now)
            if period is None:
                return "skipped"
            claim = _claim(job.name, period)
            if claim is None:
                return "skipped"
            job.run(base, now)
            claim.finished_at = utcnow()
            db.session.commit()
        except Exception:  # one base's failure must not stop the others; the next run retries it
            db.session.rollback()
            log.exception("Job %s failed for base %s", job.name, base_id)
            return "failed"
    return "done"


def _claim(job_name, period):
    """Insert this base's claim on (job, period); None when it is taken (done earlier, or by another scheduler).

    On PostgreSQL a concurrent claimer waits at the unique index until the first commits (then skips) or
    rolls back (then claims); on SQLite the write lock serialises them the same way.
    """
    claim = JobRun(job=job_name, period=period, started_at=utcnow())
    db.session.add(claim)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return None
    return claim


def init_scheduler(app, scheduler_class=BackgroundScheduler):
    """A scheduler (not started) with one cron job per registered job, each running ``run_job`` in ``app``.

    Every job's first firing is the moment the scheduler starts, so runs missed while no scheduler was up
    (a server down at quarter end) are caught up; the claims make that run a no-op when nothing was missed.
    """
    scheduler = scheduler_class(timezone=TIMEZONE)
    started = datetime.now(TIMEZONE)
    for job in JOBS.values():
        scheduler.add_job(_fire, cron_trigger(job.trigger), args=(app, job.name), id=job.name, name=job.name,
                          next_run_time=started, coalesce=True, misfire_grace_time=MISFIRE_GRACE_SECONDS)
    return scheduler


def _fire(app, name):
    """One firing: run the job for every base with the real clock, in an application context of its own."""
    with app.app_context():
        result = run_job(name)
    log.info("Job %s: %s", name, result)


def run_in_web_process(app):
    """Start a BackgroundScheduler in the process that serves ``app``, at its first request (development).

    Why the first request: every process that builds the app without serving it -- the Werkzeug reloader's
    watching parent, ``flask db upgrade``, ``flask demo load``, ``flask shell`` -- then never starts one, and
    the process that serves does, once (the lock covers concurrent first requests of the threaded dev
    server). A reload replaces the serving process, and the new one starts its own. The cost: missed runs
    are caught up at the first page view rather than at process start, which is fine in development.
    """
    lock = threading.Lock()

    def start_once():
        if "scheduler" in app.extensions:
            return
        with lock:
            if "scheduler" not in app.extensions:
                scheduler = init_scheduler(app)
                scheduler.start()
                app.extensions["scheduler"] = scheduler

    app.before_request(start_once)
