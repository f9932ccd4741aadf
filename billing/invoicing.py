"""Issuing rent bills: the base's billing settings, the monthly bills of every lease (caught up when missed),
supplementary bills of extra charges, and the extra charges themselves. The only code that writes bills.

Rules:
- A lease gets one bill per calendar month it runs in (``RentInvoice.period`` "2026-03"; the unique
  (lease, period) is the claim, so two issuers at once or a job run twice still make one), from the base's
  first billed month (or the lease's start) to the base's current month. A month missed (server down,
  invoicing turned on later, a lease entered late) is billed at the next run, dated that day.
- A month entirely rent-free still gets its bill, of 0: it documents the free month to the tenant and in the
  books, and every month of a lease then has exactly one bill to look for. It takes a number like any bill.
- Every bill takes the next number of the base (``numbering.next_number``) in the transaction that issues
  it: numbers have no gaps, and a bill that is not issued after all (another issuer claimed its month) gives
  its number back with its savepoint.
- A rent bill carries the lease's extra charges for its month and earlier that are not billed yet; staff can
  also bill a lease's pending charges at once (a supplementary bill, without a month).
- After issuing, ``settlement.settle`` applies the company's credit to its open bills.
- Texts written on a bill (its lines) are in the base's language (the app's default), whoever issues it:
  a bill is a document, the same for the job and for a person pressing the button.

Services flush and never commit; the request or the job commits.
"""
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import BigInteger, and_, cast, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from operator_app import audit, sqlite
from operator_app.extensions import db
from operator_app.timeutil import add_months, month_end, month_key, month_of, parse_month, utcnow
from tenants.models import Lease, TenantCompany
from tenants.rent_services import register_lease_removal_check

from . import constants as c
from . import numbering, proration, settlement
from .models import (KIND_RENT, KIND_SUPPLEMENTARY, Allocation, BillingSettings, ExtraCharge, InvoiceLine,
                     RentInvoice)

SETTINGS_FIELDS = ("invoicing_enabled", "first_month", "due_days", "number_prefix", "payee_name", "bank_name",
                   "bank_account", "payment_notes")
CHARGE_CLAIM_TRIES = 3


class ChargesChanged(Exception):
    """The extra charges to bill were withdrawn or billed by someone else meanwhile."""


class SettingsConflict(Exception):
    """The settings were saved by someone else since the page was loaded."""


class FirstMonthLocked(Exception):
    """The first month billed would move before the bills already issued (``floor``: the earliest it may be)."""

    def __init__(self, floor):
        super().__init__(month_key(floor))
        self.floor = floor


# --- Settings ---------------------------------------------------------------------------------------------

def default_settings():
    return BillingSettings(invoicing_enabled=False, first_month=None, due_days=c.DEFAULT_DUE_DAYS, number_prefix="",
                           payee_name="", bank_name="", bank_account="", payment_notes="")


def settings_of():
    """The current base's billing settings (the defaults, unsaved, until the manager saves them)."""
    return db.session.scalar(select(BillingSettings)) or default_settings()


def invoicing_enabled():
    settings = settings_of()
    return bool(settings.invoicing_enabled and settings.first_month)


def has_bills():
    return db.session.scalar(select(exists().where(RentInvoice.id.is_not(None)))) or False


def first_month_floor(settings=None):
    """The earliest the first month billed may be set to, or None when no rent bill is issued yet.

    Once bills exist, moving the first month earlier would bill every lease for every month in between at the
    next run. The floor is the earliest month billed, or the first month saved when that is earlier still (it
    was in force when the bills were issued: keeping it changes nothing)."""
    earliest = db.session.scalar(select(func.min(RentInvoice.period)).where(RentInvoice.kind == KIND_RENT))
    if earliest is None:
        return None
    floor = parse_month(earliest)
    settings = settings if settings is not None else settings_of()
    if settings.first_month is not None and month_of(settings.first_month) < floor:
        floor = month_of(settings.first_month)
    return floor


