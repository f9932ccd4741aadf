"""Graduate follow-up services: scheduling a graduate's follow-ups, answering and correcting them, the daily
job's work, and the lists the pages read (overdue follow-ups, the graduates by year of graduation).

Each service flushes and audits; the request (or the job) commits once.
"""
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from operator_app import audit
from operator_app.accounts.models import Base
from operator_app.extensions import db
from operator_app.timeutil import to_local, today_in, utcnow

from . import constants as c
from .followups import (ANSWER_EARLY_DAYS, OPERATING_STATUSES, GraduateFollowUp, closing_date, due_dates,
                        tracking_end)
from .models import Milestone, TenantCompany
from .rules import rules_of

ANSWER_FIELDS = ("operating_status", "revenue_fen", "tax_fen", "employees", "milestones", "notes")


class FollowUpError(ValueError):
    """A follow-up that cannot be answered now; ``message`` is for the user."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


# --- Scheduling ----------------------------------------------------------------------------------------------

def tracking_until(company, rules):
    """The last day ``company`` is followed under the base's rules; None unless it is a graduate."""
    if company.status != c.STATUS_GRADUATED or company.moved_out_on is None:
        return None
    return tracking_end(company.moved_out_on, rules.followup_years)


def counts_for_base(company, day, rules):
    """Whether a result of ``company`` dated ``day`` (a milestone) is the base's incubation result: it came while
    the company was in the base or, for a graduate, while it is followed (001 "8个有" §4: 跟踪掌握其离开后三年内的
    发展情况，作为孵化的成果进行统计). An applicant's, or a company's before it moved in, is not."""
    if company.status not in c.ARRIVED_STATUSES:
        return False
    if company.moved_in_on is None or day < company.moved_in_on:
        return False
    if company.moved_out_on is None or day <= company.moved_out_on:
        return True
    until = tracking_until(company, rules)
    return until is not None and day <= until


def schedule_followups(company, rules, *, today):
    """Create the graduate's follow-ups that are missing; returns the rows created (none when called again).

    The dates come from the base's rules (``followup_interval_months``, ``followup_years``). A schedule once made
    is kept: later calls only extend it beyond its last date (when the base lengthened the tracking), never
    weave other dates in between. Once the tracking has ended (``today`` after its last day) nothing new is
    scheduled. No two callers race for one company: the exit schedules in the transaction that makes the
    graduate (the job cannot see it before), and the job's runs are claimed one at a time; the unique
    constraint on (company, due date) is the backstop.
    """
    until = tracking_until(company, rules)
    if until is None or company.deleted_at is not None:
        return []
    _drop_beyond(company, until)
    _reclose(company, rules, until)
    if today > until:
        return []
    existing = db.session.execute(select(GraduateFollowUp.due_on, GraduateFollowUp.sequence)
                                  .where(GraduateFollowUp.company_id == company.id)).all()
    last_due = max((row.due_on for row in existing), default=None)
    sequence = max((row.sequence for row in existing), default=0)
    planned = [day for day in due_dates(company.moved_out_on, rules.followup_interval_months, rules.followup_years)
               if last_due is None or day > last_due]
    if not planned:
        return []
    created = []
    for day in planned:
        sequence += 1
        created.append(GraduateFollowUp(company_id=company.id, due_on=day, sequence=sequence,
                                        closes_on=closing_date(company.moved_out_on, day,
                                                               rules.followup_interval_months, until)))
    db.session.add_all(created)
    db.session.flush()
    audit.record("followup.schedule", company, after={"due_on": [day.isoformat() for day in planned]})
    return created


def _drop_beyond(company, until):
    """The base shortened the tracking: unanswered follow-ups due after its new end are withdrawn (audited); the
    last one kept closes LAST_ANSWER_DAYS after the end. Answered ones are kept whatever their date."""
    beyond = db.session.scalars(select(GraduateFollowUp).where(
        GraduateFollowUp.company_id == company.id, GraduateFollowUp.answered_at.is_(None),
        GraduateFollowUp.due_on > until)).all()
    for followup in beyond:
        db.session.delete(followup)
    if beyond:
        audit.record("followup.unschedule", company, before={"due_on": [f.due_on.isoformat() for f in beyond]})
        db.session.flush()


def _reclose(company, rules, until):
    """Closing dates follow the rules in force: the one that became last closes after the end of tracking, the
    one that is last no more closes when the next falls due."""
    for followup in db.session.scalars(select(GraduateFollowUp).where(GraduateFollowUp.company_id == company.id)):
        closes_on = closing_date(company.moved_out_on, followup.due_on, rules.followup_interval_months, until)
        if followup.closes_on != closes_on:
            followup.closes_on = closes_on
    db.session.flush()


