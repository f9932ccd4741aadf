"""What a company owes and has in credit: bills are settled by payments and credit notes through allocations.

- A bill's outstanding amount is its total less what is allocated to it.
- A payment's or credit note's unallocated remainder is the company's credit.
- ``settle`` applies every remainder to open bills: a credit note first to its own bill, then everything
  oldest first (bills by due date and number). Issuing a bill, recording a payment and issuing a credit note
  all end with it, so a company never has credit and an open bill at once.

All amounts are integer fen; the sums are computed in SQL.
"""
from dataclasses import dataclass

from sqlalchemy import func, select

from operator_app.extensions import db

from .models import Allocation, CreditNote, Payment, RentInvoice


def _allocated_to_invoices(invoice_ids=None):
    statement = select(Allocation.invoice_id, func.sum(Allocation.amount_fen)).group_by(Allocation.invoice_id)
    if invoice_ids is not None:
        statement = statement.where(Allocation.invoice_id.in_(invoice_ids))
    return dict(db.session.execute(statement).all())


def outstanding_by_invoice(invoices):
    """{invoice id: fen still owed} for ``invoices``."""
    invoices = list(invoices)
    allocated = _allocated_to_invoices([invoice.id for invoice in invoices])
    return {invoice.id: invoice.total_fen - (allocated.get(invoice.id) or 0) for invoice in invoices}


def outstanding(invoice):
    return outstanding_by_invoice([invoice])[invoice.id]


def open_invoices(company_id):
    """The company's bills with something still owed, oldest first, each with the amount owed."""
    invoices = db.session.scalars(select(RentInvoice).where(RentInvoice.company_id == company_id)
                                  .order_by(RentInvoice.due_on, RentInvoice.number)).all()
    owed = outstanding_by_invoice(invoices)
    return [(invoice, owed[invoice.id]) for invoice in invoices if owed[invoice.id] > 0]


def _remainders(model, source_column, company_id):
    """[(source, unallocated fen)] of the company's payments or credit notes with something left, oldest first."""
    used = (select(source_column, func.sum(Allocation.amount_fen).label("used"))
            .where(source_column.is_not(None)).group_by(source_column).subquery())
    date_column = model.received_on if model is Payment else model.issued_on
    rows = db.session.execute(
        select(model, func.coalesce(used.c.used, 0))
        .outerjoin(used, used.c[source_column.key] == model.id)
        .where(model.company_id == company_id)
        .order_by(date_column, model.id)).all()
    return [(source, source.amount_fen - used_fen) for source, used_fen in rows if source.amount_fen > used_fen]


@dataclass
class Balance:
    owed_fen: int  # what the company's open bills still ask
    credit_fen: int  # paid or credited and not yet used by any bill


def balance(company_id):
    owed = sum(amount for _, amount in open_invoices(company_id))
    credit = sum(amount for _, amount in _remainders(Payment, Allocation.payment_id, company_id))
    credit += sum(amount for _, amount in _remainders(CreditNote, Allocation.credit_note_id, company_id))
    return Balance(owed, credit)


def allocate(invoice, amount_fen, *, payment=None, credit_note=None):
    """Allocate ``amount_fen`` of a payment or a credit note to ``invoice``; returns the Allocation."""
    allocation = Allocation(invoice_id=invoice.id, amount_fen=amount_fen,
                            payment_id=payment.id if payment is not None else None,
                            credit_note_id=credit_note.id if credit_note is not None else None)
    db.session.add(allocation)
    return allocation


def settle(company_id, first=None):
    """Apply the company's unallocated payments and credit notes to its open bills; ``first`` (a bill) is
    served before the others. Returns the allocations made. Flushes; the caller commits."""
    db.session.flush()
    bills = open_invoices(company_id)
    if first is not None:
        bills.sort(key=lambda pair: pair[0].id != first.id)
    owed = {invoice.id: amount for invoice, amount in bills}
    made = []
    notes = _remainders(CreditNote, Allocation.credit_note_id, company_id)
    payments = _remainders(Payment, Allocation.payment_id, company_id)
    # A credit note settles its own bill first.
    for index, (note, left) in enumerate(notes):
        if owed.get(note.invoice_id, 0) > 0:
            amount = min(left, owed[note.invoice_id])
            made.append(allocate(note.invoice, amount, credit_note=note))
            owed[note.invoice_id] -= amount
            notes[index] = (note, left - amount)
    sources = [(note, left, "credit_note") for note, left in notes if left > 0]
    sources += [(payment, left, "payment") for payment, left in payments]
    for invoice, _ in bills:
        for index, (source, left, kind) in enumerate(sources):
            if owed[invoice.id] <= 0:
                break
            if left <= 0:
                continue
            amount = min(left, owed[invoice.id])
            made.append(allocate(invoice, amount, **{kind: source}))
            owed[invoice.id] -= amount
            sources[index] = (source, left - amount, kind)
    db.session.flush()
    return made