def save_settings(values, *, expected_version, by):
    """Save the settings from ``values``; raises SettingsConflict when ``expected_version`` (the lock version
    the page was loaded at, None for never saved) is no longer the stored one, and FirstMonthLocked when the
    first month billed would move before ``first_month_floor``. A concurrent save that gets past the version
    check fails at the flush instead (StaleDataError, or IntegrityError for two first saves)."""
    settings = db.session.scalar(select(BillingSettings))
    stored_version = settings.lock_version if settings is not None else None
    if expected_version != stored_version:
        raise SettingsConflict()
    first_month = values.get("first_month")
    floor = first_month_floor(settings or default_settings()) if first_month is not None else None
    if floor is not None and month_of(first_month) < floor:
        raise FirstMonthLocked(floor)
    if settings is None:  # the first save: the row is made with the values (version 1)
        settings = default_settings()
        for field in SETTINGS_FIELDS:
            if field in values:
                setattr(settings, field, values[field])
        db.session.add(settings)
        db.session.flush()
        audit.record("billing.settings", settings, after=audit.snapshot(settings, SETTINGS_FIELDS), user=by)
        return set(SETTINGS_FIELDS)
    return audit.update(settings, values, SETTINGS_FIELDS, action="billing.settings", user=by)


def display_number(number, prefix=None):
    """A bill's number as printed (``numbering.display_number``); ``prefix`` defaults to the base's."""
    return numbering.display_number(number, settings_of().number_prefix if prefix is None else prefix)


# --- Issuing ----------------------------------------------------------------------------------------------

def begin_writing():
    """Take the database's write lock now: concurrent issuers queue here, and what this transaction reads from
    here on (the settings, the bills already issued, the numbers) is what the issuer before it committed. On
    SQLite ``BEGIN IMMEDIATE`` (``operator_app.sqlite``, which also keeps every savepoint inside the transaction,
    called or not); on PostgreSQL nothing, the number counter's row lock queues issuers."""
    sqlite.begin_immediate(db.session.connection())


def _leases_billable(first_month, last_month):
    """The leases (with their companies) that may run in a month from ``first_month`` to ``last_month``."""
    return db.session.scalars(
        select(Lease).join(TenantCompany, TenantCompany.id == Lease.company_id)
        .where(Lease.deleted_at.is_(None), TenantCompany.deleted_at.is_(None),
               Lease.starts_on <= month_end(last_month), Lease.ends_on >= first_month)
        .options(joinedload(Lease.company)).order_by(Lease.id)).all()


def due_bills(today):
    """[(lease, month first day)] of the rent bills due by ``today`` (the base's date) and not issued yet, in
    the order they are numbered: month by month, lease by lease. Empty when invoicing is off."""
    settings = settings_of()
    if not (settings.invoicing_enabled and settings.first_month):
        return []
    this_month = month_of(today)
    first_month = month_of(settings.first_month)
    if first_month > this_month:
        return []
    leases = _leases_billable(first_month, this_month)
    issued = set(db.session.execute(
        select(RentInvoice.lease_id, RentInvoice.period)
        .where(RentInvoice.kind == KIND_RENT, RentInvoice.period >= month_key(first_month))).all())
    due = []
    for lease in leases:
        for month in proration.months_running(proration.terms_of(lease), first_month, this_month):
            if (lease.id, month_key(month)) not in issued:
                due.append((lease, month))
    due.sort(key=lambda pair: (pair[1], pair[0].id))
    return due


def issue_due(base, today, by=None):
    """Issue every rent bill due by ``today`` (the base's own date) that is not issued yet; returns the bills
    issued. A bill another issuer claimed meanwhile is skipped, its number given back. Flushes."""
    issued = []
    due = due_bills(today)
    if not due:
        return issued
    begin_writing()
    settings = settings_of()
    for lease, month in due:
        invoice = _issue_month(lease, month, today, settings, by)
        if invoice is not None:
            issued.append(invoice)
    for company_id in sorted({invoice.company_id for invoice in issued}):
        settlement.settle(company_id)
    return issued


