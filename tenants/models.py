"""Tenant models: TenantCompany (入驻企业), its milestones, documents, admission and exit records, the base's rules."""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (JSON, BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer, Numeric, String, Text,
                        UniqueConstraint, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from operator_app.db import BaseOwnedMixin
from operator_app.extensions import db
from operator_app.timeutil import utcnow

from . import constants as c


_ACTIVE = "status IN ('admitted', 'in_residence')"


class TenantCompany(BaseOwnedMixin, db.Model):
    """入驻企业: a company or startup team (创业团队) housed in, applying to, or having left the base.

    A code (USCC) is unique among the companies the base admits or houses; applications, rejected
    applicants and companies that left may share it (a company can leave and come back).
    """

    __tablename__ = "tenant_companies"
    __table_args__ = (Index("uq_tenant_companies_active_uscc", "base_id", "uscc", unique=True,
                            sqlite_where=text(_ACTIVE), postgresql_where=text(_ACTIVE)),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    uscc: Mapped[str | None] = mapped_column(String(18))  # 统一社会信用代码; a team has none
    is_team: Mapped[bool] = mapped_column(Boolean, default=False)
    team_evidence: Mapped[str] = mapped_column(Text, default="")
    legal_representative: Mapped[str] = mapped_column(String(60), default="")
    contact_name: Mapped[str] = mapped_column(String(60), default="")
    contact_phone: Mapped[str] = mapped_column(String(20), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    main_business: Mapped[str] = mapped_column(Text, default="")
    industry: Mapped[str] = mapped_column(String(2))
    zone: Mapped[str | None] = mapped_column(String(20))
    unit: Mapped[str] = mapped_column(String(120), default="")  # room numbers or workstation numbers
    is_workstation: Mapped[bool] = mapped_column(Boolean, default=False)
    workstation_count: Mapped[int | None] = mapped_column(Integer)
    area_m2: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    moved_in_on: Mapped[date | None] = mapped_column(Date)
    moved_out_on: Mapped[date | None] = mapped_column(Date)
    licence_in_base: Mapped[bool] = mapped_column(Boolean, default=False)
    staff_on_site: Mapped[bool] = mapped_column(Boolean, default=False)
    equipment_on_site: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), index=True)
    applied_via_link: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, server_default="1")

    milestones: Mapped[list["Milestone"]] = relationship(
        order_by="(Milestone.occurred_on.desc(), Milestone.id.desc())",
        primaryjoin="and_(Milestone.company_id == TenantCompany.id, Milestone.deleted_at.is_(None))",
        viewonly=True)
    documents: Mapped[list["CompanyDocument"]] = relationship(
        order_by="CompanyDocument.uploaded_at.desc()",
        primaryjoin="and_(CompanyDocument.company_id == TenantCompany.id, CompanyDocument.deleted_at.is_(None))",
        viewonly=True)

    __mapper_args__ = {"version_id_col": version}

    @property
    def status_label(self):
        return c.STATUS_LABELS[self.status]

    @property
    def industry_label(self):
        return c.INDUSTRIES.get(self.industry, self.industry)

    @property
    def is_housed(self):
        return self.status in c.HOUSED_STATUSES

    @property
    def occupancy_evidence_complete(self):
        """001 §8: licence, key staff and equipment in the base (licence elsewhere: staff and equipment here)."""
        return self.staff_on_site and self.equipment_on_site

    @property
    def graduate_tracking_until(self):
        """The last day a graduate is followed after leaving, under its base's rules (None if not a graduate)."""
        from .followup_services import tracking_until
        from .rules import rules_of

        if self.status != c.STATUS_GRADUATED:
            return None  # (without reading the base's rules)
        return tracking_until(self, rules_of(None))


class Milestone(BaseOwnedMixin, db.Model):
    """发展动态: a dated step in a company's development that filings and the annual summary count."""

    __tablename__ = "milestones"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("tenant_companies.id"), index=True)
    occurred_on: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)  # financing amount, in fen
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    company: Mapped[TenantCompany] = relationship()

    @property
    def kind_label(self):
        return c.MILESTONE_KINDS.get(self.kind, self.kind)


