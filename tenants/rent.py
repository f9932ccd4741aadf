"""The rent discount check (有优惠政策): market reference, each lease's effective rent and discount, the base's
overall discount against the threshold. Pure computation on exact numbers (fen and fractions), no I/O.

Method (shown on the compliance page):
- A lease's effective rent is what it charges per m² (or per seat) per month averaged over its whole term:
  free months count as zero, discounted months at their rent, the other months at the actual rent.
- The market reference of a space type is the mean of its market quotes that are not older than the
  base's maximum quote age.
- A lease's discount is 1 − effective rent ÷ market reference. A lease runs from its start to its end, or
  to the day its company left, whichever is earlier.
- The overall discount is 1 − Σ(effective rent × size) ÷ Σ(market reference × size) over the leases active
  today that can be checked, the size being m² for offices and seats for workstations: every lease
  weighs by its area (or seats) at market price.
- 001 "8个有" §6: 总体优惠幅度低于当地市场询价20%即可 — met when the overall discount is at least the threshold.
"""
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from fractions import Fraction

from operator_app.timeutil import add_months

from . import constants as c


def lease_months(starts_on, ends_on):
    """Months a lease runs, a started month counting whole (1 Jan – 31 Dec is 12; 1 Jan – 31 Jan is 1)."""
    months = (ends_on.year - starts_on.year) * 12 + (ends_on.month - starts_on.month)
    if ends_on.day >= starts_on.day:
        months += 1
    return max(months, 1)


def effective_rent(lease):
    """The lease's rent per unit per month averaged over its term, as an exact Fraction of fen."""
    total = lease_months(lease.starts_on, lease.ends_on)
    free = min(lease.free_months or 0, total)
    discounted = min(lease.discounted_months or 0, total - free)
    full = total - free - discounted
    paid = discounted * (lease.discounted_rent_fen or 0) + full * lease.actual_rent_fen
    return Fraction(paid, total)


def zero_rent_months(lease):
    """Months of the term charged nothing: free months, discounted months at zero, or all of a rent of zero."""
    total = lease_months(lease.starts_on, lease.ends_on)
    free = min(lease.free_months or 0, total)
    discounted = min(lease.discounted_months or 0, total - free)
    zero = free
    if discounted and not lease.discounted_rent_fen:
        zero += discounted
    if not lease.actual_rent_fen:
        zero += total - free - discounted
    return zero


def quote_counts(quote, today, max_age_months):
    """A quote counts while it is not older than ``max_age_months``."""
    return quote.quoted_on >= add_months(today, -max_age_months)


@dataclass
class Reference:
    space_type: str
    price: Fraction | None  # fen per unit per month; None without a valid quote
    quotes: list = field(default_factory=list)  # the quotes that count


def market_references(quotes, today, max_age_months):
    """The market reference of each space type from the quotes that still count."""
    references = {}
    for space_type in c.SPACE_TYPES:
        valid = [quote for quote in quotes if quote.space_type == space_type
                 and quote_counts(quote, today, max_age_months)]
        price = Fraction(sum(quote.price_fen for quote in valid), len(valid)) if valid else None
        references[space_type] = Reference(space_type, price, valid)
    return references


@dataclass
class LeaseCheck:
    lease: object
    effective: Fraction
    reference: Fraction | None
    discount: Fraction | None  # None: no market quote to compare with ("cannot be checked")
    active: bool
    long_free_rent: bool


@dataclass
class Compliance:
    rows: list
    references: dict
    overall: Fraction | None
    threshold: Fraction
    expired_quotes: list

    @property
    def status(self):
        if self.overall is None:
            return "unknown"
        return "met" if self.overall >= self.threshold else "not_met"

    @property
    def unchecked(self):
        """Leases running today that cannot be checked (no market quote for their space type counts)."""
        return [row for row in self.rows if row.active and row.discount is None]

    @property
    def long_free_rent(self):
        """Leases running today with more months at zero rent than the base's warning allows."""
        return [row for row in self.rows if row.active and row.long_free_rent]


def check_lease(lease, references, today, free_rent_warning_months):
    reference = references[lease.space_type].price
    effective = effective_rent(lease)
    discount = None if not reference else 1 - effective / reference
    return LeaseCheck(lease, effective, reference, discount,
                      active=lease.starts_on <= today <= lease.effective_end,
                      long_free_rent=zero_rent_months(lease) > free_rent_warning_months)


def compliance(leases, quotes, *, today, threshold_percent, max_age_months, free_rent_warning_months):
    """The whole check: each lease, the overall discount of the leases active today, the status."""
    references = market_references(quotes, today, max_age_months)
    rows = [check_lease(lease, references, today, free_rent_warning_months) for lease in leases]
    market = paid = Fraction(0)
    for row in rows:
        if row.active and row.discount is not None:
            size = Fraction(row.lease.quantity)
            market += row.reference * size
            paid += row.effective * size
    overall = 1 - paid / market if market else None
    expired = [quote for quote in quotes if not quote_counts(quote, today, max_age_months)]
    return Compliance(rows, references, overall, Fraction(threshold_percent, 100), expired)


def percent(fraction):
    """A fraction as a percentage with two decimals, rounded down: a discount shown as 20.00% is at least
    20%, so the figure never contradicts the status beside it."""
    if fraction is None:
        return None
    value = Decimal(fraction.numerator) * 100 / Decimal(fraction.denominator)
    return value.quantize(Decimal("0.01"), rounding=ROUND_FLOOR)


def yuan(fen):
    """Fen (an int or a Fraction) as yuan with two decimals, half up."""
    if fen is None:
        return None
    fen = Fraction(fen)
    value = Decimal(fen.numerator) / Decimal(fen.denominator) / 100
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
