"""The only code that changes filings: generate (or regenerate) a quarter's filing, freeze it when it is
submitted, make a new version with a reason, and keep the settings.

Lifecycle of a quarter (DOMAIN.md "Filings and summaries"): the day after the quarter ends the scheduled job
creates version 1 as a draft and regenerates it every day from the records as they stand; the manager marks it
submitted (sent by the endpoint, or uploaded by hand), which freezes its figures and files; a regeneration
after that is a manager's deliberate act with a reason and makes version 2 as a draft, and so on. Every
version stays downloadable.
"""
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import defer, with_expression
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..db import unscoped
from ..extensions import db
from ..memo import once
from ..storage import discard, store_bytes
from ..timeutil import to_local, utcnow
from ..workcalendar import add_working_days
from . import snapshot
from .models import (FILING_DRAFT, FILING_SUBMITTED, SUBMITTED_BY_ENDPOINT, SUBMITTED_BY_HAND, FilingSettings,
                     QuarterlyFiling)
from .quarterly import quarter_bounds, quarter_figures

#: How far back the job looks for a quarter without a filing (a server down at a boundary, a new base).
CATCH_UP_QUARTERS = 4
DEFAULT_DEADLINE_DAYS = 10  # 002: 季度结束后10日内 (a setting; the provincial authority allows 15 working days)
SETTINGS_FIELDS = ("deadline_days", "deadline_in_working_days", "endpoint_url", "endpoint_token")


class FilingError(ValueError):
    """A change a filing does not allow (it is frozen, or not the latest version); ``message`` is shown."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


# --- Quarters and deadlines ------------------------------------------------------------------------------------

def quarter_of(day):
    return day.year, (day.month - 1) // 3 + 1


def previous_quarter(year, quarter):
    return (year, quarter - 1) if quarter > 1 else (year - 1, 4)


def last_quarters(today, count):
    """The ``count`` quarters that ended last before ``today``, newest first."""
    quarters = [previous_quarter(*quarter_of(today))]
    while len(quarters) < count:
        quarters.append(previous_quarter(*quarters[-1]))
    return quarters


def ended_quarters(base, today, count=CATCH_UP_QUARTERS):
    """The last ``count`` quarters that ended before ``today`` and after the base was created, oldest first."""
    created = to_local(base.created_at, base.timezone).date() if base.created_at else date.min
    return [quarter for quarter in last_quarters(today, count) if quarter_bounds(*quarter)[1] >= created][::-1]


def default_settings():
    """The settings of a base that never changed them (unsaved): 10 days after the quarter (002), no endpoint."""
    return FilingSettings(deadline_days=DEFAULT_DEADLINE_DAYS, deadline_in_working_days=False, endpoint_url="",
                          endpoint_token="")


def settings_of(base):
    """The base's filing settings (the defaults, unsaved, until the manager changes them)."""
    return db.session.scalar(select(FilingSettings)) or default_settings()


def deadline(year, quarter, settings):
    """The day the quarter's filing is due: N calendar days after the quarter ends, or N working days (Chinese
    calendar, holidays and 调休 included) when the setting says so."""
    end = quarter_bounds(year, quarter)[1]
    if settings.deadline_in_working_days:
        return add_working_days(end, settings.deadline_days)
    return end + timedelta(days=settings.deadline_days)


def save_settings(base, values, *, by):
    """Save the filing settings; an empty token in ``values`` keeps the stored one (the form never shows it)."""
    settings = db.session.scalar(select(FilingSettings))
    if settings is None:
        settings = default_settings()
        db.session.add(settings)
        db.session.flush()
    changed = audit.update(settings, values, SETTINGS_FIELDS[:-1], action="filings.settings", user=by)
    if changed & {"deadline_days", "deadline_in_working_days"}:
        for draft in db.session.scalars(select(QuarterlyFiling).where(QuarterlyFiling.status == FILING_DRAFT,
                                                                       QuarterlyFiling.version == 1)):
            draft.deadline_on = deadline(draft.year, draft.quarter, settings)  # a new rule moves the countdown
    token = values.get("endpoint_token")
    if token and token != settings.endpoint_token:  # empty keeps the stored one; a secret is logged as changed only
        settings.endpoint_token = token
        audit.record("filings.settings", settings, before={"endpoint_token": "***"},
                     after={"endpoint_token": "***"}, user=by)
        db.session.flush()
        changed.add("endpoint_token")
    return changed


# --- Reading -----------------------------------------------------------------------------------------------

def versions(year, quarter):
    """Every version of the quarter's filing, newest first."""
    return db.session.scalars(select(QuarterlyFiling).where(
        QuarterlyFiling.year == year, QuarterlyFiling.quarter == quarter)
        .order_by(QuarterlyFiling.version.desc())).all()


def latest(year, quarter):
    """The quarter's latest version, its snapshot loaded only when read."""
    return db.session.scalar(select(QuarterlyFiling).options(defer(QuarterlyFiling.figures)).where(
        QuarterlyFiling.year == year, QuarterlyFiling.quarter == quarter)
        .order_by(QuarterlyFiling.version.desc()).limit(1))


