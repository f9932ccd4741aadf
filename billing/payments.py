"""Money received from tenant companies: recording payments, issuing credit notes, a company's statement.

Each service locks the company's money (``settlement.lock_company``), writes, settles the company's bills,
flushes and audits; the request commits once.
"""
from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from operator_app import audit
from operator_app.extensions import db
from tenants import constants as tc
from tenants.models import TenantCompany

from . import numbering, settlement
from .models import Allocation, CreditNote, Payment, RentInvoice

METHOD_STRIPE = "stripe"
METHODS = {
    "bank_transfer": _l("Bank transfer"),
    "cash": _l("Cash"),
    "wechat": _l("WeChat (recorded by hand)"),
    "alipay": _l("Alipay (recorded by hand)"),
    "other": _l("Other"),
    METHOD_STRIPE: _l("Online (Stripe: card, Alipay, WeChat Pay)"),
}
#: What staff record by hand; Stripe payments are recorded by the webhook only.
MANUAL_METHODS = tuple(method for method in METHODS if method != METHOD_STRIPE)

PAYMENT_FIELDS = ("company_id", "amount_fen", "received_on", "method", "reference", "notes")
CREDIT_NOTE_FIELDS = ("number", "invoice_id", "company_id", "amount_fen", "reason", "issued_on")

audit.register_labels(
    actions={"payment.record": _l("Payment recorded"), "payment.stripe": _l("Online payment received"),
             "credit_note.issue": _l("Credit note issued"), "payment_link.create": _l("Payment link created"),
             "billing.stripe_account": _l("Stripe account for payment links changed")},
    objects={"Payment": _l("Payment"), "CreditNote": _l("Credit note"), "PaymentLink": _l("Payment link")},
    fields={"amount_fen": _l("Amount (fen)"), "received_on": _l("Date received"), "method": _l("Payment method"),
            "reference": _l("Reference"), "allocated": _l("Bills settled (number: fen)"),
            "credit_fen": _l("Left as credit (fen)"), "invoice_id": _l("Bill"),
            "stripe_account_id": _l("Stripe account"), "stripe_session_id": _l("Stripe Checkout session")},
    values={"method": METHODS},
)


class DuplicatePayment(Exception):
    """The same company, amount, date, method and reference are already recorded (a form sent twice)."""

    def __init__(self, existing):
        super().__init__(existing.id)
        self.existing = existing


class CreditNoteTooLarge(Exception):
    """A credit note for more than the bill's total less the credit notes already on it."""

    def __init__(self, limit_fen):
        super().__init__(limit_fen)
        self.limit_fen = limit_fen


def payer_companies():
    """The companies a payment can come from: every company of the base that is or was housed or admitted."""
    excluded = (tc.STATUS_APPLICANT, tc.STATUS_REJECTED)
    return db.session.scalars(select(TenantCompany).where(TenantCompany.deleted_at.is_(None),
                                                          TenantCompany.status.not_in(excluded))
                              .order_by(TenantCompany.name, TenantCompany.id)).all()


# --- Payments -------------------------------------------------------------------------------------------------

def find_duplicate(company_id, values):
    """An earlier payment with the same company, amount, date, method and reference, or None."""
    return db.session.scalar(select(Payment).where(
        Payment.company_id == company_id, Payment.amount_fen == values["amount_fen"],
        Payment.received_on == values["received_on"], Payment.method == values["method"],
        Payment.reference == values["reference"]).order_by(Payment.id).limit(1))


def record_payment(company, values, *, first=None, by, allow_duplicate=False):
    """Record money the company paid and settle its bills: ``first`` (one of its bills) first, then the oldest.
    What is more than the company owes stays as its credit for the next bills.

    ``values``: amount_fen (> 0), received_on, method, reference, notes. Returns the Payment.
    Raises DuplicatePayment unless ``allow_duplicate``; settlement.SettlementError when ``first`` is another
    company's bill.
    """
    if first is not None and first.company_id != company.id:
        raise settlement.SettlementError("the bill to settle first is another company's")
    # Locked before the check: two identical submissions queue, and the second sees the first.
    settlement.lock_company(company.id)
    if not allow_duplicate:
        existing = find_duplicate(company.id, values)
        if existing is not None:
            raise DuplicatePayment(existing)
    payment = Payment(company_id=company.id, recorded_by_id=by.id if by is not None else None,
                      amount_fen=values["amount_fen"], received_on=values["received_on"], method=values["method"],
                      reference=values.get("reference") or "", notes=values.get("notes") or "")
    db.session.add(payment)
    db.session.flush()
    made = settlement.settle(company.id, first=first)
    mine = [allocation for allocation in made if allocation.payment_id == payment.id]
    after = audit.snapshot(payment, PAYMENT_FIELDS)
    after["allocated"] = _allocated_text(mine)
    after["credit_fen"] = payment.amount_fen - sum(allocation.amount_fen for allocation in mine)
    audit.record("payment.stripe" if payment.method == METHOD_STRIPE else "payment.record", payment, after=after,
                 user=by)
    return payment


def _allocated_text(allocations):
    numbers = dict(db.session.execute(select(RentInvoice.id, RentInvoice.number).where(
        RentInvoice.id.in_([allocation.invoice_id for allocation in allocations]))).all()) if allocations else {}
    return [f"{numbers[allocation.invoice_id]}: {allocation.amount_fen}" for allocation in allocations]


@dataclass
class Settled:
    """Where a payment or credit note went: the bills it settled and what it leaves as credit."""

    source: object
    allocations: list  # [(RentInvoice, fen)]
    credit_fen: int


