"""Ledger models: the service team and partner agencies, and the three kinds of entry of the service ledger
(服务台账): service requests (诉求), company visits (入企服务) and activities (活动) with their files and sign-ins,
plus the companies' feedback on each.

Every entry carries ``occurred_on``, the base-local day it happened, so the one ledger view can merge,
filter and sort the three kinds with plain indexed columns.
"""
from datetime import date, datetime, timedelta

from sqlalchemy import (Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from operator_app.db import BaseOwnedMixin
from operator_app.extensions import db
from operator_app.timeutil import as_utc, utcnow

from . import constants as c


class ServicePerson(BaseOwnedMixin, db.Model):
    """A member of the base's service team (服务团队); a certified startup mentor (创业辅导师) has a certificate."""

    __tablename__ = "service_people"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    position: Mapped[str] = mapped_column(String(60), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    is_mentor: Mapped[bool] = mapped_column(Boolean, default=False)
    certificate_issuer: Mapped[str] = mapped_column(String(120), default="")
    certificate_number: Mapped[str] = mapped_column(String(60), default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # their login, when they have one
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def counts_as_mentor(self):
        """The policy counts a mentor only with a certificate (issuer and number recorded)."""
        return self.is_active and self.is_mentor and bool(self.certificate_issuer and self.certificate_number)


class PartnerAgency(BaseOwnedMixin, db.Model):
    """合作服务机构: an external professional service provider working with the base under an agreement."""

    __tablename__ = "partner_agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    category: Mapped[str] = mapped_column(String(20))  # the service function it provides
    services: Mapped[str] = mapped_column(Text, default="")
    agreement_starts_on: Mapped[date] = mapped_column(Date)
    agreement_ends_on: Mapped[date | None] = mapped_column(Date)
    contact_name: Mapped[str] = mapped_column(String(60), default="")
    contact_phone: Mapped[str] = mapped_column(String(20), default="")
    agreement_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def category_label(self):
        return c.CATEGORIES.get(self.category, self.category)

    def in_agreement_on(self, day):
        """True when the agreement covers ``day`` and the base still works with the agency."""
        return self.is_active and self.agreement_starts_on <= day and (
            self.agreement_ends_on is None or day <= self.agreement_ends_on)


class _Entry:
    """What the three kinds of ledger entry share: category, the base-local day, author, soft deletion."""

    @declared_attr.directive
    def __table_args__(cls):
        # The ledger view filters and sorts each kind by base and day.
        return (Index(f"ix_{cls.__tablename__}_base_day", "base_id", "occurred_on"),)

    category: Mapped[str] = mapped_column(String(20))
    occurred_on: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def category_label(self):
        return c.CATEGORIES.get(self.category, self.category)

    def editable_by(self, user, role):
        """Managers and staff keep every entry; a mentor keeps the entries they made or are the person of
        (the request they handle, the visit they made, the activity they organise)."""
        from operator_app.accounts import constants as ac

        if role in (ac.ROLE_MANAGER, ac.ROLE_STAFF):
            return True
        person = getattr(self, self.person_attribute)
        return role == ac.ROLE_MENTOR and (self.created_by_id == user.id
                                           or (person is not None and person.user_id == user.id))


class ServiceRequest(_Entry, BaseOwnedMixin, db.Model):
    """诉求: a company's request for a service, from receipt to resolution."""

    __tablename__ = "service_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("tenant_companies.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    content: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("service_people.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=c.STATUS_OPEN)
    responded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolution: Mapped[str] = mapped_column(Text, default="")
    filed_by_tenant: Mapped[bool] = mapped_column(Boolean, default=False)

    company = relationship("TenantCompany")
    handler: Mapped[ServicePerson | None] = relationship()

    kind = c.KIND_REQUEST
    person_attribute = "handler"

    @property
    def title(self):
        return self.content

    @property
    def channel_label(self):
        return c.CHANNELS.get(self.channel, self.channel)

    @property
    def status_label(self):
        return c.REQUEST_STATUSES.get(self.status, self.status)

    @property
    def response_time(self):
        """How long the company waited for a first answer (None while it waits)."""
        if self.responded_at is None:
            return None
        return as_utc(self.responded_at) - as_utc(self.received_at)

    @property
    def is_done(self):
        return self.status in c.DONE_STATUSES


class Visit(_Entry, BaseOwnedMixin, db.Model):
    """入企服务: base staff or a partner agency's people serving a company on its premises."""

    __tablename__ = "visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("tenant_companies.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("service_people.id"), index=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("partner_agencies.id"), index=True)
    people: Mapped[str] = mapped_column(String(200), default="")
    purpose: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    follow_up: Mapped[str] = mapped_column(Text, default="")

    company = relationship("TenantCompany")
    staff: Mapped[ServicePerson | None] = relationship()
    agency: Mapped[PartnerAgency | None] = relationship()

    kind = c.KIND_VISIT
    person_attribute = "staff"

    @property
    def title(self):
        return self.purpose


class Activity(_Entry, BaseOwnedMixin, db.Model):
    """活动: an event the base runs; archived with notice, photos and sign-ins within three days of its end."""

    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_on: Mapped[date] = mapped_column(Date)  # the base-local day it ends: the archive deadline counts from it
    place: Mapped[str] = mapped_column(String(200))
    organiser_id: Mapped[int | None] = mapped_column(ForeignKey("service_people.id"), index=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("partner_agencies.id"), index=True)
    expected_companies: Mapped[int | None] = mapped_column(Integer)
    agenda: Mapped[str] = mapped_column(Text, default="")
    # People who signed the paper sheet only (not by QR), counted from it by staff.
    sheet_companies: Mapped[int | None] = mapped_column(Integer)
    sheet_people: Mapped[int | None] = mapped_column(Integer)
    publicity_links: Mapped[str] = mapped_column(Text, default="")
    results: Mapped[str] = mapped_column(Text, default="")
    signin_code: Mapped[str] = mapped_column(String(32))
    signin_hours_after: Mapped[int] = mapped_column(Integer, default=c.DEFAULT_SIGNIN_HOURS_AFTER)
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # complete since (else None)
    first_archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # on time or late
    overdue_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # marked by the daily job

    organiser: Mapped[ServicePerson | None] = relationship()
    agency: Mapped[PartnerAgency | None] = relationship()
    files: Mapped[list["ActivityFile"]] = relationship(
        order_by="ActivityFile.id",
        primaryjoin="and_(ActivityFile.activity_id == Activity.id, ActivityFile.deleted_at.is_(None))",
        viewonly=True)
    signins: Mapped[list["SignIn"]] = relationship(order_by="SignIn.signed_at", viewonly=True)

    kind = c.KIND_ACTIVITY
    person_attribute = "organiser"

    @property
    def archive_deadline(self):
        """The last base-local day the archive may be completed on time."""
        return self.ends_on + timedelta(days=c.ARCHIVE_DAYS)

    @property
    def signin_opens_at(self):
        return as_utc(self.starts_at) - c.SIGNIN_OPENS_BEFORE

    @property
    def signin_closes_at(self):
        return as_utc(self.ends_at) + timedelta(hours=self.signin_hours_after)

    def files_of(self, kind):
        return [file for file in self.files if file.kind == kind]

    @property
    def publicity(self):
        return [line.strip() for line in self.publicity_links.splitlines() if line.strip()]


class ActivityFile(BaseOwnedMixin, db.Model):
    """A file of an activity's archive: its formal notice, an on-site photo, or a scan of the paper sign-in sheet."""

    __tablename__ = "activity_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"))
    thumbnail_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    captured_at: Mapped[datetime | None] = mapped_column(DateTime)  # the camera's own clock, as the photo says
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    stored = relationship("StoredFile", foreign_keys=[file_id])

    @property
    def kind_label(self):
        return c.FILE_KINDS.get(self.kind, self.kind)


class SignIn(BaseOwnedMixin, db.Model):
    """签到: one participant of an activity, once per mobile number; a tenant's contact is linked to its company."""

    __tablename__ = "signins"
    __table_args__ = (UniqueConstraint("activity_id", "phone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    phone: Mapped[str] = mapped_column(String(20))
    company_name: Mapped[str] = mapped_column(String(120))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("tenant_companies.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    company = relationship("TenantCompany")


class Feedback(BaseOwnedMixin, db.Model):
    """意见反馈: a company's 1–5 rating and comment on one service it received; once per company and entry.

    The category and partner agency are copied from the entry so satisfaction is summed without joins and
    stays what it was when the company rated it.
    """

    __tablename__ = "feedback"
    __table_args__ = (
        UniqueConstraint("company_id", "request_id"), UniqueConstraint("company_id", "visit_id"),
        UniqueConstraint("company_id", "activity_id"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
        CheckConstraint("(CASE WHEN request_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN visit_id IS NULL THEN 0 "
                        "ELSE 1 END) + (CASE WHEN activity_id IS NULL THEN 0 ELSE 1 END) = 1", name="one_entry"),
        Index("ix_feedback_agency", "base_id", "agency_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("tenant_companies.id"), index=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("service_requests.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"))
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activities.id"))
    category: Mapped[str] = mapped_column(String(20))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("partner_agencies.id"))
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def entry_kind(self):
        if self.request_id:
            return c.KIND_REQUEST
        return c.KIND_VISIT if self.visit_id else c.KIND_ACTIVITY

    @property
    def entry_id(self):
        return self.request_id or self.visit_id or self.activity_id
