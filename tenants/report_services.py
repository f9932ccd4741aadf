"""Monthly report services: drafts, submissions and corrections with their history, the month's filing status
of every company, the settings, and the reminder job. Each function flushes and audits; the caller commits."""
import logging
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from flask import current_app, url_for
from flask_babel import force_locale, gettext as _
from sqlalchemy import func, or_, select

from operator_app import audit
from operator_app.accounts.models import Membership
from operator_app.extensions import db
from operator_app.mail import mail_enabled, send_mail
from operator_app.scheduler import register_job
from operator_app.sqlfunctions import month_end
from operator_app.timeutil import to_local, utcnow

from . import constants as c
from . import reports
from .models import MonthlyReport, ReportReminder, ReportRevision, TenantCompany
from .rules import rules_of

log = logging.getLogger(__name__)
SETTINGS_FIELDS = ("report_due_day", "report_optional_fields", "report_change_factor")


class CorrectionNeedsReason(ValueError):
    """A submitted report was changed without saying why."""


def report_for(company, month_on):
    return db.session.scalar(select(MonthlyReport).where(MonthlyReport.company_id == company.id,
                                                         MonthlyReport.month_on == month_on))


def figures_of(report):
    return {name: getattr(report, name) for name in reports.FIGURES} if report is not None else None


def previous_figures(company, month_on):
    previous = report_for(company, reports.shift(month_on, -1))
    return figures_of(previous) if previous is not None and previous.is_submitted else None


def save_report(company, month_on, figures, *, base, submit, reason, today, by, on_behalf):
    """Save the company's report on ``month_on``: a draft, a first submission, or a correction (a submitted
    report changed: a new revision with ``reason``). Returns the report.

    Raises CorrectionNeedsReason for a correction without a reason. The unique (company, month) index makes
    a racing second first-save fail with IntegrityError at the flush; the caller answers it.
    """
    report = report_for(company, month_on)
    correcting = report is not None and report.is_submitted
    if correcting and not (reason or "").strip():
        raise CorrectionNeedsReason()
    if report is None:
        report = MonthlyReport(company_id=company.id, month_on=month_on)
        db.session.add(report)
    before = figures_of(report) if report.id else None
    # The required figures always; an optional one only when the form had it (a figure the base stopped
    # asking for keeps the value it was given).
    for name in reports.FIGURES:
        if name in reports.REQUIRED_FIGURES or name in figures:
            setattr(report, name, figures.get(name))
    figures = figures_of(report)
    if submit or correcting:
        report.warnings = reports.plausibility(figures, previous_figures(company, month_on),
                                               rules_of(base).report_change_factor)
        report.status = c.REPORT_SUBMITTED
        report.revision = (report.revision or 0) + 1
        report.submitted_at = utcnow()
        if report.first_submitted_on is None:
            report.first_submitted_on = today
            report.due_on = reports.due_on(month_on, rules_of(base).report_due_day)
        report.submitted_by_id, report.on_behalf = by.id, on_behalf
        db.session.flush()
        db.session.add(ReportRevision(report_id=report.id, revision=report.revision, figures=_plain(figures),
                                      reason=(reason or "").strip(), on_behalf=on_behalf, submitted_by_id=by.id,
                                      submitted_at=report.submitted_at))
    db.session.flush()
    action = "report.correct" if correcting else ("report.submit" if submit else "report.draft")
    audit.record(action, report, before=before, after={**_plain(figures), "month": reports.key(month_on),
                                                      "on_behalf": on_behalf, "reason": reason or ""}, user=by)
    return report


def _plain(figures):
    return {name: figures.get(name) for name in reports.FIGURES if figures.get(name) is not None}


def history(company, months=12, until=None):
    """The company's submitted reports, oldest first, over the last ``months`` months up to ``until``."""
    start = reports.shift(until, -(months - 1))
    return db.session.scalars(select(MonthlyReport).where(
        MonthlyReport.company_id == company.id, MonthlyReport.month_on >= start, MonthlyReport.month_on <= until)
        .order_by(MonthlyReport.month_on)).all()


@dataclass(frozen=True)
class Filing:
    company: TenantCompany
    report: MonthlyReport | None
    status: str

    @property
    def label(self):
        return c.FILING_LABELS[self.status]


