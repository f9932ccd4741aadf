"""China's working days: public holidays and adjusted working days (调休) from the ``chinese_calendar`` package,
and, for a year the package does not know yet, the days a platform admin entered. Without either, a year
falls back to Monday–Friday and says so; nothing here ever raises for an unknown year.

Used by the attendance average (a week with a holiday requires proportionally fewer days) and by deadlines
counted in working days.
"""
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import chinese_calendar
from sqlalchemy import JSON, DateTime, ForeignKey, Integer, select
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import db
from .timeutil import utcnow

SOURCE_PACKAGE, SOURCE_ADMIN, SOURCE_FALLBACK = "package", "admin", "fallback"


class CalendarYear(db.Model):
    """A year's holidays and adjusted working days entered by a platform admin (national, not per base)."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    holidays: Mapped[list] = mapped_column(JSON, default=list)  # ISO dates off work
    workdays: Mapped[list] = mapped_column(JSON, default=list)  # ISO weekend dates worked (调休)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


@lru_cache(maxsize=None)
def package_covers(year):
    """True when the installed ``chinese_calendar`` knows ``year`` (the State Council has announced it)."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except (NotImplementedError, ValueError, OverflowError, TypeError):
        return False
    return True


@dataclass(frozen=True)
class YearRule:
    source: str
    holidays: frozenset = frozenset()
    workdays: frozenset = frozenset()

    def is_workday(self, day):
        if self.source == SOURCE_PACKAGE:
            return chinese_calendar.is_workday(day)
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays


def year_rule(year):
    """How working days of ``year`` are known: the package, an admin's entry, or the Monday–Friday fallback."""
    if package_covers(year):
        return YearRule(SOURCE_PACKAGE)
    entered = db.session.get(CalendarYear, year)
    if entered is not None:
        return YearRule(SOURCE_ADMIN, frozenset(map(date.fromisoformat, entered.holidays)),
                        frozenset(map(date.fromisoformat, entered.workdays)))
    return YearRule(SOURCE_FALLBACK)


@dataclass
class WorkingDays:
    days: list  # the working dates, in order
    fallback_years: list  # years counted Monday–Friday because nobody knows their holidays yet


def working_days(start, end):
    """The working days from ``start`` to ``end`` (both included) and the years that fell back."""
    rules, days = {}, []
    day = start
    while day <= end:
        rule = rules.get(day.year) or rules.setdefault(day.year, year_rule(day.year))
        if rule.is_workday(day):
            days.append(day)
        day += timedelta(days=1)
    return WorkingDays(days, sorted(year for year, rule in rules.items() if rule.source == SOURCE_FALLBACK))


def add_working_days(start, count):
    """The date ``count`` working days after ``start`` (the start day itself not counted)."""
    day, left = start, count
    while left > 0:
        day += timedelta(days=1)
        if year_rule(day.year).is_workday(day):
            left -= 1
    return day


def entered_years():
    return db.session.scalars(select(CalendarYear).order_by(CalendarYear.year.desc())).all()


def save_year(year, holidays, workdays, *, by):
    """Enter (or correct) a year the package does not cover. Raises ValueError for a year it covers."""
    from . import audit

    if package_covers(year):
        raise ValueError(year)
    row = db.session.get(CalendarYear, year)
    before = {"holidays": row.holidays, "workdays": row.workdays} if row else None
    if row is None:
        row = CalendarYear(year=year)
        db.session.add(row)
    row.holidays = sorted(day.isoformat() for day in holidays)
    row.workdays = sorted(day.isoformat() for day in workdays)
    row.entered_by_id = by.id
    db.session.flush()
    audit.record("calendar.save", row, before=before, after={"holidays": row.holidays, "workdays": row.workdays},
                 user=by, base_id=None)
    return row