def end_for_returning(company):
    """``company`` (just admitted or housed) carries the code of earlier graduates of the base: their unanswered
    follow-ups close today (kept, audited), so a company back in the base is not chased as an overdue graduate."""
    if not company.uscc:
        return
    base = db.session.get(Base, company.base_id)
    today = today_in(base.timezone)
    for graduate in db.session.scalars(select(TenantCompany).where(
            TenantCompany.uscc == company.uscc, TenantCompany.id != company.id,
            TenantCompany.status == c.STATUS_GRADUATED)):
        closed = []
        for followup in db.session.scalars(select(GraduateFollowUp).where(
                GraduateFollowUp.company_id == graduate.id, GraduateFollowUp.answered_at.is_(None),
                GraduateFollowUp.closes_on > today)):
            followup.closes_on = today
            closed.append(followup.due_on.isoformat())
        if closed:
            db.session.flush()
            audit.record("followup.returned", graduate, after={"returned_as": company.id, "closed": closed})


def schedule_for(company, *, today=None):
    """Schedule the follow-ups of ``company`` if it is a graduate (idempotent; see ``schedule_followups``).

    ``today`` is the base's day (default: today in the base's time zone).
    """
    if company.status != c.STATUS_GRADUATED:
        return []
    base = db.session.get(Base, company.base_id)
    return schedule_followups(company, rules_of(base), today=today or today_in(base.timezone))


# --- Answering ---------------------------------------------------------------------------------------------------

def answer_problem(followup, today, *, late=False):
    """Why ``followup`` cannot be answered on ``today``, or None. A missed one (closed when the next fell due)
    is answered ``late`` only by staff filling in the base's records."""
    if followup.is_answered:
        return _l("This follow-up has been answered already. To change the answer, ask the base's staff.")
    if followup.opens_on() > today:
        return _l("This follow-up is due on %(due)s and can be answered from %(opens)s.",
                  due=followup.due_on.isoformat(), opens=followup.opens_on().isoformat())
    if followup.is_missed(today) and not late:
        return _l("This follow-up closed on %(date)s, when the next one fell due. Answer the current one.",
                  date=followup.closes_on.isoformat())
    return None


def answer(followup, values, *, today, by, by_phone, now=None):
    """Record the graduate's answer (given by its contact, or by phone to a staff member when ``by_phone``;
    staff may still record a missed one).

    Raises FollowUpError when it is answered already, not open yet, or (for the contact) closed. A concurrent
    second answer fails at the flush with StaleDataError (the row's version), which the caller reports the
    same way.
    """
    problem = answer_problem(followup, today, late=by_phone)
    if problem is not None:
        raise FollowUpError(problem)
    _check_values(values)
    for name in ANSWER_FIELDS:
        setattr(followup, name, values.get(name))
    followup.milestones, followup.notes = followup.milestones or "", followup.notes or ""
    followup.answered_at = now or utcnow()
    followup.answered_by_id = by.id
    followup.by_phone = by_phone
    db.session.flush()
    audit.record("followup.answer", followup,
                 after=audit.snapshot(followup, ("company_id", "due_on", "by_phone") + ANSWER_FIELDS), user=by)
    return followup


def correct(followup, values, *, by):
    """Staff correct an answered follow-up; the change is audited with its before and after.

    Raises FollowUpError for one not answered yet (it is answered, not corrected).
    """
    if not followup.is_answered:
        raise FollowUpError(_l("This follow-up has no answer yet to correct."))
    _check_values(values)
    values = {**values, "milestones": values.get("milestones") or "", "notes": values.get("notes") or ""}
    return audit.update(followup, values, ANSWER_FIELDS, action="followup.correct", user=by)


def _check_values(values):
    """The form checks these; a service called otherwise refuses the same."""
    if values.get("operating_status") not in OPERATING_STATUSES:
        raise FollowUpError(_l("Choose how the company is doing."))
    for name in ("revenue_fen", "tax_fen", "employees"):
        if values.get(name) is not None and values[name] < 0:
            raise FollowUpError(_l("Figures cannot be negative."))


# --- Reading -------------------------------------------------------------------------------------------------

def followups_of(company):
    """The company's follow-ups in order of their due dates."""
    return db.session.scalars(select(GraduateFollowUp).where(GraduateFollowUp.company_id == company.id)
                              .order_by(GraduateFollowUp.due_on)).all()


def overdue_followups(today):
    """Unanswered follow-ups due before ``today`` and not closed yet, oldest first — decided from the dates, so
    the list is right before the day's job has run."""
    return db.session.scalars(
        _open_statement().where(GraduateFollowUp.due_on < today, GraduateFollowUp.closes_on > today)
        .order_by(GraduateFollowUp.due_on, TenantCompany.name)).all()


def due_soon(today, days=ANSWER_EARLY_DAYS):
    """Unanswered follow-ups due from ``today`` to ``days`` later (those a graduate can answer now)."""
    return db.session.scalars(
        _open_statement().where(GraduateFollowUp.due_on >= today,
                                GraduateFollowUp.due_on <= today + timedelta(days=days))
        .order_by(GraduateFollowUp.due_on, TenantCompany.name)).all()


def open_followups(company_id, today):
    """The company's follow-ups its contact can answer on ``today``, oldest first."""
    return db.session.scalars(
        select(GraduateFollowUp).where(GraduateFollowUp.company_id == company_id,
                                       GraduateFollowUp.answered_at.is_(None),
                                       GraduateFollowUp.due_on <= today + timedelta(days=ANSWER_EARLY_DAYS),
                                       GraduateFollowUp.closes_on > today)
        .order_by(GraduateFollowUp.due_on)).all()


