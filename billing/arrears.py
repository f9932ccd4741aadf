"""The arrears list (欠费账龄): each company with bills past due, what it owes by age from the due date.

The age of an open bill is the number of days from its due date to ``today`` (the base's day). A bill due today
is not yet overdue (age 0); the buckets are: not yet due (age ≤ 0), 1–30, 31–60, 61–90 and over 90 days.
"""
from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l

from .settlement import open_bill_rows

CURRENT, DAYS_30, DAYS_60, DAYS_90, OVER_90 = "current", "1_30", "31_60", "61_90", "over_90"
BUCKETS = {
    CURRENT: _l("Not yet due"),
    DAYS_30: _l("1–30 days"),
    DAYS_60: _l("31–60 days"),
    DAYS_90: _l("61–90 days"),
    OVER_90: _l("Over 90 days"),
}


def bucket(age_days):
    """The bucket of an open bill ``age_days`` past its due date."""
    if age_days <= 0:
        return CURRENT
    if age_days <= 30:
        return DAYS_30
    if age_days <= 60:
        return DAYS_60
    if age_days <= 90:
        return DAYS_90
    return OVER_90


def _empty():
    return {key: 0 for key in BUCKETS}


@dataclass
class CompanyArrears:
    company_id: int
    name: str
    buckets: dict = field(default_factory=_empty)  # bucket -> fen
    oldest_due_on: date | None = None  # of its bills past due
    bills: int = 0  # open bills

    @property
    def total_fen(self):
        return sum(self.buckets.values())

    @property
    def overdue_fen(self):
        return self.total_fen - self.buckets[CURRENT]


@dataclass
class Arrears:
    rows: list  # CompanyArrears, largest total first
    totals: dict  # bucket -> fen, over the rows

    @property
    def total_fen(self):
        return sum(self.totals.values())

    @property
    def overdue_fen(self):
        return self.total_fen - self.totals[CURRENT]


def arrears(today):
    """Every company of the base with an open bill past due on ``today``, with all it owes by age, in one query."""
    companies = {}
    for row in open_bill_rows():
        entry = companies.setdefault(row.company_id, CompanyArrears(row.company_id, row.name))
        age = (today - row.due_on).days
        entry.buckets[bucket(age)] += row.owed_fen
        entry.bills += 1
        if age > 0 and (entry.oldest_due_on is None or row.due_on < entry.oldest_due_on):
            entry.oldest_due_on = row.due_on
    rows = [entry for entry in companies.values() if entry.oldest_due_on is not None]
    rows.sort(key=lambda entry: (-entry.total_fen, entry.oldest_due_on, entry.name, entry.company_id))
    totals = _empty()
    for entry in rows:
        for key, amount in entry.buckets.items():
            totals[key] += amount
    return Arrears(rows, totals)
