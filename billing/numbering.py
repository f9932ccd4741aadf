"""Bill and credit-note numbers: per base, from 1, without gaps.

The number is taken by one ``UPDATE … SET last_number = last_number + 1 … RETURNING`` in the transaction that
uses it. The row stays locked until that transaction ends (PostgreSQL row lock, SQLite's write lock), so
concurrent issuers queue; a rollback returns the number with everything else. The unique (base, number) of
the numbered tables is the last guard.
"""
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from operator_app.extensions import db

from .models import InvoiceSequence

INVOICE, CREDIT_NOTE = "invoice", "credit_note"


def next_number(kind):
    """The next number of ``kind`` (INVOICE or CREDIT_NOTE) in the current base, reserved until commit."""
    number = _increment(kind)
    if number is None:
        _create_sequence(kind)
        number = _increment(kind)
    return number


def _increment(kind):
    statement = (update(InvoiceSequence).where(InvoiceSequence.kind == kind)
                 .values(last_number=InvoiceSequence.last_number + 1)
                 .returning(InvoiceSequence.last_number)
                 .execution_options(synchronize_session=False))
    return db.session.execute(statement).scalar_one_or_none()


def _create_sequence(kind):
    """The base's first number of ``kind``: insert its counter at 0 (a concurrent first issuer may win)."""
    try:
        with db.session.begin_nested():
            db.session.add(InvoiceSequence(kind=kind, last_number=0))
    except IntegrityError:
        pass  # another transaction created it first; the increment waits for it


def display_number(number, prefix=""):
    """A bill's or credit note's number as printed on it and in the lists: the base's prefix, then the number
    (prefix "ZD-", number 42: "ZD-42")."""
    return f"{prefix or ''}{number}"


def last_number(kind):
    """The last number given (0 before the first)."""
    return db.session.scalar(select(InvoiceSequence.last_number).where(InvoiceSequence.kind == kind)) or 0