def latest_filings():
    """The latest version of each quarter the base has a filing for, newest quarter first, with its headline
    figures (``indicators``) instead of its whole snapshot."""
    newest = (select(QuarterlyFiling.year, QuarterlyFiling.quarter,
                     func.max(QuarterlyFiling.version).label("version"))
              .group_by(QuarterlyFiling.year, QuarterlyFiling.quarter).subquery())
    return db.session.scalars(select(QuarterlyFiling).options(
        defer(QuarterlyFiling.figures),
        with_expression(QuarterlyFiling.indicators, QuarterlyFiling.figures["indicators"]))
                              .join(newest, (QuarterlyFiling.year == newest.c.year)
                                                           & (QuarterlyFiling.quarter == newest.c.quarter)
                                                           & (QuarterlyFiling.version == newest.c.version))
                              .order_by(QuarterlyFiling.year.desc(), QuarterlyFiling.quarter.desc())).all()


@dataclass(frozen=True)
class Due:
    """The filing the dashboard counts down to."""

    year: int
    quarter: int
    deadline_on: date
    days_left: int
    filing: QuarterlyFiling | None

    @property
    def overdue(self):
        return self.days_left < 0


def submitted_quarters():
    """(year, quarter) of each quarter with a submitted version: a correction being drafted does not undo that."""
    return {(year, quarter) for year, quarter in db.session.execute(
        select(QuarterlyFiling.year, QuarterlyFiling.quarter).where(QuarterlyFiling.status == FILING_SUBMITTED))}


def next_due(base, today):
    """The oldest of the recent ended quarters whose filing is not submitted yet, with its deadline; or None."""
    settings, submitted = once(settings_of, base), once(submitted_quarters)  # the readiness items read them too
    for year, quarter in ended_quarters(base, today, count=2):
        if (year, quarter) not in submitted:
            filing = latest(year, quarter)
            due_on = filing.deadline_on if filing else deadline(year, quarter, settings)
            return Due(year, quarter, due_on, (due_on - today).days, filing)
    return None


# --- Generating --------------------------------------------------------------------------------------------

def _write_files(filing):
    """Write the filing's three files from its snapshot (each to a temporary name, then moved into place), in
    the product's language whoever clicked "regenerate"."""
    from flask import current_app
    from flask_babel import force_locale

    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        _write_files_now(filing)


def _write_files_now(filing):
    from . import exports

    stem = f"{filing.figures['base']['slug']}-{filing.year}Q{filing.quarter}-v{filing.version}"
    previous = [old for old in (filing.xlsx_file, filing.csv_file, filing.json_file) if old is not None]
    filing.xlsx_file = store_bytes(exports.filing_xlsx(filing), "xlsx", f"{stem}.xlsx")
    filing.csv_file = store_bytes(exports.filing_csv(filing), "csv", f"{stem}.csv")
    filing.json_file = store_bytes(exports.filing_json(filing), "json", f"{stem}.json")
    db.session.flush()  # the filing points at the new files before the old ones go
    for old in previous:
        discard(old)  # a draft's previous files: only the current figures' files are kept


def _fill(filing, base, today, now, by):
    figures = quarter_figures(base, filing.year, filing.quarter, today)
    filing.figures = snapshot.build(base, figures, today)
    filing.generated_at = now
    filing.generated_by_id = by.id if by is not None else None
    _write_files(filing)


def generate(base, year, quarter, *, today, now=None, by=None):
    """Create the quarter's first version, or regenerate its latest version while that is a draft.

    Returns the filing, or None when the latest version is submitted (frozen: a new version needs a reason,
    see ``new_version``). The first version is claimed by the unique (base, year, quarter, version): when a
    concurrent run made it first, this returns None and writes nothing.
    """
    now = now or utcnow()
    filing = latest(year, quarter)
    if filing is not None and filing.status != FILING_DRAFT:
        return None
    if filing is None:
        filing = QuarterlyFiling(year=year, quarter=quarter, version=1, status=FILING_DRAFT, reason="",
                                 deadline_on=deadline(year, quarter, settings_of(base)))
        try:
            with db.session.begin_nested():
                db.session.add(filing)
        except IntegrityError:
            return None
    _fill(filing, base, today, now, by)
    db.session.flush()
    return filing


def new_version(base, filing, reason, *, today, now=None, by):
    """Regenerate a submitted quarter as its next version, a draft, because of ``reason``.

    Raises FilingError when ``filing`` is not the latest version or is still a draft (regenerate that one)."""
    reason = (reason or "").strip()
    if not reason:
        raise FilingError(_reason_needed())
    current = latest(filing.year, filing.quarter)
    if current.id != filing.id or filing.status != FILING_SUBMITTED:
        raise FilingError(_not_latest())
    following = QuarterlyFiling(year=filing.year, quarter=filing.quarter, version=filing.version + 1,
                                status=FILING_DRAFT, reason=reason, deadline_on=filing.deadline_on)
    try:
        with db.session.begin_nested():
            db.session.add(following)
    except IntegrityError:
        raise FilingError(_not_latest()) from None
    _fill(following, base, today, now or utcnow(), by)
    audit.record("filings.new_version", following, after={"period": following.period,
                                                          "version": following.version, "reason": reason}, user=by)
    db.session.flush()
    return following


