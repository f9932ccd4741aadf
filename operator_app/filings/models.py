"""What the filings keep: each version of a quarterly filing with its frozen figures and files, the attempts to
send it, the annual work summary with its editable text, the filing settings, and the base's inspection
documents (audit report, finance rules, …) that the compliance page counts as evidence."""
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from ..db import BaseOwnedMixin
from ..extensions import db
from ..storage import StoredFile
from ..timeutil import utcnow

FILING_DRAFT, FILING_SUBMITTED = "draft", "submitted"
SUBMITTED_BY_ENDPOINT, SUBMITTED_BY_HAND = "endpoint", "manual"


class QuarterlyFiling(BaseOwnedMixin, db.Model):
    """One version of a base's filing for a quarter (季度报送).

    The unique (base, year, quarter, version) is the claim: two schedulers or a restart never make two. A
    draft is regenerated in place until it is submitted; a submitted version is frozen (its figures and files
    never change) and a later regeneration makes the next version, with a reason.
    """

    __tablename__ = "quarterly_filings"
    __table_args__ = (UniqueConstraint("base_id", "year", "quarter", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    quarter: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default=FILING_DRAFT)
    reason: Mapped[str] = mapped_column(Text, default="")  # why this version was made (versions after the first)
    figures: Mapped[dict] = mapped_column(JSON, default=dict)  # the snapshot (operator_app.filings.snapshot)
    # The snapshot's headline figures alone, when a list asks for them (services.latest_filings): a snapshot holds
    # every company's row, some 100 KB for a base of 300 companies.
    indicators: Mapped[dict | None] = query_expression()
    deadline_on: Mapped[date] = mapped_column(Date)
    generated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    generated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the scheduled job
    xlsx_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    csv_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    json_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_via: Mapped[str | None] = mapped_column(String(16))  # endpoint / manual
    submission_note: Mapped[str] = mapped_column(Text, default="")
    lock_version: Mapped[int] = mapped_column(Integer, server_default="1")
    __mapper_args__ = {"version_id_col": lock_version}

    xlsx_file: Mapped[StoredFile | None] = relationship(foreign_keys=[xlsx_file_id])
    csv_file: Mapped[StoredFile | None] = relationship(foreign_keys=[csv_file_id])
    json_file: Mapped[StoredFile | None] = relationship(foreign_keys=[json_file_id])
    attempts: Mapped[list["FilingAttempt"]] = relationship(back_populates="filing",
                                                           order_by="FilingAttempt.attempted_at")

    @property
    def period(self):
        return f"{self.year}Q{self.quarter}"

    @property
    def is_frozen(self):
        return self.status == FILING_SUBMITTED


class FilingAttempt(BaseOwnedMixin, db.Model):
    """One POST of a filing's JSON to the provincial endpoint, and what it answered."""

    __tablename__ = "filing_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    filing_id: Mapped[int] = mapped_column(ForeignKey("quarterly_filings.id"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    url: Mapped[str] = mapped_column(String(500))
    status_code: Mapped[int | None] = mapped_column(Integer)  # None: no answer (refused, timed out)
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)
    response: Mapped[str] = mapped_column(Text, default="")  # the answer's start, or the error
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    filing: Mapped[QuarterlyFiling] = relationship(back_populates="attempts")


class FilingSettings(BaseOwnedMixin, db.Model):
    """A base's filing settings: the deadline rule and the provincial platform's endpoint (one row per base)."""

    __tablename__ = "filing_settings"
    __table_args__ = (UniqueConstraint("base_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    deadline_days: Mapped[int] = mapped_column(Integer)  # services.DEFAULT_DEADLINE_DAYS until changed
    deadline_in_working_days: Mapped[bool] = mapped_column(Boolean)
    endpoint_url: Mapped[str] = mapped_column(String(500), default="")
    endpoint_token: Mapped[str] = mapped_column(String(500), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    __mapper_args__ = {"version_id_col": version}


class AnnualSummary(BaseOwnedMixin, db.Model):
    """A base's annual work summary (年度工作总结) for one year: figures from the records, text by the manager.

    ``sections`` holds the narrative the manager edits ({section key: text}); regenerating the figures never
    touches it. One row per base and year (the claim of the January job).
    """

    __tablename__ = "annual_summaries"
    __table_args__ = (UniqueConstraint("base_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    figures: Mapped[dict] = mapped_column(JSON, default=dict)
    sections: Mapped[dict] = mapped_column(JSON, default=dict)
    generated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    sent_on: Mapped[date | None] = mapped_column(Date)  # the day the manager sent it to the authority
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    __mapper_args__ = {"version_id_col": version}


class InspectionDocument(BaseOwnedMixin, db.Model):
    """A document an inspector asks to see (审计报告, 财务制度, …), kept as evidence for the compliance page."""

    __tablename__ = "inspection_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200), default="")
    dated_on: Mapped[date | None] = mapped_column(Date)
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    file: Mapped[StoredFile] = relationship()