def _open_statement():
    """Unanswered follow-ups of companies still in the files."""
    # The company comes with its follow-up from the join: the lists show its name (one query per row before).
    return (select(GraduateFollowUp).join(TenantCompany, TenantCompany.id == GraduateFollowUp.company_id)
            .options(contains_eager(GraduateFollowUp.company))
            .where(TenantCompany.deleted_at.is_(None), GraduateFollowUp.answered_at.is_(None)))


@dataclass
class GraduateRow:
    """One graduate on the graduates page."""

    company: TenantCompany
    graduated_on: date
    tracking_until: date
    tracking_ended: bool
    latest: GraduateFollowUp | None  # the latest answered follow-up: its figures are the latest known
    next_due: GraduateFollowUp | None  # the earliest unanswered one not closed (overdue or coming)
    overdue: int
    missed: int
    milestones: list = field(default_factory=list)  # the latest Milestone rows of its file
    answered_milestones: str = ""  # what the latest answer that named any said happened


@dataclass
class Cohort:
    year: int
    rows: list


MILESTONES_SHOWN = 3


def graduates(today, rules):
    """Every graduate in the files, grouped by year of graduation (latest year first), with its latest answered
    figures, latest milestones, next follow-up and whether its tracking has ended on ``today``."""
    companies = db.session.scalars(
        select(TenantCompany).where(TenantCompany.status == c.STATUS_GRADUATED, TenantCompany.deleted_at.is_(None),
                                    TenantCompany.moved_out_on.is_not(None))
        .order_by(TenantCompany.moved_out_on.desc(), TenantCompany.name)).all()
    ids = [company.id for company in companies]
    by_company = {company_id: [] for company_id in ids}
    milestones = {company_id: [] for company_id in ids}
    if ids:
        for followup in db.session.scalars(select(GraduateFollowUp).where(GraduateFollowUp.company_id.in_(ids))
                                           .order_by(GraduateFollowUp.due_on)):
            by_company[followup.company_id].append(followup)
        for milestone in db.session.scalars(
                select(Milestone).where(Milestone.company_id.in_(ids), Milestone.deleted_at.is_(None))
                .order_by(Milestone.occurred_on.desc(), Milestone.id.desc())):
            milestones[milestone.company_id].append(milestone)
    cohorts = {}
    for company in companies:
        followups = by_company[company.id]
        answered = [followup for followup in followups if followup.is_answered]
        unanswered = [followup for followup in followups if not followup.is_answered
                      and not followup.is_missed(today)]
        until = tracking_end(company.moved_out_on, rules.followup_years)
        named = [followup.milestones for followup in reversed(answered) if followup.milestones.strip()]
        row = GraduateRow(company=company, graduated_on=company.moved_out_on, tracking_until=until,
                          tracking_ended=today > until, latest=answered[-1] if answered else None,
                          next_due=unanswered[0] if unanswered else None,
                          overdue=sum(1 for followup in unanswered if followup.is_overdue(today)),
                          missed=sum(1 for followup in followups if followup.is_missed(today)),
                          milestones=milestones[company.id][:MILESTONES_SHOWN],
                          answered_milestones=named[0] if named else "")
        cohorts.setdefault(company.moved_out_on.year, []).append(row)
    return [Cohort(year, rows) for year, rows in cohorts.items()]


# --- The daily job ---------------------------------------------------------------------------------------------

def graduate_companies():
    return db.session.scalars(select(TenantCompany).where(
        TenantCompany.status == c.STATUS_GRADUATED, TenantCompany.deleted_at.is_(None),
        TenantCompany.moved_out_on.is_not(None)).order_by(TenantCompany.id)).all()


def daily_work(base, now):
    """The daily job's work for one base on its day at ``now``: schedule the graduates that have no follow-ups
    (imported graduates, or ones recorded before follow-ups existed), then mark and audit the follow-ups that
    became overdue. Returns (companies scheduled, follow-ups newly marked overdue)."""
    today = to_local(now, base.timezone).date()
    rules = rules_of(base)
    # Every graduate still followed: one with no schedule yet gets it, one whose tracking the base lengthened or
    # shortened gets its schedule extended or trimmed.
    scheduled = [company for company in graduate_companies() if schedule_followups(company, rules, today=today)]
    return scheduled, mark_overdue(today, now)


def mark_overdue(today, now):
    """Stamp ``overdue_at`` on the follow-ups overdue on ``today`` that are not stamped yet, each recorded in the
    audit log once; returns them. (One already closed when first seen — an imported graduate's — is missed,
    not newly overdue.)"""
    newly = db.session.scalars(_open_statement().where(GraduateFollowUp.due_on < today,
                                                       GraduateFollowUp.closes_on > today,
                                                       GraduateFollowUp.overdue_at.is_(None))
                               .order_by(GraduateFollowUp.due_on)).all()
    for followup in newly:
        followup.overdue_at = now
        audit.record("followup.overdue", followup,
                     after={"company_id": followup.company_id, "due_on": followup.due_on.isoformat()})
    db.session.flush()
    return newly