def regenerate(base, filing, *, today, now=None, by):
    """A manager's "regenerate now" of a draft. Raises FilingError for a frozen or superseded version."""
    if filing.status != FILING_DRAFT or latest(filing.year, filing.quarter).id != filing.id:
        raise FilingError(_not_latest())
    _fill(filing, base, today, now or utcnow(), by)
    db.session.flush()
    return filing


def check_submittable(filing, *, lock=False):
    """Raise FilingError unless ``filing`` is the latest version and a draft. With ``lock`` the row is locked
    for the transaction first (PostgreSQL), so two submits at once cannot both send it."""
    if lock:
        db.session.execute(select(QuarterlyFiling.id).where(QuarterlyFiling.id == filing.id).with_for_update())
        db.session.refresh(filing)
    if filing.status == FILING_SUBMITTED and latest(filing.year, filing.quarter).id == filing.id:
        raise FilingError(_already_submitted())
    if filing.status != FILING_DRAFT or latest(filing.year, filing.quarter).id != filing.id:
        raise FilingError(_not_latest())


def mark_submitted(filing, *, via, note="", now=None, by):
    """Freeze ``filing`` as submitted (``via`` the endpoint or by hand). Raises FilingError unless it is the
    latest version and a draft."""
    check_submittable(filing)
    if via not in (SUBMITTED_BY_ENDPOINT, SUBMITTED_BY_HAND):
        raise ValueError(via)
    filing.status, filing.submitted_via = FILING_SUBMITTED, via
    filing.submitted_at, filing.submitted_by_id = now or utcnow(), by.id if by else None
    filing.submission_note = (note or "").strip()
    audit.record("filings.submitted", filing, after={"period": filing.period, "version": filing.version,
                                                     "via": via}, user=by)
    db.session.flush()
    return filing


def _reason_needed():
    from flask_babel import lazy_gettext as _l

    return _l("Say why the filing is made again.")


def _already_submitted():
    from flask_babel import lazy_gettext as _l

    return _l("This version is already submitted.")


def _not_latest():
    from flask_babel import lazy_gettext as _l

    return _l("This version can no longer be changed: open the latest version of the quarter.")


# --- The scheduled job -------------------------------------------------------------------------------------

def daily_filings(base, now):
    """The job's work for one base: a filing for each recent ended quarter that has none (catching up a quarter
    missed while the server was down), and today's regeneration of each draft."""
    today = to_local(now, base.timezone).date()
    for year, quarter in ended_quarters(base, today):
        generate(base, year, quarter, today=today, now=now)


# --- The operator's view across its bases -----------------------------------------------------------------

@dataclass
class BaseFilings:
    """One row of the operator owner's table: a base's recent quarters and last year's summary."""

    base: object
    quarters: dict  # (year, quarter) -> (filing or None, deadline)
    summary: object  # the AnnualSummary of last year, or None


def operator_overview(bases, today, count=CATCH_UP_QUARTERS):
    """The filings of ``bases`` (one operator's) for the last ``count`` ended quarters, in three queries.

    Reads across bases, so it runs unscoped with an explicit filter on the given bases' ids; the caller has
    checked that the user owns them.
    """
    from .models import AnnualSummary

    quarters = last_quarters(today, count)
    ids = [base.id for base in bases]
    first = quarters[-1][0] * 10 + quarters[-1][1]
    with unscoped("the operator owner's table reads the filings of the operator's own bases"):
        filings = db.session.scalars(select(QuarterlyFiling).options(defer(QuarterlyFiling.figures)).where(
            QuarterlyFiling.base_id.in_(ids), QuarterlyFiling.year * 10 + QuarterlyFiling.quarter >= first)
            .order_by(QuarterlyFiling.version)).all()
        settings = {row.base_id: row for row in db.session.scalars(
            select(FilingSettings).where(FilingSettings.base_id.in_(ids)))}
        summaries = {row.base_id: row for row in db.session.scalars(select(AnnualSummary).where(
            AnnualSummary.base_id.in_(ids), AnnualSummary.year == today.year - 1))}
    latest_of = {(f.base_id, f.year, f.quarter): f for f in filings}  # ordered by version: the last one wins
    default = default_settings()
    rows = []
    for base in bases:
        rule = settings.get(base.id, default)
        cells, owed = {}, set(ended_quarters(base, today, count))
        for year, quarter in quarters:
            filing = latest_of.get((base.id, year, quarter))
            if filing is None and (year, quarter) not in owed:
                cells[(year, quarter)] = None  # the base did not exist yet: nothing was owed
                continue
            cells[(year, quarter)] = (filing, filing.deadline_on if filing else deadline(year, quarter, rule))
        rows.append(BaseFilings(base, cells, summaries.get(base.id)))
    return quarters, rows
