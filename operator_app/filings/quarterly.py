"""The figures of a quarterly filing (季度报送), computed from the base's records.

DOMAIN.md "Filings and summaries": each quarter a base reports its tenant companies, their revenue, tax paid
and employees, its graduates and its services. Every figure keeps the records it was computed from, so the
filing page can link each number to them, and a month a company did not report is listed with how it was
treated: it is left out (never counted as zero) and named.

Filings read the domain packages; the domain packages never import the filings.
"""
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from ledger import services as ledger_services
from ledger.models import Activity, ServiceRequest, Visit
from operator_app.extensions import db
from tenants import constants as tc
from tenants import reports
from tenants.attendance_services import months_data
from tenants.followup_services import tracking_until
from tenants.models import MonthlyReport, TenantCompany
from tenants.rent_services import base_compliance
from tenants.rules import rules_of

GAP_LEFT_OUT = "left_out"  # how a missing month is treated: its figures are not in the totals, the gap is listed


def quarter_months(year, quarter):
    """The first days of the quarter's three months."""
    if quarter not in (1, 2, 3, 4):
        raise ValueError("quarter must be 1 to 4")
    return [date(year, 3 * (quarter - 1) + offset, 1) for offset in (1, 2, 3)]


def quarter_bounds(year, quarter):
    months = quarter_months(year, quarter)
    return months[0], reports.month_end(months[-1])


@dataclass(frozen=True)
class Gap:
    company: TenantCompany
    month_on: date
    treatment: str = GAP_LEFT_OUT


@dataclass
class ServiceCounts:
    requests: int = 0
    visits: int = 0
    activities: int = 0
    participants: int = 0


@dataclass
class QuarterFigures:
    """A base's quarter, with the records behind each figure."""

    year: int
    quarter: int
    housed: list                     # companies housed at the quarter's end
    moved_in: list                   # companies that moved in during the quarter
    exited: list                     # companies that left during the quarter (graduates included)
    revenue_fen: int
    tax_fen: int
    employees: int                   # headcount at the quarter's end, from its last month's reports
    reports: list                    # the submitted monthly reports the money figures add up
    gaps: list                       # Gap: a month an expected company did not report
    graduates: list                  # companies that graduated in the quarter
    followed: list                   # graduates still followed at the quarter's end
    services: dict = field(default_factory=dict)   # category -> ServiceCounts
    service_entries: list = field(default_factory=list)
    rent_status: str = "unknown"
    rent_discount: object = None     # the overall discount (a Fraction) or None
    attendance_below: list = field(default_factory=list)   # (month_on, company) under the threshold

    @property
    def service_totals(self):
        total = ServiceCounts()
        for counts in self.services.values():
            total.requests += counts.requests
            total.visits += counts.visits
            total.activities += counts.activities
            total.participants += counts.participants
        return total


def _companies():
    return db.session.scalars(select(TenantCompany).where(
        TenantCompany.deleted_at.is_(None),
        TenantCompany.status.not_in((tc.STATUS_APPLICANT, tc.STATUS_REJECTED)))
        .order_by(TenantCompany.name)).all()


def _within(day, start, end):
    return day is not None and start <= day <= end


def quarter_figures(base, year, quarter, today):
    """The figures of ``base``'s quarter as its records stand on ``today`` (the base's day)."""
    start, end = quarter_bounds(year, quarter)
    months = quarter_months(year, quarter)
    companies = _companies()
    # Only a company that really moved in counts: an admitted one keeps its planned date until it arrives.
    arrived = [c for c in companies if c.status in tc.ARRIVED_STATUSES and c.moved_in_on is not None]
    housed = [c for c in arrived if c.moved_in_on <= end and (c.moved_out_on is None or c.moved_out_on > end)]
    housed_ids = {c.id for c in housed}
    submitted = {(r.company_id, r.month_on): r for r in db.session.scalars(select(MonthlyReport).where(
        MonthlyReport.status == tc.REPORT_SUBMITTED, MonthlyReport.month_on >= start, MonthlyReport.month_on <= end))}
    used, gaps = [], []
    for month_on in months:
        if month_on > reports.shift(reports.month_of(today), -1):
            continue  # a month not over yet has nothing to report
        for company in companies:
            report = submitted.get((company.id, month_on))
            if reports.expected_of(company, month_on):
                if report is None:
                    gaps.append(Gap(company, month_on))
                else:
                    used.append(report)
            elif report is not None and reports.may_report(company, month_on):
                used.append(report)  # a part month (left mid-month) that was reported: counted, never dropped
    last = months[-1]
    figures = QuarterFigures(
        year=year, quarter=quarter, housed=housed,
        moved_in=[c for c in arrived if _within(c.moved_in_on, start, end)],
        exited=[c for c in companies if c.status in (tc.STATUS_EXITED, tc.STATUS_GRADUATED)
                and _within(c.moved_out_on, start, end)],
        revenue_fen=sum(r.revenue_fen or 0 for r in used), tax_fen=sum(r.tax_fen or 0 for r in used),
        employees=sum(r.employees or 0 for r in used if r.month_on == last and r.company_id in housed_ids),
        reports=used, gaps=gaps,
        graduates=[c for c in companies if c.status == tc.STATUS_GRADUATED and _within(c.moved_out_on, start, end)],
        followed=_followed(companies, base, end))
    _services(figures, start, end)
    compliance = base_compliance(base, min(end, today))
    figures.rent_status, figures.rent_discount = compliance.status, compliance.overall
    begun = [m for m in months if m <= reports.month_of(today)]
    if begun:
        attendance = months_data(base, [(m.year, m.month) for m in begun], min(end, today))
        figures.attendance_below = [(date(month.year, month.month, 1), row.company) for month in attendance
                                    for row in month.companies if row.status == "not_met"]
    return figures


def _followed(companies, base, end):
    rules = rules_of(base)
    # tracking_until is None for a company that is not a graduate.
    return [c for c in companies if c.moved_out_on is not None and c.moved_out_on <= end
            and (tracking_until(c, rules) or date.min) >= end]


def _services(figures, start, end):
    counts = {}
    for model, attribute in ((ServiceRequest, "requests"), (Visit, "visits"), (Activity, "activities")):
        entries = db.session.scalars(select(model).where(model.deleted_at.is_(None), model.occurred_on >= start,
                                                         model.occurred_on <= end)).all()
        figures.service_entries.extend(entries)
        tally = Counter(entry.category for entry in entries)
        for category, n in tally.items():
            setattr(counts.setdefault(category, ServiceCounts()), attribute, n)
        if model is Activity:
            people = ledger_services.people_taking_part(entries)
            for entry in entries:
                counts[entry.category].participants += people[entry.id]
    figures.services = counts