def month_filings(base, month_on, today):
    """Every company expected to report on ``month_on``, with its report and where it stands on ``today``."""
    due_day = rules_of(base).report_due_day
    companies = [company for company in db.session.scalars(select(TenantCompany).where(
        TenantCompany.deleted_at.is_(None), TenantCompany.moved_in_on.is_not(None))
        .order_by(TenantCompany.name)) if reports.expected_of(company, month_on)]
    found = {report.company_id: report for report in db.session.scalars(
        select(MonthlyReport).where(MonthlyReport.month_on == month_on))}
    return [Filing(company, found.get(company.id),
                   reports.filing_status(found.get(company.id), month_on, today, due_day)) for company in companies]


@dataclass(frozen=True)
class MonthTotal:
    revenue_fen: int
    tax_fen: int
    employees: int
    filed: int     # reports submitted by the companies expected to report
    expected: int

    @property
    def complete(self):
        return self.expected > 0 and self.filed >= self.expected


def month_totals(months):
    """{month_on: MonthTotal} over the companies expected to report each month (a company that left mid-month
    and filed anyway, or one removed from the files, counts in neither the figures nor the completeness).

    The database sums the figures month by month under the rule of ``reports.expected_of``; the companies
    expected are counted from each company's run of months, found once (no ``expected_of`` per company and
    month: a base of 300 companies over 24 months made 7,200 calls).
    """
    months = sorted(months)
    companies = db.session.execute(select(TenantCompany.id, TenantCompany.status, TenantCompany.moved_in_on,
                                          TenantCompany.moved_out_on)
                                   .where(TenantCompany.deleted_at.is_(None), TenantCompany.moved_in_on.is_not(None),
                                          TenantCompany.status.in_(c.ARRIVED_STATUSES))).all()
    starts, stops = [0] * (len(months) + 1), [0] * (len(months) + 1)
    for company in companies:
        run = _expected_run(company, months)
        if run is not None:
            starts[run[0]] += 1
            stops[run[1] + 1] += 1
    # The figures summed by the database, month by month, over the reports of companies housed at the month's
    # end: 24 rows, where fetching two years of a base's reports took most of the dashboard's time.
    end = month_end(MonthlyReport.month_on)
    figures = {month_on: (revenue_fen or 0, tax_fen or 0, employees or 0, filed) for
               month_on, revenue_fen, tax_fen, employees, filed in db.session.execute(
                   select(MonthlyReport.month_on, func.sum(MonthlyReport.revenue_fen), func.sum(MonthlyReport.tax_fen),
                          func.sum(MonthlyReport.employees), func.count(MonthlyReport.id))
                   .join(TenantCompany, TenantCompany.id == MonthlyReport.company_id)
                   .where(MonthlyReport.status == c.REPORT_SUBMITTED, MonthlyReport.month_on.in_(months),
                          TenantCompany.deleted_at.is_(None), TenantCompany.status.in_(c.ARRIVED_STATUSES),
                          TenantCompany.moved_in_on <= end,
                          or_(TenantCompany.moved_out_on.is_(None), TenantCompany.moved_out_on >= end))
                   .group_by(MonthlyReport.month_on))}
    totals, expected = {}, 0
    for index, month_on in enumerate(months):
        expected += starts[index] - stops[index]
        revenue_fen, tax_fen, employees, filed = figures.get(month_on, (0, 0, 0, 0))
        totals[month_on] = MonthTotal(revenue_fen, tax_fen, employees, filed, expected)
    return totals


def _expected_run(company, months):
    """(first, last) positions in the sorted ``months`` on which ``company`` is expected to report, or None."""
    first = bisect_left(months, reports.month_of(company.moved_in_on))  # housed at the end of its move-in month
    last = len(months) - 1
    if company.moved_out_on is not None:
        # expected while it is still housed at the month's end: up to the month before it left, or the month it
        # left when it left on the month's last day
        left = reports.month_of(company.moved_out_on)
        if company.moved_out_on < reports.month_end(left):
            left = reports.shift(left, -1)
        last = bisect_right(months, left) - 1
    return (first, last) if first <= last else None


def unfiled_month(company, today):
    """The month the company still owes a report on (the month before ``today``), or None when filed or not
    expected."""
    month_on = reports.current_month_due(today)
    if not reports.expected_of(company, month_on):
        return None
    report = report_for(company, month_on)
    return None if report is not None and report.is_submitted else month_on


