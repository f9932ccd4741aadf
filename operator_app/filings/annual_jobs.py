"""The annual summary's scheduled work: in January each base gets the draft of its summary of the year before
(001 §四: due by 15 January), made once, as soon as December's monthly reports are due (before that, December
would read as missing); February and March catch up a server that was down in January."""
from datetime import date

from operator_app.scheduler import register_job
from operator_app.timeutil import to_local
from tenants import reports
from tenants.rules import rules_of

from . import annual

ANNUAL_JOB = "filings.annual_summary"


def annual_period(base, now):
    """The year to summarise ("2026") in the first months of the next, once December's reports are due, for a
    base that existed before 1 January (in its own time zone); None otherwise."""
    today = to_local(now, base.timezone).date()
    if today.month not in annual.JOB_MONTHS or not annual.existed_before(base, date(today.year, 1, 1)):
        return None
    if today <= reports.due_on(date(today.year - 1, 12, 1), rules_of(base).report_due_day):
        return None  # December's reports are not due yet
    return str(today.year - 1)


def draft_annual_summary(base, now):
    """Draft the summary of the year before (nothing when the manager already made it)."""
    today = to_local(now, base.timezone).date()
    annual.ensure_summary(base, today.year - 1, today=today, now=now)


register_job(ANNUAL_JOB, draft_annual_summary, period=annual_period, trigger={"hour": 1, "minute": 10})