def settled_by(source):
    """The bills a payment or credit note settled, oldest allocation first, and its credit left."""
    column = Allocation.payment_id if isinstance(source, Payment) else Allocation.credit_note_id
    rows = db.session.execute(select(RentInvoice, Allocation.amount_fen)
                              .join(Allocation, Allocation.invoice_id == RentInvoice.id)
                              .where(column == source.id).order_by(Allocation.id)).all()
    allocations = [(invoice, amount) for invoice, amount in rows]
    return Settled(source, allocations, source.amount_fen - sum(amount for _, amount in allocations))


# --- Credit notes ---------------------------------------------------------------------------------------------

def credited_on(invoice):
    """The credit notes already issued on ``invoice``, in fen."""
    return db.session.scalar(select(settlement.total(CreditNote.amount_fen)).where(CreditNote.invoice_id == invoice.id))


def creditable(invoice):
    """The most a new credit note on ``invoice`` may be: its total less the credit notes already on it."""
    return invoice.total_fen - credited_on(invoice)


def issue_credit_note(invoice, *, amount_fen, reason, issued_on, by):
    """Reduce what ``invoice`` asks (红字冲减): a credit note numbered in the base's sequence, settled against its
    own bill first; on a bill already paid it becomes the company's credit. Returns the CreditNote.

    Raises CreditNoteTooLarge when ``amount_fen`` is more than the bill's total less earlier credit notes.
    """
    settlement.lock_company(invoice.company_id)  # two credit notes at once cannot both pass the limit
    limit = creditable(invoice)
    if amount_fen > limit:
        raise CreditNoteTooLarge(limit)
    note = CreditNote(number=numbering.next_number(numbering.CREDIT_NOTE), invoice_id=invoice.id,
                      company_id=invoice.company_id, amount_fen=amount_fen, reason=reason, issued_on=issued_on,
                      created_by_id=by.id if by is not None else None)
    db.session.add(note)
    db.session.flush()
    made = settlement.settle(invoice.company_id, first=invoice)
    mine = [allocation for allocation in made if allocation.credit_note_id == note.id]
    after = audit.snapshot(note, CREDIT_NOTE_FIELDS)
    after["allocated"] = _allocated_text(mine)
    after["credit_fen"] = note.amount_fen - sum(allocation.amount_fen for allocation in mine)
    audit.record("credit_note.issue", note, after=after, user=by)
    return note


# --- The company's statement ----------------------------------------------------------------------------------

BILL, CREDIT_NOTE, PAYMENT = "bill", "credit_note", "payment"
_KIND_ORDER = {BILL: 0, CREDIT_NOTE: 1, PAYMENT: 2}  # on one day: what was asked, then what reduced it


@dataclass
class StatementLine:
    on: date
    kind: str  # bill, credit_note, payment
    item: object  # the RentInvoice, CreditNote or Payment
    charge_fen: int  # what a bill asks
    credit_fen: int  # what a payment or credit note gives
    balance_fen: int = 0  # running: positive, owed; negative, paid ahead (credit)
    outstanding_fen: int | None = None  # a bill: still owed
    settled: list = field(default_factory=list)  # a payment or credit note: [(RentInvoice, fen)]
    left_fen: int = 0  # a payment or credit note: not yet used by any bill


@dataclass
class Statement:
    lines: list
    balance: settlement.Balance
    open_bills: list  # [(RentInvoice, owed fen)], oldest first


def company_statement(company_id):
    """The company's bills, payments and credit notes in date order with a running balance, in five queries."""
    bills = db.session.scalars(select(RentInvoice).where(RentInvoice.company_id == company_id)).all()
    payments = db.session.scalars(select(Payment).where(Payment.company_id == company_id)).all()
    notes = db.session.scalars(select(CreditNote).where(CreditNote.company_id == company_id)).all()
    owed = settlement.outstanding_by_invoice(bills)
    by_id = {bill.id: bill for bill in bills}
    settled = {}
    rows = db.session.execute(select(Allocation).where(Allocation.invoice_id.in_(list(by_id)))
                              .order_by(Allocation.id)).scalars().all() if by_id else []
    for allocation in rows:
        key = (PAYMENT, allocation.payment_id) if allocation.payment_id else (CREDIT_NOTE, allocation.credit_note_id)
        settled.setdefault(key, []).append((by_id[allocation.invoice_id], allocation.amount_fen))
    lines = [StatementLine(bill.issued_on, BILL, bill, bill.total_fen, 0, outstanding_fen=owed[bill.id])
             for bill in bills]
    for kind, sources in ((PAYMENT, payments), (CREDIT_NOTE, notes)):
        for source in sources:
            used = settled.get((kind, source.id), [])
            lines.append(StatementLine(source.received_on if kind == PAYMENT else source.issued_on, kind, source,
                                       0, source.amount_fen, settled=used,
                                       left_fen=source.amount_fen - sum(amount for _, amount in used)))
    lines.sort(key=lambda line: (line.on, _KIND_ORDER[line.kind], line.item.id))
    running = 0
    for line in lines:
        running += line.charge_fen - line.credit_fen
        line.balance_fen = running
    open_bills = sorted(((bill, owed[bill.id]) for bill in bills if owed[bill.id] > 0),
                        key=lambda pair: (pair[0].due_on, pair[0].number))
    balance = settlement.Balance(sum(amount for _, amount in open_bills),
                                 sum(line.left_fen for line in lines if line.kind != BILL))
    return Statement(lines, balance, open_bills)