class CompanyDocument(BaseOwnedMixin, db.Model):
    """A document in a company's file (licence, lease, …); the bytes live in the storage."""

    __tablename__ = "company_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("tenant_companies.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    file = relationship("StoredFile", lazy="joined")  # a document is always shown with its file's name and size

    @property
    def kind_label(self):
        return c.DOCUMENT_KINDS.get(self.kind, self.kind)


class AdmissionDecision(BaseOwnedMixin, db.Model):
    """The review of an application: the checks as they stood, the decision, and any override's reason."""

    __tablename__ = "admission_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("tenant_companies.id"), index=True)
    decision: Mapped[str] = mapped_column(String(10))  # admit / reject
    checks: Mapped[list] = mapped_column(JSON, default=list)  # [{key, passed, detail}]
    override_reason: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    decided_by = relationship("User")


class ExitRecord(BaseOwnedMixin, db.Model):
    """A company's exit: reason, date and the checklist of what was handed back and settled."""

    __tablename__ = "exit_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("tenant_companies.id"), index=True)
    reason: Mapped[str] = mapped_column(String(20))
    exit_on: Mapped[date] = mapped_column(Date)
    keys_returned: Mapped[bool] = mapped_column(Boolean, default=False)
    rent_settled: Mapped[bool] = mapped_column(Boolean, default=False)
    deposit_settled: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def reason_label(self):
        return c.EXIT_REASONS.get(self.reason, self.reason)


class BaseRules(BaseOwnedMixin, db.Model):
    """入驻和退出管理办法: the base's published move-in and exit rules and their checkable settings."""

    __tablename__ = "base_rules"
    __table_args__ = (UniqueConstraint("base_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_conditions: Mapped[str] = mapped_column(Text, default="")
    procedure: Mapped[str] = mapped_column(Text, default="")
    management_rules: Mapped[str] = mapped_column(Text, default="")
    exit_conditions: Mapped[str] = mapped_column(Text, default="")
    allowed_industries: Mapped[list] = mapped_column(JSON, default=list)  # empty: every industry
    required_documents: Mapped[list] = mapped_column(JSON, default=list)
    workstation_quota_percent: Mapped[int] = mapped_column(Integer, default=c.DEFAULT_WORKSTATION_QUOTA_PERCENT)
    is_published: Mapped[bool] = mapped_column(Boolean, default=False)
    accepts_applications: Mapped[bool] = mapped_column(Boolean, default=False)
    # Rent settings (有优惠政策): the threshold the overall discount is held to, how long a market quote
    # counts, and from how many free months a lease is flagged.
    discount_threshold_percent: Mapped[int] = mapped_column(
        Integer, default=c.DEFAULT_DISCOUNT_THRESHOLD_PERCENT, server_default=str(c.DEFAULT_DISCOUNT_THRESHOLD_PERCENT))
    quote_max_age_months: Mapped[int] = mapped_column(
        Integer, default=c.DEFAULT_QUOTE_MAX_AGE_MONTHS, server_default=str(c.DEFAULT_QUOTE_MAX_AGE_MONTHS))
    free_rent_warning_months: Mapped[int] = mapped_column(
        Integer, default=c.DEFAULT_FREE_RENT_WARNING_MONTHS, server_default=str(c.DEFAULT_FREE_RENT_WARNING_MONTHS))
    # 001 §8: workstation staff on site on average at least this many days a week.
    attendance_days: Mapped[int] = mapped_column(
        Integer, default=c.DEFAULT_ATTENDANCE_DAYS, server_default=str(c.DEFAULT_ATTENDANCE_DAYS))
    # Monthly operating data: the due day of the following month, the optional fields the base asks for, and
    # the month-on-month factor beyond which a figure is flagged for a second look.
    report_due_day: Mapped[int] = mapped_column(
        Integer, default=c.DEFAULT_REPORT_DUE_DAY, server_default=str(c.DEFAULT_REPORT_DUE_DAY))
    report_optional_fields: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    report_change_factor: Mapped[int] = mapped_column(
        Integer, default=c.DEFAULT_REPORT_CHANGE_FACTOR, server_default=str(c.DEFAULT_REPORT_CHANGE_FACTOR))
    # Graduates: a follow-up every so many months during the tracking years after they leave.
    followup_interval_months: Mapped[int] = mapped_column(
        Integer, default=c.DEFAULT_FOLLOWUP_INTERVAL_MONTHS, server_default=str(c.DEFAULT_FOLLOWUP_INTERVAL_MONTHS))
    followup_years: Mapped[int] = mapped_column(
        Integer, default=c.GRADUATE_TRACKING_YEARS, server_default=str(c.GRADUATE_TRACKING_YEARS))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, server_default="1")

    __mapper_args__ = {"version_id_col": version}


class MarketQuote(BaseOwnedMixin, db.Model):
    """市场询价: a local market rent the base's discount is measured against."""

    __tablename__ = "market_quotes"

    id: Mapped[int] = mapped_column(primary_key=True)
    quoted_on: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(20))
    source_name: Mapped[str] = mapped_column(String(120), default="")
    location: Mapped[str] = mapped_column(String(200), default="")
    space_type: Mapped[str] = mapped_column(String(20))
    price_fen: Mapped[int] = mapped_column(BigInteger)  # per m² per month, or per seat per month
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    file = relationship("StoredFile")

    @property
    def source_label(self):
        return c.QUOTE_SOURCES.get(self.source, self.source)

    @property
    def space_label(self):
        return c.SPACE_TYPES.get(self.space_type, self.space_type)


