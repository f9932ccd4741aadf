"""What billing keeps. Two kinds of money, kept apart:

- what an operator pays us: its Stripe ``Subscription``, the Stripe invoices we were told of
  (``OperatorInvoice``) and every Stripe event processed (``StripeEvent``, the once-only guard). Operator-level
  rows, not base-owned: an operator's subscription covers all its bases.
- what tenant companies pay their base: monthly ``RentInvoice`` bills with their ``InvoiceLine``s, the
  ``ExtraCharge``s staff add, ``Payment``s and ``CreditNote``s settled against bills through ``Allocation``s,
  Stripe payment links (``PaymentLink``), the base's ``BillingSettings`` and the gap-free number
  ``InvoiceSequence``. Base-owned rows.

Money is integer fen. A bill (账单) is a payment notice, not a tax invoice (发票), which the base issues through
the tax system.
"""
from datetime import date, datetime

from sqlalchemy import (BigInteger, Boolean, CheckConstraint, Date, DateTime, ForeignKey, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from operator_app.db import BaseOwnedMixin
from operator_app.extensions import db
from operator_app.timeutil import utcnow
from tenants.models import Lease, TenantCompany

# ---------------------------------------------------------------------------------------------------------
# The operator's subscription
# ---------------------------------------------------------------------------------------------------------


class Subscription(db.Model):
    """An operator's subscription to the service, as Stripe last told us (one row per operator).

    ``status`` is Stripe's (trialing, active, past_due, unpaid, canceled, incomplete, incomplete_expired) or
    "none" before the operator subscribes. ``state_at`` is the Stripe time of the state we hold: an older
    event never overwrites a newer state.
    """

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"), unique=True)
    stripe_customer_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    plan: Mapped[str | None] = mapped_column(String(32))  # a key of BILLING_PLANS
    status: Mapped[str] = mapped_column(String(24), default="none")
    current_period_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, default=False)
    past_due_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    state_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    lock_version: Mapped[int] = mapped_column(Integer, server_default="1")
    __mapper_args__ = {"version_id_col": lock_version}

    operator = relationship("Operator")


