"""Account models: Operator, Base, Zone, User, Membership, Invitation."""
from datetime import date, datetime
from decimal import Decimal

from flask_login import UserMixin
from sqlalchemy import (JSON, Boolean, Date, DateTime, ForeignKey, Integer, Numeric, String, Text,
                        UniqueConstraint, func, select)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import BaseOwnedMixin
from ..extensions import db
from ..timeutil import utcnow
from . import constants as c


class Operator(db.Model):
    """运营单位: the organisation that runs one or more bases and pays the subscription."""

    __tablename__ = "operators"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    bases: Mapped[list["Base"]] = relationship(back_populates="operator", order_by="Base.name")


class Base(db.Model):
    """双创基地: the unit of isolation. Its profile holds the facts of "8个有" and the per-base settings."""

    __tablename__ = "bases"

    id: Mapped[int] = mapped_column(primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    base_type: Mapped[str] = mapped_column(String(32))
    is_demonstration: Mapped[bool] = mapped_column(Boolean, default=False)
    address: Mapped[str] = mapped_column(String(200), default="")
    timezone: Mapped[str] = mapped_column(String(40), default="Asia/Shanghai")
    tenant_count_standard: Mapped[int | None] = mapped_column(Integer)
    total_area_m2: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    site_ownership: Mapped[str | None] = mapped_column(String(16))
    site_certificates: Mapped[str] = mapped_column(Text, default="")
    site_lease_start_on: Mapped[date | None] = mapped_column(Date)
    site_lease_end_on: Mapped[date | None] = mapped_column(Date)
    site_boundaries: Mapped[str] = mapped_column(Text, default="")
    service_functions: Mapped[list] = mapped_column(JSON, default=list)
    has_signage: Mapped[bool] = mapped_column(Boolean, default=False)
    operating_since_on: Mapped[date | None] = mapped_column(Date)  # 正式运营 since (6个要 §6: 一年以上)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Optimistic locking: two managers saving the profile at once cannot overwrite each other unseen.
    version: Mapped[int] = mapped_column(Integer, server_default="1")

    operator: Mapped[Operator] = relationship(back_populates="bases")

    __mapper_args__ = {"version_id_col": version}

    @property
    def type_label(self):
        return c.BASE_TYPES.get(self.base_type, self.base_type)

    @property
    def site_lease_years(self):
        """Length of the site lease in whole years, or None when not leased or dates are missing."""
        if self.site_ownership != c.SITE_LEASED or not (self.site_lease_start_on and self.site_lease_end_on):
            return None
        start, end = self.site_lease_start_on, self.site_lease_end_on
        years = end.year - start.year - ((end.month, end.day) < (start.month, start.day))
        return years

    def ordered_zones(self):
        """The base's zones in the fixed order of the policy (incubation, growth, public service)."""
        order = list(c.ZONE_LABELS)
        rows = db.session.scalars(select(Zone).where(Zone.base_id == self.id)).all()
        return sorted(rows, key=lambda zone: order.index(zone.kind))


class Zone(BaseOwnedMixin, db.Model):
    """区域: one of the three zones every base is divided into (孵化区 / 成长区 / 公共服务区)."""

    __tablename__ = "zones"
    __table_args__ = (UniqueConstraint("base_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    area_m2: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    description: Mapped[str] = mapped_column(Text, default="")

    @property
    def label(self):
        return c.ZONE_LABELS[self.kind]


class User(UserMixin, db.Model):
    """A person who logs in: base staff, a tenant contact, an operator owner or a platform admin."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    phone: Mapped[str] = mapped_column(String(20), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active_account: Mapped[bool] = mapped_column("is_active", Boolean, default=True)
    is_platform_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"), index=True)
    is_operator_owner: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    operator: Mapped[Operator | None] = relationship()
    memberships: Mapped[list["Membership"]] = relationship(back_populates="user")

    @property
    def is_active(self):
        return self.is_active_account

    #: The server-side session this request was authenticated with (set on login and by the user loader).
    session_token = None

    def get_id(self):
        """What Flask-Login keeps in the cookie: the user and the server-side session, so both can end."""
        return f"{self.id}:{self.session_token}"

    def owns_operator_of(self, base):
        return self.is_operator_owner and self.operator_id == base.operator_id

    def accessible_bases(self):
        """Bases this user can open: the operator's bases for an owner, plus every active membership."""
        bases = {m.base.id: m.base for m in self.memberships if m.is_active}
        if self.is_operator_owner and self.operator_id:
            bases.update({base.id: base for base in self.operator.bases})
        return sorted(bases.values(), key=lambda base: base.name)

    def membership_in(self, base):
        return next((m for m in self.memberships if m.base_id == base.id and m.is_active), None)


class UserSession(db.Model):
    """A login. The cookie names it; logout, password change and deactivation revoke it server-side."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                   server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str] = mapped_column(String(200), default="")

    user: Mapped[User] = relationship()


class Membership(db.Model):
    """A user's role in one base. Account data, read before a base is current, so not base-confined."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "base_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    base_id: Mapped[int] = mapped_column(ForeignKey("bases.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    # For the tenant role: the one company this contact speaks for.
    tenant_company_id: Mapped[int | None] = mapped_column(ForeignKey("tenant_companies.id"), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships")
    base: Mapped[Base] = relationship()

    @property
    def role_label(self):
        return c.ROLE_LABELS[self.role]


class Invitation(BaseOwnedMixin, db.Model):
    """A one-time link inviting a colleague into a base with a role. Only the token's hash is stored."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(16))
    tenant_company_id: Mapped[int | None] = mapped_column(ForeignKey("tenant_companies.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    invited_by: Mapped[User] = relationship(foreign_keys=[invited_by_id])
    base: Mapped[Base] = relationship()

    @property
    def role_label(self):
        return c.ROLE_LABELS[self.role]

    def is_usable(self, now):
        expires_at = self.expires_at
        if expires_at.tzinfo is None:  # SQLite returns naive datetimes; they are stored in UTC
            expires_at = expires_at.replace(tzinfo=now.tzinfo)
        return self.accepted_at is None and self.revoked_at is None and expires_at > now
