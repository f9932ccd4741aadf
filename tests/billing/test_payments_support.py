"""Helpers of the money-received tests: bills made directly (until the issuing service lands: a RentInvoice
numbered from the base's sequence, then settled, as issuing does), payments and credit notes through the
services, the state of a company's money, the Chinese of a message, and a counter of SQL statements."""
import html
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from flask_babel import gettext
from sqlalchemy import event, select

from billing import numbering, payments, settlement
from billing.models import Allocation, CreditNote, Payment, RentInvoice
from operator_app.accounts.models import User
from operator_app.db import scoped_to
from operator_app.extensions import db


def make_bill(app, base, company_id, total_fen, *, issued_on=date(2026, 3, 1), due_on=None, period=None,
              settle=True):
    """A bill of ``total_fen`` to the company, numbered in the base's sequence; returns its id."""
    with app.app_context(), scoped_to(base.id):
        bill = RentInvoice(number=numbering.next_number(numbering.INVOICE), kind="supplementary",
                           company_id=company_id, period=period, issued_on=issued_on,
                           due_on=due_on or issued_on + timedelta(days=15), total_fen=total_fen)
        db.session.add(bill)
        db.session.flush()
        if settle:
            settlement.settle(company_id)
        db.session.commit()
        return bill.id


def pay(app, base, company_id, amount_fen, *, received_on=date(2026, 3, 10), first_id=None,
        method="bank_transfer", reference="", allow_duplicate=True):
    """A payment recorded by the base's owner through the service; returns its id."""
    with app.test_request_context(), scoped_to(base.id):
        from tenants.models import TenantCompany

        company = db.session.get(TenantCompany, company_id)
        first = db.session.get(RentInvoice, first_id) if first_id else None
        payment = payments.record_payment(
            company, {"amount_fen": amount_fen, "received_on": received_on, "method": method,
                      "reference": reference, "notes": ""},
            first=first, by=db.session.get(User, base.owner.id), allow_duplicate=allow_duplicate)
        db.session.commit()
        return payment.id


def credit(app, base, invoice_id, amount_fen, *, issued_on=date(2026, 3, 20), reason="维修期间减免"):
    """A credit note on the bill issued by the owner through the service; returns its id."""
    with app.test_request_context(), scoped_to(base.id):
        note = payments.issue_credit_note(db.session.get(RentInvoice, invoice_id), amount_fen=amount_fen,
                                          reason=reason, issued_on=issued_on,
                                          by=db.session.get(User, base.owner.id))
        db.session.commit()
        return note.id


def owed(app, base, invoice_id):
    with app.app_context(), scoped_to(base.id):
        return settlement.outstanding(db.session.get(RentInvoice, invoice_id))


def balance(app, base, company_id):
    with app.app_context(), scoped_to(base.id):
        return settlement.balance(company_id)


def allocations(app, base):
    """[(invoice id, payment id, credit note id, fen)] of the base, in the order made."""
    with app.app_context(), scoped_to(base.id):
        return [tuple(row) for row in db.session.execute(
            select(Allocation.invoice_id, Allocation.payment_id, Allocation.credit_note_id, Allocation.amount_fen)
            .order_by(Allocation.id)).all()]


def count(app, base, model):
    with app.app_context(), scoped_to(base.id):
        return len(db.session.scalars(select(model.id)).all())


def zh(app, msgid, **variables):
    """The message as a Chinese page shows it (the catalogue's translation, or the msgid until it has one)."""
    with app.test_request_context():
        return gettext(msgid, **variables)


def text_of(response):
    return html.unescape(response.get_data(as_text=True))


@contextmanager
def counting_queries(app):
    """Counts the SQL statements run in the block: ``with counting_queries(app) as counted: …; counted[0]``."""
    counted = [0]

    def before(*args, **kwargs):
        counted[0] += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield counted
    finally:
        event.remove(engine, "before_cursor_execute", before)


@pytest.fixture
def money(factory):
    """A base with a company whose contact is the base's tenant user, and a second company."""
    base = factory.base("alpha")
    company_id = factory.company(base, name="甲科技有限公司")
    other_id = factory.company(base, name="乙科技有限公司")
    factory.link_tenant(base, company_id)
    return base, company_id, other_id


__all__ = ["make_bill", "pay", "credit", "owed", "balance", "allocations", "count", "zh", "text_of",
           "counting_queries", "money", "Payment", "CreditNote"]