def _issue_month(lease, month, today, settings, by):
    """One lease's rent bill for ``month``, in a savepoint; None when another issuer has it already."""
    for _attempt in range(CHARGE_CLAIM_TRIES):
        try:
            with db.session.begin_nested():
                charges = pending_charges(lease, up_to=month)
                terms = proration.terms_of(lease)
                rent_lines = proration.month_lines(terms, month)
                invoice = _new_invoice(lease, today, settings, by, kind=KIND_RENT, period=month_key(month),
                                       period_start=rent_lines[0].starts_on, period_end=rent_lines[-1].ends_on)
                _add_lines(invoice, [_rent_line(line, terms.per_seat) for line in rent_lines], charges)
                db.session.flush()  # the claim: IntegrityError when (lease, period) is taken
                _claim_charges(charges, invoice)
                _record_issue(invoice, by)
            return invoice
        except IntegrityError:
            return None
        except ChargesChanged:
            continue  # a charge was withdrawn or billed meanwhile: take the pending ones again
    return None


def issue_supplementary(lease, today, *, by):
    """Bill the lease's pending extra charges now, on a bill of their own (no month). Returns the bill, or
    None when there is nothing to bill. Raises ChargesChanged when a charge was withdrawn or billed meanwhile
    (the caller rolls back). Flushes."""
    charges = pending_charges(lease)
    if not charges:
        return None
    begin_writing()
    invoice = _new_invoice(lease, today, settings_of(), by, kind=KIND_SUPPLEMENTARY, period=None,
                           period_start=parse_month(charges[0].month),
                           period_end=month_end(parse_month(charges[-1].month)))
    _add_lines(invoice, [], charges)
    db.session.flush()
    _claim_charges(charges, invoice)
    _record_issue(invoice, by)
    settlement.settle(invoice.company_id)
    return invoice


def _new_invoice(lease, today, settings, by, **values):
    invoice = RentInvoice(number=numbering.next_number(numbering.INVOICE), company_id=lease.company_id,
                          lease_id=lease.id, issued_on=today, due_on=today + timedelta(days=settings.due_days),
                          total_fen=0, notes="", issued_at=utcnow(), issued_by_id=by.id if by else None, **values)
    db.session.add(invoice)
    return invoice


@dataclass
class _Line:
    kind: str
    description: str
    amount_fen: int
    starts_on: object = None
    ends_on: object = None
    extra_charge_id: int | None = None


def _add_lines(invoice, rent_lines, charges):
    lines = list(rent_lines) + [_charge_line(charge) for charge in charges]
    for position, line in enumerate(lines, start=1):
        invoice.lines.append(InvoiceLine(position=position, kind=line.kind, description=line.description[:300],
                                         starts_on=line.starts_on, ends_on=line.ends_on,
                                         amount_fen=line.amount_fen, extra_charge_id=line.extra_charge_id))
    invoice.total_fen = sum(line.amount_fen for line in lines)


def _record_issue(invoice, by):
    audit.record("billing.invoice_issue", invoice, after={
        "number": invoice.number, "kind": invoice.kind, "company_id": invoice.company_id,
        "lease_id": invoice.lease_id, "period": invoice.period, "total_fen": invoice.total_fen,
        "due_on": invoice.due_on.isoformat()}, user=by)


def yuan_text(fen):
    """Fen as yuan with two decimals and thousands separators: 123456 → "1,234.56"."""
    fen = int(fen)
    return f"{fen // 100:,}.{fen % 100:02d}" if fen >= 0 else "-" + yuan_text(-fen)


def _bill_language():
    return force_locale(current_app.config["BABEL_DEFAULT_LOCALE"])


def describe_rent_line(line, per_seat):
    """The text of a rent line, e.g. "2026-02-15 至 2026-02-28 实际租金 80.00 元/m²·月 × 50.00 m² × 14/28"."""
    with _bill_language():
        values = {"start": line.starts_on.isoformat(), "end": line.ends_on.isoformat(), "days": line.days,
                  "month_days": line.month_days, "rate": yuan_text(line.rate_fen),
                  "quantity": str(int(line.quantity)) if per_seat else f"{line.quantity:.2f}"}
        if line.kind == c.LINE_FREE:
            return _("%(start)s to %(end)s rent-free period (%(days)d days)", **values)
        values["kind"] = str(c.LINE_RATE_NAMES[line.kind])
        if per_seat:
            return _("%(start)s to %(end)s %(kind)s %(rate)s yuan/seat·month × %(quantity)s seats × "
                     "%(days)d/%(month_days)d", **values)
        return _("%(start)s to %(end)s %(kind)s %(rate)s yuan/m²·month × %(quantity)s m² × %(days)d/%(month_days)d",
                 **values)