class OperatorInvoice(db.Model):
    """A Stripe invoice of an operator's subscription, kept from the webhooks for the billing page."""

    __tablename__ = "operator_invoices"

    id: Mapped[int] = mapped_column(primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"), index=True)
    stripe_invoice_id: Mapped[str] = mapped_column(String(64), unique=True)
    number: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(24))  # draft, open, paid, uncollectible, void
    amount_due: Mapped[int] = mapped_column(BigInteger, default=0)  # in the currency's smallest unit
    amount_paid: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(8), default="cny")
    period_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    period_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    hosted_invoice_url: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # Stripe's
    state_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StripeEvent(db.Model):
    """A Stripe event processed: stored in the transaction of its effect, so each is processed once."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)  # Stripe's evt_… id
    type: Mapped[str] = mapped_column(String(100))
    account: Mapped[str | None] = mapped_column(String(64))  # a connected account's events (tenant payments)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # Stripe's
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"), index=True)
    base_id: Mapped[int | None] = mapped_column(ForeignKey("bases.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(32), default="")  # applied, stale, ignored, unknown_customer


# ---------------------------------------------------------------------------------------------------------
# Rent bills to tenant companies
# ---------------------------------------------------------------------------------------------------------

KIND_RENT, KIND_SUPPLEMENTARY = "rent", "supplementary"


class BillingSettings(BaseOwnedMixin, db.Model):
    """A base's rent billing: whether bills are issued, from which month, when they fall due, what they say
    about paying, and the base's own Stripe account for payment links."""

    __tablename__ = "billing_settings"
    __table_args__ = (UniqueConstraint("base_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoicing_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    first_month: Mapped[date | None] = mapped_column(Date)  # the 1st of the first month billed
    due_days: Mapped[int] = mapped_column(Integer, default=15)  # a bill falls due this many days after issue
    number_prefix: Mapped[str] = mapped_column(String(12), default="")
    payee_name: Mapped[str] = mapped_column(String(120), default="")
    bank_name: Mapped[str] = mapped_column(String(120), default="")
    bank_account: Mapped[str] = mapped_column(String(64), default="")
    payment_notes: Mapped[str] = mapped_column(Text, default="")
    stripe_account_id: Mapped[str | None] = mapped_column(String(64), unique=True)  # acct_… (Stripe Connect)
    lock_version: Mapped[int] = mapped_column(Integer, server_default="1")
    __mapper_args__ = {"version_id_col": lock_version}


class InvoiceSequence(BaseOwnedMixin, db.Model):
    """The last number given in a base to a bill or a credit note. Incremented in the transaction that uses the
    number, so a rolled-back issue gives its number back: numbers have no gaps."""

    __tablename__ = "invoice_sequences"
    __table_args__ = (UniqueConstraint("base_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # invoice, credit_note
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class RentInvoice(BaseOwnedMixin, db.Model):
    """A bill to a tenant company: a lease's rent for a calendar month (``period`` "2026-03", unique per lease:
    the job's claim), or a supplementary bill of extra charges (no period)."""

    __tablename__ = "rent_invoices"
    __table_args__ = (UniqueConstraint("base_id", "number"), UniqueConstraint("lease_id", "period"),
                      CheckConstraint("total_fen >= 0", name="total"))

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16), default=KIND_RENT)
    company_id: Mapped[int] = mapped_column(ForeignKey("tenant_companies.id"), index=True)
    lease_id: Mapped[int | None] = mapped_column(ForeignKey("leases.id"), index=True)
    period: Mapped[str | None] = mapped_column(String(7))
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    issued_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    total_fen: Mapped[int] = mapped_column(BigInteger)
    notes: Mapped[str] = mapped_column(Text, default="")
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the monthly job

    company: Mapped[TenantCompany] = relationship()
    lease: Mapped[Lease | None] = relationship()
    lines: Mapped[list["InvoiceLine"]] = relationship(back_populates="invoice", order_by="InvoiceLine.position")


class InvoiceLine(BaseOwnedMixin, db.Model):
    """One line of a bill: a stretch of days at one rent, or an extra charge."""

    __tablename__ = "rent_invoice_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("rent_invoices.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # rent, free, discounted, extra
    description: Mapped[str] = mapped_column(String(300))
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    extra_charge_id: Mapped[int | None] = mapped_column(ForeignKey("extra_charges.id"))

    invoice: Mapped[RentInvoice] = relationship(back_populates="lines")


class ExtraCharge(BaseOwnedMixin, db.Model):
    """A charge staff add to a lease for a month (utilities, services): billed on the lease's next bill."""

    __tablename__ = "extra_charges"
    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lease_id: Mapped[int] = mapped_column(ForeignKey("leases.id"), index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("tenant_companies.id"), index=True)
    month: Mapped[str] = mapped_column(String(7))  # "2026-03": the month it is for
    kind: Mapped[str] = mapped_column(String(16))  # utilities, services, other
    description: Mapped[str] = mapped_column(String(200))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("rent_invoices.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # withdrawn before billing

    lease: Mapped[Lease] = relationship()
    company: Mapped[TenantCompany] = relationship()


class Payment(BaseOwnedMixin, db.Model):
    """Money a tenant company paid the base. What is not allocated to bills is the company's credit."""

    __tablename__ = "rent_payments"
    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("tenant_companies.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    received_on: Mapped[date] = mapped_column(Date, index=True)
    method: Mapped[str] = mapped_column(String(16))  # bank_transfer, cash, wechat, alipay, stripe, other
    reference: Mapped[str] = mapped_column(String(120), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: a Stripe webhook

    company: Mapped[TenantCompany] = relationship()
    allocations: Mapped[list["Allocation"]] = relationship(back_populates="payment")


class CreditNote(BaseOwnedMixin, db.Model):
    """A reduction of what a bill asks (红字冲减): numbered per base like the bills."""

    __tablename__ = "credit_notes"
    __table_args__ = (UniqueConstraint("base_id", "number"),
                      CheckConstraint("amount_fen > 0", name="amount"))

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("rent_invoices.id"), index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("tenant_companies.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    issued_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    invoice: Mapped[RentInvoice] = relationship()
    company: Mapped[TenantCompany] = relationship()
    allocations: Mapped[list["Allocation"]] = relationship(back_populates="credit_note")


class Allocation(BaseOwnedMixin, db.Model):
    """Part of a payment or a credit note settling part of a bill."""

    __tablename__ = "payment_allocations"
    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount"),
                      CheckConstraint("(payment_id IS NULL) <> (credit_note_id IS NULL)",
                                      name="source"))

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("rent_invoices.id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("rent_payments.id"), index=True)
    credit_note_id: Mapped[int | None] = mapped_column(ForeignKey("credit_notes.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    invoice: Mapped[RentInvoice] = relationship()
    payment: Mapped[Payment | None] = relationship(back_populates="allocations")
    credit_note: Mapped[CreditNote | None] = relationship(back_populates="allocations")


class PaymentLink(BaseOwnedMixin, db.Model):
    """A Stripe Checkout page on the base's connected account for what a bill still owes (card, Alipay,
    WeChat Pay). The session id we stored, not the event's metadata, ties a completed payment to its bill."""

    __tablename__ = "invoice_payment_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("rent_invoices.id"), index=True)
    stripe_session_id: Mapped[str] = mapped_column(String(255), unique=True)
    url: Mapped[str] = mapped_column(String(1000))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open, paid, expired
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("rent_payments.id"))

    invoice: Mapped[RentInvoice] = relationship()