class PreferentialPolicy(BaseOwnedMixin, db.Model):
    """优惠政策: the formal document by which the operator grants tenants a rent discount."""

    __tablename__ = "preferential_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    document_number: Mapped[str] = mapped_column(String(100))
    issuing_unit: Mapped[str] = mapped_column(String(120))
    issued_on: Mapped[date] = mapped_column(Date)
    kinds: Mapped[list] = mapped_column(JSON, default=list)
    summary: Mapped[str] = mapped_column(Text, default="")
    is_posted: Mapped[bool] = mapped_column(Boolean, default=False)  # 上墙公开
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, server_default="1")

    file = relationship("StoredFile")

    __mapper_args__ = {"version_id_col": version}


class Lease(BaseOwnedMixin, db.Model):
    """A tenant's lease of rooms or workstations, with its list and actual rent and its free or discounted months.

    Rents are per m² per month (offices) or per seat per month (workstations), in fen.
    """

    __tablename__ = "leases"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("tenant_companies.id"), index=True)
    space_type: Mapped[str] = mapped_column(String(20))
    units: Mapped[str] = mapped_column(String(200))  # room or workstation numbers, separated by commas
    area_m2: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    seats: Mapped[int | None] = mapped_column(Integer)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    list_rent_fen: Mapped[int] = mapped_column(BigInteger)
    actual_rent_fen: Mapped[int] = mapped_column(BigInteger)
    free_months: Mapped[int] = mapped_column(Integer, default=0)
    discounted_months: Mapped[int] = mapped_column(Integer, default=0)
    discounted_rent_fen: Mapped[int | None] = mapped_column(BigInteger)
    deposit_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, server_default="1")

    company: Mapped[TenantCompany] = relationship()

    __mapper_args__ = {"version_id_col": version}

    @property
    def space_label(self):
        return c.SPACE_TYPES.get(self.space_type, self.space_type)

    @property
    def effective_end(self):
        """The lease's last day: its end, or the day its company left if that came first."""
        left = self.company.moved_out_on if self.company is not None else None
        return min(self.ends_on, left) if left else self.ends_on

    @property
    def quantity(self):
        """The lease's size in its own unit: m² for offices, seats for workstations."""
        return self.area_m2 if self.space_type == c.SPACE_OFFICE else Decimal(self.seats or 0)

    def unit_set(self):
        return unit_set(self.units)


def unit_set(units):
    """The room or workstation numbers of a units text ("2-W12, 2-W13、2-W14"), normalised."""
    import re

    return {part.strip().upper() for part in re.split(r"[,，、;；\s]+", units or "") if part.strip()}