def _rent_line(line, per_seat):
    return _Line(line.kind, describe_rent_line(line, per_seat), line.amount_fen, line.starts_on, line.ends_on)


def _charge_line(charge):
    with _bill_language():
        text = _("%(month)s %(kind)s: %(description)s", month=charge.month,
                 kind=str(c.CHARGE_KINDS.get(charge.kind, charge.kind)), description=charge.description)
    return _Line(c.LINE_EXTRA, text, charge.amount_fen, extra_charge_id=charge.id)


def recomputed_rent_fen(invoice):
    """What the bill's month would charge for rent if issued now from the lease as it stands (None for a
    supplementary bill or a lease removed since): a difference means the lease changed after the bill (a
    move-out recorded later, a corrected rent), to be settled with a credit note or a charge."""
    if invoice.kind != KIND_RENT or invoice.lease is None or invoice.lease.deleted_at is not None:
        return None
    return proration.month_total_fen(proration.terms_of(invoice.lease), parse_month(invoice.period))


# --- Extra charges ----------------------------------------------------------------------------------------

def pending_charges(lease, up_to=None):
    """The lease's charges not billed and not withdrawn (for months up to ``up_to``), oldest month first."""
    statement = select(ExtraCharge).where(ExtraCharge.lease_id == lease.id, ExtraCharge.invoice_id.is_(None),
                                          ExtraCharge.deleted_at.is_(None))
    if up_to is not None:
        statement = statement.where(ExtraCharge.month <= month_key(up_to))
    return db.session.scalars(statement.order_by(ExtraCharge.month, ExtraCharge.id)).all()


def _claim_charges(charges, invoice):
    """Put ``charges`` on ``invoice`` unless one was withdrawn or billed meanwhile (then ChargesChanged: the
    conditional UPDATE is the guard, waiting on PostgreSQL for a concurrent biller's commit)."""
    if not charges:
        return
    ids = [charge.id for charge in charges]
    result = db.session.execute(
        update(ExtraCharge).where(ExtraCharge.id.in_(ids), ExtraCharge.invoice_id.is_(None),
                                  ExtraCharge.deleted_at.is_(None))
        .values(invoice_id=invoice.id).execution_options(synchronize_session=False))
    if result.rowcount != len(ids):
        raise ChargesChanged()
    for charge in charges:
        db.session.expire(charge, ["invoice_id"])


def add_charge(lease, values, *, by):
    """Add an extra charge to ``lease`` (``values``: month "YYYY-MM", kind, description, amount_fen > 0)."""
    charge = ExtraCharge(lease_id=lease.id, company_id=lease.company_id, month=values["month"], kind=values["kind"],
                         description=values["description"], amount_fen=values["amount_fen"],
                         created_by_id=by.id if by else None)
    db.session.add(charge)
    db.session.flush()
    audit.record("billing.charge_add", charge, after=audit.snapshot(
        charge, ("lease_id", "company_id", "month", "kind", "description", "amount_fen")), user=by)
    return charge


