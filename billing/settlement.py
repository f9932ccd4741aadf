"""What a company owes and has in credit: bills are settled by payments and credit notes through allocations.

- A bill's outstanding amount is its total less what is allocated to it.
- A payment's or credit note's unallocated remainder is the company's credit (预收/余额).
- ``settle`` applies every remainder to open bills: a credit note first to its own bill, then everything
  oldest first (sources by date, bills by due date and number). Issuing a bill, recording a payment and issuing
  a credit note all end with it, so a company never has credit and an open bill at once.
- One company's money is settled by one transaction at a time (``lock_company``): two settlements at once
  (a payment typed at the desk while Stripe reports another) would otherwise both spend the same credit.

All amounts are integer fen; the sums are computed in SQL, for one company or for the whole base at once.
"""
from dataclasses import dataclass

from sqlalchemy import BigInteger, case, cast, func, select, union_all, update

from operator_app.extensions import db
from tenants.models import TenantCompany

from .models import Allocation, CreditNote, Payment, RentInvoice


class SettlementError(ValueError):
    """An allocation that would over-settle a bill, spend more than a source has left, or cross companies."""


def lock_company(company_id):
    """Hold the company's row until the transaction ends, so that its settlements queue one behind another.

    PostgreSQL: ``SELECT … FOR UPDATE`` (statements after it, in READ COMMITTED, see what the previous holder
    committed). SQLite: a no-op UPDATE, which takes the database's write lock before anything is read.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(TenantCompany.id).where(TenantCompany.id == company_id).with_for_update())
    else:
        db.session.execute(update(TenantCompany).where(TenantCompany.id == company_id)
                           .values(updated_at=TenantCompany.updated_at)
                           .execution_options(synchronize_session=False))


def total(column):
    """SUM(column), 0 when there are no rows, as a whole number: PostgreSQL sums BIGINT as NUMERIC, which Python
    would read as Decimal (and the audit log's JSON cannot hold)."""
    return cast(func.coalesce(func.sum(column), 0), BigInteger)


# --- One company ----------------------------------------------------------------------------------------------

def _allocated_to_invoices(invoice_ids):
    if not invoice_ids:
        return {}
    statement = (select(Allocation.invoice_id, total(Allocation.amount_fen))
                 .where(Allocation.invoice_id.in_(invoice_ids)).group_by(Allocation.invoice_id))
    return dict(db.session.execute(statement).all())


def outstanding_by_invoice(invoices):
    """{invoice id: fen still owed} for ``invoices``."""
    invoices = list(invoices)
    allocated = _allocated_to_invoices([invoice.id for invoice in invoices])
    return {invoice.id: invoice.total_fen - (allocated.get(invoice.id) or 0) for invoice in invoices}


def outstanding(invoice):
    return outstanding_by_invoice([invoice])[invoice.id]


def open_invoices(company_id):
    """The company's bills with something still owed, oldest first (due date, number), each with the amount."""
    invoices = db.session.scalars(select(RentInvoice).where(RentInvoice.company_id == company_id)
                                  .order_by(RentInvoice.due_on, RentInvoice.number)).all()
    owed = outstanding_by_invoice(invoices)
    return [(invoice, owed[invoice.id]) for invoice in invoices if owed[invoice.id] > 0]


def company_position(company_id):
    """(whether the company was ever billed, its open bills [(bill, fen owed)] oldest first, its Balance or None
    when never billed): what ``open_invoices`` and ``balance`` give, in two queries (the company file's panel)."""
    allocated = (select(total(Allocation.amount_fen)).where(Allocation.invoice_id == RentInvoice.id)
                 .correlate(RentInvoice).scalar_subquery())
    rows = db.session.execute(select(RentInvoice, allocated).where(RentInvoice.company_id == company_id)
                              .order_by(RentInvoice.due_on, RentInvoice.number)).all()
    if not rows:
        return False, [], None
    open_bills = [(invoice, invoice.total_fen - used) for invoice, used in rows if invoice.total_fen > used]
    return True, open_bills, Balance(sum(owed for _, owed in open_bills), _credit(company_id))


def _credit(company_id):
    """The unallocated remainders of the company's payments and credit notes, summed in one query."""
    parts = []
    for model, column in ((Payment, Allocation.payment_id), (CreditNote, Allocation.credit_note_id)):
        used = select(total(Allocation.amount_fen)).where(column == model.id).correlate(model).scalar_subquery()
        parts.append(select((model.amount_fen - used).label("left_fen")).where(model.company_id == company_id))
    left = union_all(*parts).subquery()
    return db.session.scalar(select(total(left.c.left_fen)).where(left.c.left_fen > 0))


def _used(source_column):
    return (select(source_column.label("source_id"), total(Allocation.amount_fen).label("used"))
            .where(source_column.is_not(None)).group_by(source_column).subquery())


def _remainders(model, source_column, company_id):
    """[(source, unallocated fen)] of the company's payments or credit notes with something left, oldest first."""
    used = _used(source_column)
    date_column = model.received_on if model is Payment else model.issued_on
    rows = db.session.execute(
        select(model, func.coalesce(used.c.used, 0))
        .outerjoin(used, used.c.source_id == model.id)
        .where(model.company_id == company_id)
        .order_by(date_column, model.id)).all()
    return [(source, source.amount_fen - used_fen) for source, used_fen in rows if source.amount_fen > used_fen]


def unallocated(source):
    """What of one payment or credit note is not (yet) allocated to any bill: the credit it leaves."""
    column = Allocation.payment_id if isinstance(source, Payment) else Allocation.credit_note_id
    used = db.session.scalar(select(total(Allocation.amount_fen)).where(column == source.id))
    return source.amount_fen - used


@dataclass
class Balance:
    owed_fen: int  # what the company's open bills still ask
    credit_fen: int  # paid or credited and not yet used by any bill

    @property
    def net_fen(self):
        """Owed less credit: positive, the company owes; negative, it has paid ahead."""
        return self.owed_fen - self.credit_fen


def balance(company_id, open_bills=None):
    """The company's Balance; ``open_bills``: its ``open_invoices()`` when the caller has them already."""
    owed = sum(amount for _, amount in (open_invoices(company_id) if open_bills is None else open_bills))
    credit = sum(amount for _, amount in _remainders(Payment, Allocation.payment_id, company_id))
    credit += sum(amount for _, amount in _remainders(CreditNote, Allocation.credit_note_id, company_id))
    return Balance(owed, credit)


# --- Allocating -----------------------------------------------------------------------------------------------

def _add(invoice, amount_fen, source):
    allocation = Allocation(invoice_id=invoice.id, amount_fen=amount_fen,
                            payment_id=source.id if isinstance(source, Payment) else None,
                            credit_note_id=source.id if isinstance(source, CreditNote) else None)
    db.session.add(allocation)
    return allocation


def allocate(invoice, amount_fen, *, payment=None, credit_note=None):
    """Allocate ``amount_fen`` of a payment or a credit note to ``invoice``; returns the Allocation.

    Locks the company. Raises SettlementError when the amount is not positive, is more than the bill still owes
    or the source has left, or when the source and the bill are not the same company's.
    """
    if (payment is None) == (credit_note is None):
        raise SettlementError("allocate needs exactly one of payment and credit_note")
    source = payment if payment is not None else credit_note
    db.session.flush()
    lock_company(invoice.company_id)  # the checks below hold until the transaction ends
    if source.company_id != invoice.company_id:
        raise SettlementError("a payment or credit note settles only its own company's bills")
    if not isinstance(amount_fen, int) or amount_fen <= 0:
        raise SettlementError("an allocation is a positive whole number of fen")
    if amount_fen > outstanding(invoice):
        raise SettlementError("the bill owes less than that")
    if amount_fen > unallocated(source):
        raise SettlementError("the payment or credit note has less than that left")
    allocation = _add(invoice, amount_fen, source)
    db.session.flush()
    return allocation


def settle(company_id, first=None):
    """Apply the company's unallocated payments and credit notes to its open bills; ``first`` (a bill of the
    company) is served before the others. Returns the allocations made. Locks the company, flushes; the caller
    commits."""
    db.session.flush()
    lock_company(company_id)
    bills = open_invoices(company_id)
    if first is not None:
        bills.sort(key=lambda pair: pair[0].id != first.id)  # stable: the others keep their order
    owed = {invoice.id: amount for invoice, amount in bills}
    made = []
    notes = _remainders(CreditNote, Allocation.credit_note_id, company_id)
    # A credit note settles its own bill first: it was issued to reduce that bill.
    for index, (note, left) in enumerate(notes):
        if owed.get(note.invoice_id, 0) > 0:
            amount = min(left, owed[note.invoice_id])
            made.append(_add(note.invoice, amount, note))
            owed[note.invoice_id] -= amount
            notes[index] = (note, left - amount)
    # Then every remainder, the oldest first, to the bills in order.
    sources = [[note.issued_on, 0, note.id, note, left] for note, left in notes if left > 0]
    sources += [[payment.received_on, 1, payment.id, payment, left]
                for payment, left in _remainders(Payment, Allocation.payment_id, company_id)]
    sources.sort(key=lambda source: source[:3])
    for invoice, _ in bills:
        for source in sources:
            if owed[invoice.id] <= 0:
                break
            left = source[4]
            if left <= 0:
                continue
            amount = min(left, owed[invoice.id])
            made.append(_add(invoice, amount, source[3]))
            owed[invoice.id] -= amount
            source[4] = left - amount
    db.session.flush()
    return made


# --- The whole base at once (arrears, export, statements): aggregate queries, no query per row ---------------

def allocated_subquery():
    """(invoice_id, allocated, by_payments, by_credit_notes) for every bill with an allocation."""
    return (select(Allocation.invoice_id.label("invoice_id"),
                   total(Allocation.amount_fen).label("allocated"),
                   total(case((Allocation.payment_id.is_not(None), Allocation.amount_fen), else_=0))
                   .label("by_payments"),
                   total(case((Allocation.credit_note_id.is_not(None), Allocation.amount_fen), else_=0))
                   .label("by_credit_notes"))
            .group_by(Allocation.invoice_id).subquery())


def open_bill_rows():
    """Every bill of the base with something owed: rows of (invoice id, number, company id, company name,
    issued_on, due_on, total_fen, owed_fen), in one query."""
    allocated = allocated_subquery()
    owed = (RentInvoice.total_fen - func.coalesce(allocated.c.allocated, 0)).label("owed_fen")
    statement = (select(RentInvoice.id, RentInvoice.number, RentInvoice.company_id, TenantCompany.name,
                        RentInvoice.issued_on, RentInvoice.due_on, RentInvoice.total_fen, owed)
                 .join(TenantCompany, TenantCompany.id == RentInvoice.company_id)
                 .outerjoin(allocated, allocated.c.invoice_id == RentInvoice.id)
                 .where(RentInvoice.total_fen - func.coalesce(allocated.c.allocated, 0) > 0)
                 .order_by(RentInvoice.due_on, RentInvoice.number))
    return db.session.execute(statement).all()


def unallocated_subquery(model):
    """(id, unallocated) of every payment or credit note of the base."""
    source_column = Allocation.payment_id if model is Payment else Allocation.credit_note_id
    used = _used(source_column)
    return (select(model.id.label("id"), model.company_id.label("company_id"),
                   (model.amount_fen - func.coalesce(used.c.used, 0)).label("unallocated"))
            .outerjoin(used, used.c.source_id == model.id).subquery())


def credit_by_company():
    """{company id: credit fen} of every company of the base with credit, in two queries."""
    credit = {}
    for model in (Payment, CreditNote):
        left = unallocated_subquery(model)
        rows = db.session.execute(select(left.c.company_id, total(left.c.unallocated))
                                  .where(left.c.unallocated > 0).group_by(left.c.company_id)).all()
        for company_id, amount in rows:
            credit[company_id] = credit.get(company_id, 0) + amount
    return credit
