"""Workstation attendance: the weekly average of days on site, over China's working days.

Method (shown on the attendance page):
- Only working days up to today count (today once the person is on site), and for each person only the days
  they were registered; a day on site that is not a working day is not counted either way.
- Weekly average = days on site ÷ working days × 5: the days a person was on site, per five working days.
  A week with a holiday has fewer working days, so it asks proportionally fewer days on site (a three-day
  week with three days on site averages 5).
- A company's average is over all its registered people: Σ days on site ÷ Σ working days × 5.
- 001 "8个有" §8: 每周平均要有4天以上在基地内办公 — met when the average is at least the base's threshold (4).
"""
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_FLOOR, Decimal
from fractions import Fraction

from operator_app.timeutil import month_end, parse_month as timeutil_parse_month
from operator_app.workcalendar import working_days


def month_bounds(year, month):
    first = date(year, month, 1)
    return first, month_end(first)


def parse_month(text, today):
    """The (year, month) of "YYYY-MM", or today's month for anything else."""
    month_on = timeutil_parse_month(text) or today
    return month_on.year, month_on.month


@dataclass
class PersonMonth:
    person: object
    present: set  # dates on site
    working: list  # the working days this person counts (registered, up to today)

    @property
    def days_on_site(self):
        return len(self.present)

    @property
    def average(self):
        return Fraction(len(self.present) * 5, len(self.working)) if self.working else None


@dataclass
class CompanyMonth:
    company: object
    people: list
    threshold: int

    @property
    def average(self):
        working = sum(len(person.working) for person in self.people)
        present = sum(len(person.present) for person in self.people)
        return Fraction(present * 5, working) if working else None

    @property
    def status(self):
        average = self.average
        if average is None:
            return "unknown"
        return "met" if average >= self.threshold else "not_met"


@dataclass
class Month:
    year: int
    month: int
    days: list  # every date of the month
    working: list  # its working days
    fallback_years: list
    companies: list = field(default_factory=list)


def compute_month(year, month, today, companies, people, present_days, threshold):
    """The month's attendance. ``people``: {company id: [WorkstationPerson]}; ``present_days``:
    {person id: set of dates on site}. Future days never count."""
    first, last = month_bounds(year, month)
    calendar_days = [first + timedelta(days=n) for n in range(last.day)]
    counted_until = min(last, today)
    known = working_days(first, last)
    result = Month(year, month, calendar_days, known.days, known.fallback_years)
    for company in companies:
        rows = []
        for person in people.get(company.id, []):
            start = max(first, person.active_from)
            end = min(counted_until, person.deactivated_on - timedelta(days=1)) if person.deactivated_on \
                else counted_until
            on_site = present_days.get(person.id, set())
            # Today counts once the person is on site; until then the day is still open, not an absence.
            person_working = [day for day in known.days if start <= day <= end and (day < today or day in on_site)]
            counted = set(person_working)
            present = {day for day in on_site if day in counted}
            rows.append(PersonMonth(person, present, person_working))
        result.companies.append(CompanyMonth(company, rows, threshold))
    return result


def days_figure(fraction):
    """An average as days with one decimal, rounded down (a figure shown never overstates presence)."""
    if fraction is None:
        return None
    value = Decimal(fraction.numerator) / Decimal(fraction.denominator)
    return value.quantize(Decimal("0.1"), rounding=ROUND_FLOOR)