def withdraw_charge(charge, *, by):
    """Withdraw a charge not billed yet (kept, marked withdrawn). Returns False when it is billed already
    (or withdrawn meanwhile): a billed charge is corrected with a credit note, not withdrawn."""
    result = db.session.execute(
        update(ExtraCharge).where(ExtraCharge.id == charge.id, ExtraCharge.invoice_id.is_(None),
                                  ExtraCharge.deleted_at.is_(None))
        .values(deleted_at=utcnow()).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        return False
    db.session.expire(charge)
    audit.record("billing.charge_withdraw", charge, before=audit.snapshot(
        charge, ("lease_id", "month", "kind", "description", "amount_fen")), user=by)
    return True


def charge_list(*, pending, limit=200):
    """The base's charges, newest month first: pending ones (not billed, not withdrawn) or billed ones."""
    statement = select(ExtraCharge).where(ExtraCharge.deleted_at.is_(None)).options(
        joinedload(ExtraCharge.lease), joinedload(ExtraCharge.company))
    statement = statement.where(ExtraCharge.invoice_id.is_(None) if pending else ExtraCharge.invoice_id.is_not(None))
    return db.session.scalars(statement.order_by(ExtraCharge.month.desc(), ExtraCharge.id.desc())
                              .limit(limit)).all()


def billable_leases(today):
    """The base's leases that can take a charge: not removed, of a company on file, not ended more than a
    year before ``today``; by company name."""
    return db.session.scalars(
        select(Lease).join(TenantCompany, TenantCompany.id == Lease.company_id)
        .where(Lease.deleted_at.is_(None), TenantCompany.deleted_at.is_(None),
               Lease.ends_on >= add_months(today, -12))
        .options(joinedload(Lease.company)).order_by(TenantCompany.name, Lease.starts_on, Lease.id)).all()


# --- Reading ----------------------------------------------------------------------------------------------

def outstanding_column():
    """A correlated SQL expression of what a bill still owes: its total less what is allocated to it."""
    allocated = (select(cast(func.coalesce(func.sum(Allocation.amount_fen), 0), BigInteger))
                 .where(Allocation.invoice_id == RentInvoice.id).correlate(RentInvoice).scalar_subquery())
    return RentInvoice.total_fen - allocated  # (PostgreSQL sums bigints as numeric: cast back to whole fen)


def status_of(invoice, owed_fen, today):
    """What the bill asks now, as people read it (constants.STATUS_*)."""
    if invoice.total_fen == 0:
        return c.STATUS_NOTHING_DUE
    if owed_fen <= 0:
        return c.STATUS_PAID
    return c.STATUS_OVERDUE if invoice.due_on < today else c.STATUS_OPEN


def _filters(*, month=None, company_id=None, status=None, today=None):
    conditions = []
    if month is not None:
        month_on = parse_month(month)
        conditions.append((RentInvoice.period == month_key(month_on)) | and_(
            RentInvoice.period.is_(None), RentInvoice.issued_on >= month_on,
            RentInvoice.issued_on <= month_end(month_on)))
    if company_id is not None:
        conditions.append(RentInvoice.company_id == company_id)
    if status == c.STATUS_OPEN:
        conditions.append(outstanding_column() > 0)
    elif status == c.STATUS_OVERDUE:
        conditions += [outstanding_column() > 0, RentInvoice.due_on < today]
    elif status == c.STATUS_PAID:
        conditions.append(outstanding_column() <= 0)
    return conditions


def invoice_statement(**filters):
    """SELECT of (bill, outstanding fen) filtered by ``month`` ("YYYY-MM": a rent bill of that month, or a
    supplementary bill issued in it), ``company_id`` and ``status`` (``today`` tells overdue); newest first."""
    return (select(RentInvoice, outstanding_column().label("owed")).where(*_filters(**filters))
            .options(joinedload(RentInvoice.company))
            .order_by(RentInvoice.issued_on.desc(), RentInvoice.number.desc()))


def totals(**filters):
    """(count, total fen, outstanding fen) of the bills ``invoice_statement(**filters)`` selects."""
    count, total, owed = db.session.execute(
        select(func.count(RentInvoice.id), func.coalesce(func.sum(RentInvoice.total_fen), 0),
               func.coalesce(func.sum(outstanding_column()), 0)).where(*_filters(**filters))).one()
    return count, int(total), int(owed)


def company_invoices(company_id):
    """[(bill, outstanding fen)] of a company, newest first."""
    return db.session.execute(invoice_statement(company_id=company_id)).all()


# --- Leases with bills ------------------------------------------------------------------------------------

@register_lease_removal_check
def _refuse_removing_a_billed_lease(lease):
    """A lease with bills stays: removed and entered again, its months would be billed a second time. A wrong
    bill is corrected by a credit note, a wrong lease by editing it (the bill page shows the difference)."""
    if db.session.scalar(select(exists().where(RentInvoice.lease_id == lease.id))):
        return _("Bills have been issued for this lease, so it cannot be removed; if a bill is wrong, have the "
                 "base manager issue a credit note against it, or correct the lease.")
    return None
