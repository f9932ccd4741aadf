"""Monthly operating data, the arithmetic: months, due dates, where a company stands, plausibility.

Pure functions of dates and figures (no database), so the due-day and late logic across a year boundary is
tested directly. A month is written as its first day (``month_on``).
"""
from decimal import ROUND_HALF_UP, Decimal

# The month arithmetic, under the names this module's callers use.
from operator_app.timeutil import add_months as shift, month_end, month_key as key, month_of  # noqa: F401
from operator_app.timeutil import parse_month  # noqa: F401

from . import constants as c

REQUIRED_FIGURES = ("revenue_fen", "tax_fen", "employees")
OPTIONAL_FIGURES = tuple(c.REPORT_OPTIONAL_FIELDS)
FIGURES = REQUIRED_FIGURES + OPTIONAL_FIGURES


def due_on(month_on, due_day):
    """The day the report on ``month_on`` is due: ``due_day`` of the following month (its last day at most)."""
    following = shift(month_on, 1)
    return following.replace(day=min(due_day, month_end(following).day))


def current_month_due(today):
    """The month whose report is being collected on ``today``: the month before."""
    return shift(month_of(today), -1)


def is_over(month_on, today):
    """Whether ``month_on`` has ended by ``today`` (a month is reported once it is over)."""
    return month_on < month_of(today)


def filing_status(report, month_on, today, due_day):
    """Where a company stands on ``today`` with its report on ``month_on`` (constants.FILING_*)."""
    due = due_on(month_on, due_day)
    if report is not None and report.status == c.REPORT_SUBMITTED:
        first, due = report.first_submitted_on, report.due_on or due  # the due date it was filed against
        return c.FILING_LATE_FILED if first is not None and first > due else c.FILING_FILED
    if today > due:
        return c.FILING_LATE
    return c.FILING_DRAFT if report is not None else c.FILING_MISSING


def expected_of(company, month_on):
    """Whether ``company`` must report on ``month_on``: it was housed at the month's end."""
    end = month_end(month_on)
    if company.status not in c.ARRIVED_STATUSES:
        return False
    if company.moved_in_on is None or company.moved_in_on > end:
        return False
    return company.moved_out_on is None or company.moved_out_on >= end


def may_report(company, month_on):
    """Whether a report on ``month_on`` can be filed for ``company``: it was in the base for part of the month."""
    if company.status in (c.STATUS_APPLICANT, c.STATUS_REJECTED):
        return False
    if company.moved_in_on is not None and company.moved_in_on > month_end(month_on):
        return False
    return company.moved_out_on is None or company.moved_out_on >= month_on


def wan(fen):
    """An amount in fen as 万元 with two decimals, rounded half up: the unit of government figures. None stays
    None."""
    if fen is None:
        return None
    return (Decimal(fen) / Decimal(1_000_000)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def plausibility(figures, previous, factor):
    """Warnings (codes) about figures that deserve a second look; they never block a report.

    ``previous`` holds last month's figures or is None. Codes: revenue_jump, employees_jump (changed more
    than ``factor`` times either way), tax_above_revenue, revenue_without_staff.
    """
    warnings = []
    revenue, tax, employees = (figures.get(name) for name in REQUIRED_FIGURES)
    if previous:
        for name, code in (("revenue_fen", "revenue_jump"), ("employees", "employees_jump")):
            now, before = figures.get(name), previous.get(name)
            if now and before and (now > before * factor or now * factor < before):
                warnings.append(code)
    if revenue is not None and tax is not None and tax > revenue:
        warnings.append("tax_above_revenue")
    if revenue and employees == 0:
        warnings.append("revenue_without_staff")
    return warnings