class WorkstationPerson(BaseOwnedMixin, db.Model):
    """A person who works at a workstation company's desks; deactivated people keep their history."""

    __tablename__ = "workstation_people"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("tenant_companies.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    phone: Mapped[str] = mapped_column(String(20))
    pin_hash: Mapped[str] = mapped_column(String(255))
    pin_version: Mapped[int] = mapped_column(Integer, default=1)  # a new PIN forgets remembered phones
    active_from: Mapped[date] = mapped_column(Date)
    deactivated_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    company: Mapped[TenantCompany] = relationship()

    @property
    def is_active(self):
        return self.deactivated_on is None


class CheckInPoint(BaseOwnedMixin, db.Model):
    """An entrance or area where people check in by scanning its QR code, which changes every day."""

    __tablename__ = "checkin_points"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    secret: Mapped[str] = mapped_column(String(64))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Attendance(BaseOwnedMixin, db.Model):
    """One person's presence on one day: by QR check-in, entered by staff, or imported from a sheet."""

    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("person_id", "present_on"),
                      Index("ix_attendance_company_present_on", "company_id", "present_on"))

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("workstation_people.id"))
    company_id: Mapped[int] = mapped_column(ForeignKey("tenant_companies.id"))
    present_on: Mapped[date] = mapped_column(Date)
    is_present: Mapped[bool] = mapped_column(Boolean, default=True)
    source: Mapped[str] = mapped_column(String(10))
    checked_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    point_id: Mapped[int | None] = mapped_column(ForeignKey("checkin_points.id"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class MonthlyReport(BaseOwnedMixin, db.Model):
    """月度经营数据: a company's revenue, tax paid and headcount for one month (plus the optional figures the
    base asks for); one per company and month. Saved as a draft, then submitted; a correction after submission
    is a new revision with its reason, and every submitted revision is kept in ReportRevision."""

    __tablename__ = "monthly_reports"
    __table_args__ = (UniqueConstraint("company_id", "month_on"), Index("ix_monthly_reports_base_month",
                                                                       "base_id", "month_on"))

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("tenant_companies.id"))
    month_on: Mapped[date] = mapped_column(Date)  # the first day of the month reported
    status: Mapped[str] = mapped_column(String(10), default=c.REPORT_DRAFT)
    revenue_fen: Mapped[int | None] = mapped_column(BigInteger)
    tax_fen: Mapped[int | None] = mapped_column(BigInteger)
    employees: Mapped[int | None] = mapped_column(Integer)
    rd_spending_fen: Mapped[int | None] = mapped_column(BigInteger)
    new_ip: Mapped[int | None] = mapped_column(Integer)
    financing_fen: Mapped[int | None] = mapped_column(BigInteger)
    exports_fen: Mapped[int | None] = mapped_column(BigInteger)
    revision: Mapped[int] = mapped_column(Integer, default=0)  # 0 until submitted; then 1, 2, … per correction
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_submitted_on: Mapped[date | None] = mapped_column(Date)  # the base's day of the first submission
    due_on: Mapped[date | None] = mapped_column(Date)  # the due date in force then: a later setting never re-grades it
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    on_behalf: Mapped[bool] = mapped_column(Boolean, default=False)  # entered by staff for the company
    warnings: Mapped[list] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, server_default="1")

    company: Mapped[TenantCompany] = relationship()
    revisions: Mapped[list["ReportRevision"]] = relationship(order_by="ReportRevision.revision.desc()",
                                                             viewonly=True)

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_submitted(self):
        return self.status == c.REPORT_SUBMITTED


class ReportRevision(BaseOwnedMixin, db.Model):
    """One submitted version of a monthly report: the figures, who submitted it, and why it was corrected."""

    __tablename__ = "report_revisions"
    __table_args__ = (UniqueConstraint("report_id", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("monthly_reports.id"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    figures: Mapped[dict] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text, default="")
    on_behalf: Mapped[bool] = mapped_column(Boolean, default=False)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    submitted_by = relationship("User")


class ReportReminder(BaseOwnedMixin, db.Model):
    """An in-app reminder that a company's monthly report is due (sent on the 1st, the 5th and the due day)."""

    __tablename__ = "report_reminders"
    __table_args__ = (UniqueConstraint("company_id", "month_on", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("tenant_companies.id"), index=True)
    month_on: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(10))
    emailed_to: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