def save_settings(base, values, *, by):
    return audit.update(rules_of(base), values, SETTINGS_FIELDS, action="report.settings", user=by)


def reminders_of(company, limit=6):
    """The company's latest reminders about months it has still not filed."""
    filed = select(MonthlyReport.month_on).where(MonthlyReport.company_id == company.id,
                                                 MonthlyReport.status == c.REPORT_SUBMITTED)
    return db.session.scalars(select(ReportReminder).where(ReportReminder.company_id == company.id,
                                                           ReportReminder.month_on.not_in(filed))
                              .order_by(ReportReminder.created_at.desc()).limit(limit)).all()


# --- The reminder job ---------------------------------------------------------------------------------------

REMINDER_JOB = "tenants.report_reminders"


def _reminder_kind(today, due_day):
    """The latest reminder of the month due by ``today``: from the 1st, the 5th and the due day on. A day the
    scheduler missed is caught up the next day (the period names the reminder, not the day)."""
    if today.day >= due_day:
        return c.REMINDER_DUE
    if today.day >= c.REMINDER_MIDWAY_DAY:
        return c.REMINDER_MIDWAY
    return c.REMINDER_OPENING


def _reminder_period(base, now):
    today = to_local(now, base.timezone).date()
    return f"{reports.key(today)}:{_reminder_kind(today, rules_of(base).report_due_day)}"


def send_reminders(base, now):
    """Remind every company that has not filed last month's report: an in-app reminder, and mail to its
    contacts when mail is configured. Idempotent per company, month and kind (a unique row)."""
    today = to_local(now, base.timezone).date()
    kind = _reminder_kind(today, rules_of(base).report_due_day)
    month_on = reports.current_month_due(today)
    due = reports.due_on(month_on, rules_of(base).report_due_day)
    sent, mails = 0, []
    for filing in month_filings(base, month_on, today):
        if filing.status in (c.FILING_FILED, c.FILING_LATE_FILED):
            continue
        exists = db.session.scalar(select(ReportReminder.id).where(
            ReportReminder.company_id == filing.company.id, ReportReminder.month_on == month_on,
            ReportReminder.kind == kind))
        if exists:
            continue
        reminder = ReportReminder(company_id=filing.company.id, month_on=month_on, kind=kind)
        db.session.add(reminder)
        mails.append((reminder, filing.company))
        sent += 1
    db.session.flush()
    for reminder, company in mails:  # one failing address or server never costs the in-app reminders
        reminder.emailed_to = _mail_contacts(base, company, month_on, due)
    return sent


def _mail_contacts(base, company, month_on, due):
    if not mail_enabled():
        return 0
    emails = [membership.user.email for membership in db.session.scalars(select(Membership).where(
        Membership.base_id == base.id, Membership.tenant_company_id == company.id,
        Membership.is_active.is_(True)))]
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        subject = _("Please file %(month)s's operating data for %(name)s", month=reports.key(month_on),
                    name=" ".join(company.name.split()))  # a header holds one line
        body = _("%(base)s asks every tenant company for its monthly revenue, tax paid and headcount. "
                 "The report on %(month)s is due on %(due)s. File it here: %(link)s",
                 base=base.name, month=reports.key(month_on), due=due.isoformat(), link=_portal_link(base))
    delivered = 0
    for email in emails:
        try:
            send_mail(email, subject, body)
            delivered += 1
        except Exception:  # noqa: BLE001  (SMTP, socket and header errors alike: logged, the rest go on)
            log.exception("Report reminder to %s for company %s could not be mailed", email, company.id)
    return delivered


def _portal_link(base):
    """The portal's address for a mail: from PUBLIC_URL when set (a job has no request to take it from)."""
    path = f"/b/{base.slug}/tenants/portal"
    public = current_app.config.get("PUBLIC_URL")
    if public:
        return public + path
    try:
        return url_for("tenants.portal", base_slug=base.slug, _external=True)
    except RuntimeError:  # no request and no SERVER_NAME: the path still tells the way
        return path


register_job(REMINDER_JOB, send_reminders, period=_reminder_period, trigger={"hour": 8, "minute": 30})
