"""Graduate follow-ups (毕业企业跟踪): the model of one scheduled follow-up of a graduate, its vocabulary, and the
rule of when follow-ups fall due.

001 "8个有" §4: 对孵化成功离开基地的企业，跟踪掌握其离开后三年内的发展情况 — a graduate is followed for the base's
``followup_years`` (default 3) after it left, every ``followup_interval_months`` (default 6), both base settings
on BaseRules. Its results count as the base's incubation results.
"""
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, Boolean, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from operator_app import audit
from operator_app.db import BaseOwnedMixin
from operator_app.extensions import db
from operator_app.timeutil import utcnow

from .models import TenantCompany
from operator_app.timeutil import add_months

# How the graduate is doing, as it (or the staff member who phoned it) says.
OPERATING = "operating"
GROWING = "growing"
MOVED = "moved"
CLOSED = "closed"
OPERATING_STATUSES = {
    OPERATING: _l("Operating normally"),
    GROWING: _l("Growing fast"),
    MOVED: _l("Moved away from the area"),
    CLOSED: _l("Closed or deregistered"),
}
#: A company that closed has no figures to give; every other answer carries revenue, tax and employees.
STATUSES_WITHOUT_FIGURES = (CLOSED,)

#: A follow-up may be answered from this many days before it is due (the figures of the half-year are known by
#: then); earlier, the answer would describe the previous period, so it waits.
ANSWER_EARLY_DAYS = 30


def due_dates(moved_out_on, interval_months, years):
    """The follow-up dates of a graduate that left on ``moved_out_on``: every ``interval_months`` after leaving,
    up to and including ``years`` years after (6, 12, … 36 months for the defaults). Each date is counted from
    the day it left, clamped to the month's end (31 August + 6 months is 28 or 29 February)."""
    if moved_out_on is None or interval_months < 1 or years < 1:
        return []
    last = 12 * years
    return [add_months(moved_out_on, months) for months in range(interval_months, last + 1, interval_months)]


#: The last follow-up, due the day tracking ends, can still be answered this long after it.
LAST_ANSWER_DAYS = 60


def closing_date(moved_out_on, due_on, interval_months, until):
    """The day a follow-up due on ``due_on`` closes: when the next one falls due, and for the last one (due on
    ``until``, the end of tracking) LAST_ANSWER_DAYS after it. Counted from the day the graduate left."""
    months = (due_on.year - moved_out_on.year) * 12 + due_on.month - moved_out_on.month
    return min(add_months(moved_out_on, months + interval_months), until + timedelta(days=LAST_ANSWER_DAYS))


def tracking_end(moved_out_on, years):
    """The last day a graduate that left on ``moved_out_on`` is followed."""
    return add_months(moved_out_on, 12 * years) if moved_out_on else None


class GraduateFollowUp(BaseOwnedMixin, db.Model):
    """One follow-up of a graduate: when it is due and, once answered, how the company is doing.

    Money is in fen; the figures are those of the twelve months before the answer. A follow-up opens
    ANSWER_EARLY_DAYS before ``due_on``, is overdue after it, and closes unanswered ("missed") on ``closes_on``,
    when the next one falls due and asks for newer figures. ``overdue_at`` is the daily job's marker (the
    audit of the day it became overdue); lists decide overdue from the dates.
    """

    __tablename__ = "graduate_followups"
    __table_args__ = (UniqueConstraint("company_id", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("tenant_companies.id"))
    sequence: Mapped[int] = mapped_column(Integer)  # 1, 2, … in order of the due dates
    due_on: Mapped[date] = mapped_column(Date)
    closes_on: Mapped[date] = mapped_column(Date)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    by_phone: Mapped[bool] = mapped_column(Boolean, default=False)  # staff recorded it from a phone call
    operating_status: Mapped[str | None] = mapped_column(String(20))
    revenue_fen: Mapped[int | None] = mapped_column(BigInteger)
    tax_fen: Mapped[int | None] = mapped_column(BigInteger)
    employees: Mapped[int | None] = mapped_column(Integer)
    milestones: Mapped[str] = mapped_column(Text, default="")  # financing, patents, 高新, … since the last one
    notes: Mapped[str] = mapped_column(Text, default="")
    overdue_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, server_default="1")

    company: Mapped[TenantCompany] = relationship()
    answered_by = relationship("User")

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_answered(self):
        return self.answered_at is not None

    @property
    def status_label(self):
        return OPERATING_STATUSES.get(self.operating_status, self.operating_status or "")

    def is_overdue(self, today):
        """Due before ``today`` (the base's day), still unanswered, and not closed yet."""
        return self.answered_at is None and self.due_on < today < self.closes_on

    def is_missed(self, today):
        """Closed on ``today`` without an answer: the next follow-up has taken its place."""
        return self.answered_at is None and today >= self.closes_on

    def opens_on(self):
        """The first day it can be answered."""
        from datetime import timedelta

        return self.due_on - timedelta(days=ANSWER_EARLY_DAYS)

    def is_open(self, today):
        """Unanswered and answerable on ``today``: due within ANSWER_EARLY_DAYS, due, or overdue (not missed)."""
        return self.answered_at is None and self.opens_on() <= today < self.closes_on


audit.register_labels(
    actions={"followup.schedule": _l("Graduate follow-ups scheduled"),
             "followup.unschedule": _l("Graduate follow-ups withdrawn after the tracking was shortened"),
             "followup.settings": _l("Graduate follow-up settings changed"),
             "followup.returned": _l("Graduate came back to the base: its follow-ups closed"),
             "followup.answer": _l("Graduate follow-up answered"),
             "followup.correct": _l("Graduate follow-up corrected"),
             "followup.overdue": _l("Graduate follow-up overdue")},
    objects={"GraduateFollowUp": _l("Graduate follow-up")},
    fields={"due_on": _l("Due on"), "operating_status": _l("How the company is doing"),
            "revenue_fen": _l("Revenue in the last 12 months (fen)"),
            "tax_fen": _l("Tax paid in the last 12 months (fen)"), "employees": _l("Employees"),
            "milestones": _l("What happened (financing, patents, 高新…)"), "by_phone": _l("From a phone call"),
            "answered_by_id": _l("Answered by"), "followup_interval_months": _l("A follow-up every (months)"),
            "followup_years": _l("Followed for (years after leaving)")},
    values={"operating_status": OPERATING_STATUSES},
)
