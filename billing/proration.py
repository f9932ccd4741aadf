"""Rent proration: what a lease charges for one calendar month. Pure computation on dates, fen and exact
fractions, no I/O.

Method (tenants/rent.py defines the lease months the same way):
- A lease's months are anchored on its start: lease month k runs from ``add_months(starts_on, k)`` to the day
  before ``add_months(starts_on, k + 1)`` (clamped at a month's end: a lease from 31 January has its second
  month from 28 February). The first ``free_months`` are free, the next ``discounted_months`` are at
  ``discounted_rent_fen``, the rest at ``actual_rent_fen``.
- A lease runs from ``starts_on`` to its effective end: ``ends_on``, or the day its company moved out if earlier.
- Rents are per m² (offices) or per seat (workstations) per month. A day of a calendar month of D days costs
  the day's rent × quantity ÷ D. The charge of a month is the sum over the days of the month the lease runs.
- One line per stretch of days at one rent; each line's exact amount is rounded half up to the fen once, and
  the bill's total is the sum of its rounded lines (what the tenant sees adds up).
"""
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from operator_app.timeutil import add_months, month_end, month_of

from .constants import LINE_DISCOUNTED, LINE_FREE, LINE_RENT

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Terms:
    """What proration needs of a lease, frozen at the moment of billing."""

    starts_on: date
    ends_on: date  # the effective end (moved out, or the lease's end)
    actual_rent_fen: int
    quantity: Decimal  # m² with two decimals, or seats
    per_seat: bool = False
    free_months: int = 0
    discounted_months: int = 0
    discounted_rent_fen: int = 0


def terms_of(lease):
    """The Terms of a Lease (tenants.models), its end shortened by its company's move-out."""
    from tenants import constants as tc

    return Terms(starts_on=lease.starts_on, ends_on=lease.effective_end, actual_rent_fen=lease.actual_rent_fen,
                 quantity=Decimal(lease.quantity or 0), per_seat=lease.space_type == tc.SPACE_WORKSTATION,
                 free_months=lease.free_months or 0, discounted_months=lease.discounted_months or 0,
                 discounted_rent_fen=lease.discounted_rent_fen or 0)


@dataclass(frozen=True)
class RentLine:
    """A stretch of days of one calendar month at one rent."""

    kind: str  # LINE_FREE, LINE_DISCOUNTED, LINE_RENT
    starts_on: date
    ends_on: date
    rate_fen: int  # per unit per month
    quantity: Decimal
    days: int
    month_days: int
    amount: Fraction  # exact fen

    @property
    def amount_fen(self):
        return round_half_up(self.amount)


def round_half_up(amount):
    """A non-negative Fraction of fen as whole fen, half up (162.5 → 163)."""
    amount = Fraction(amount)
    if amount < 0:
        raise ValueError("rent amounts are never negative")
    return (2 * amount.numerator + amount.denominator) // (2 * amount.denominator)


def phases(terms):
    """[(kind, first day, last day, rent per unit per month)] of the lease's whole term, empty phases left out."""
    free_until = add_months(terms.starts_on, terms.free_months)
    discounted_until = add_months(terms.starts_on, terms.free_months + terms.discounted_months)
    candidates = [(LINE_FREE, terms.starts_on, free_until - ONE_DAY, 0),
                  (LINE_DISCOUNTED, free_until, discounted_until - ONE_DAY, terms.discounted_rent_fen),
                  (LINE_RENT, discounted_until, terms.ends_on, terms.actual_rent_fen)]
    return [(kind, first, min(last, terms.ends_on), rate) for kind, first, last, rate in candidates
            if first <= min(last, terms.ends_on)]


def month_lines(terms, month_on):
    """The rent lines of the calendar month starting ``month_on`` (its first day); [] when the lease does not
    run in it."""
    first, last = month_on, month_end(month_on)
    month_days = last.day
    lines = []
    for kind, phase_first, phase_last, rate in phases(terms):
        start, end = max(first, phase_first), min(last, phase_last)
        if start > end:
            continue
        days = (end - start).days + 1
        amount = Fraction(rate) * Fraction(terms.quantity) * days / month_days
        lines.append(RentLine(kind, start, end, rate, terms.quantity, days, month_days, amount))
    return lines


def month_total_fen(terms, month_on):
    """The month's rent as billed: the sum of its lines each rounded to the fen."""
    return sum(line.amount_fen for line in month_lines(terms, month_on))


def months_running(terms, first_month, last_month):
    """The first days of the calendar months from ``first_month`` to ``last_month`` (both the 1st of a month)
    in which the lease runs at least one day."""
    month = max(first_month, month_of(terms.starts_on))
    last = min(last_month, month_of(terms.ends_on)) if terms.ends_on >= terms.starts_on else None
    months = []
    while last is not None and month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months
