"""The accountant's workbook: bills, payments and credit notes of a base (optionally of a date range) as xlsx.

Amounts are numbers in yuan with two decimals; text people typed (names, references, reasons) is always
written as text, never as a formula or a link. Built from a handful of aggregate queries, none per row.
"""
from datetime import datetime
from decimal import Decimal
from io import BytesIO

import xlsxwriter
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from operator_app.extensions import db
from tenants.models import TenantCompany

from .models import Allocation, CreditNote, Payment, RentInvoice
from .invoicing import display_number, settings_of
from .payments import METHODS
from .settlement import allocated_subquery, unallocated_subquery


def _yuan(fen):
    return float(Decimal(int(fen)) / 100)


def _day(value):
    return datetime(value.year, value.month, value.day)


def _text(sheet, row, column, value):
    """Text people typed, as text (never a formula or a link); an empty value leaves the cell empty."""
    if value:
        sheet.write_string(row, column, value)


def _in_range(column, start, end):
    conditions = []
    if start is not None:
        conditions.append(column >= start)
    if end is not None:
        conditions.append(column <= end)
    return conditions


def _bill_rows(start, end):
    """Each bill with the credit notes issued on it, and what credit notes and payments settled of it (a credit
    note becomes the company's credit: what it settles may be another bill, so the two differ)."""
    allocated = allocated_subquery()
    issued_notes = (select(CreditNote.invoice_id, func.sum(CreditNote.amount_fen).label("amount_fen"))
                    .group_by(CreditNote.invoice_id).subquery())
    return db.session.execute(
        select(RentInvoice.number, TenantCompany.name, TenantCompany.uscc, RentInvoice.period,
               RentInvoice.issued_on, RentInvoice.due_on, RentInvoice.total_fen,
               func.coalesce(issued_notes.c.amount_fen, 0),
               func.coalesce(allocated.c.by_credit_notes, 0), func.coalesce(allocated.c.by_payments, 0),
               func.coalesce(allocated.c.allocated, 0))
        .join(TenantCompany, TenantCompany.id == RentInvoice.company_id)
        .outerjoin(allocated, allocated.c.invoice_id == RentInvoice.id)
        .outerjoin(issued_notes, issued_notes.c.invoice_id == RentInvoice.id)
        .where(*_in_range(RentInvoice.issued_on, start, end))
        .order_by(RentInvoice.number)).all()


def _settled(source_model, start, end, prefix):
    """{payment or credit note id: "bill (yuan)、…"} for the sources in the range, in one query."""
    source_column = Allocation.payment_id if source_model is Payment else Allocation.credit_note_id
    date_column = Payment.received_on if source_model is Payment else CreditNote.issued_on
    rows = db.session.execute(
        select(source_column, RentInvoice.number, Allocation.amount_fen)
        .join(RentInvoice, RentInvoice.id == Allocation.invoice_id)
        .join(source_model, source_model.id == source_column)
        .where(*_in_range(date_column, start, end))
        .order_by(source_column, Allocation.id)).all()
    settled = {}
    for source_id, number, amount in rows:
        settled.setdefault(source_id, []).append(f"{display_number(number, prefix)}（{_yuan(amount):.2f}）")
    return {source_id: "、".join(parts) for source_id, parts in settled.items()}


def _payment_rows(start, end):
    left = unallocated_subquery(Payment)
    return db.session.execute(
        select(Payment.id, Payment.received_on, TenantCompany.name, Payment.amount_fen, Payment.method,
               Payment.reference, left.c.unallocated, Payment.notes)
        .join(TenantCompany, TenantCompany.id == Payment.company_id)
        .join(left, left.c.id == Payment.id)
        .where(*_in_range(Payment.received_on, start, end))
        .order_by(Payment.received_on, Payment.id)).all()


def _credit_note_rows(start, end):
    left = unallocated_subquery(CreditNote)
    bill = aliased(RentInvoice)
    return db.session.execute(
        select(CreditNote.id, CreditNote.number, CreditNote.issued_on, TenantCompany.name, bill.number,
               CreditNote.amount_fen, CreditNote.reason, left.c.unallocated)
        .join(TenantCompany, TenantCompany.id == CreditNote.company_id)
        .join(bill, bill.id == CreditNote.invoice_id)
        .join(left, left.c.id == CreditNote.id)
        .where(*_in_range(CreditNote.issued_on, start, end))
        .order_by(CreditNote.number)).all()


def accounts_xlsx(base, *, start=None, end=None, today):
    """The workbook as bytes: sheets of bills (issued in the range), payments (received in it), credit notes
    (issued in it) and a sheet saying what the figures mean."""
    prefix = settings_of().number_prefix
    output = BytesIO()
    workbook = xlsxwriter.Workbook(output, {"in_memory": True, "strings_to_formulas": False,
                                            "strings_to_urls": False, "strings_to_numbers": False})
    bold = workbook.add_format({"bold": True})
    money = workbook.add_format({"num_format": "#,##0.00"})
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})

    bills = workbook.add_worksheet(_("Bill list"))
    bills.write_row(0, 0, [_("Number"), _("Company"), _("Unified social credit code"), _("Bill period"), _("Issued"),
                           _("Due"), _("Total"), _("Credit notes issued on this bill"), _("Settled by credit notes"),
                           _("Amount paid"), _("Outstanding")], bold)
    for index, row in enumerate(_bill_rows(start, end), start=1):
        number, name, uscc, period, issued_on, due_on, total, noted, by_credit, paid, allocated = row
        bills.write_string(index, 0, display_number(number, prefix))
        bills.write_string(index, 1, name)
        _text(bills, index, 2, uscc)
        _text(bills, index, 3, period)
        bills.write_datetime(index, 4, _day(issued_on), day)
        bills.write_datetime(index, 5, _day(due_on), day)
        for column, fen in ((6, total), (7, noted), (8, by_credit), (9, paid), (10, total - allocated)):
            bills.write_number(index, column, _yuan(fen), money)
    bills.set_column(0, 0, 12)
    bills.set_column(1, 1, 30)
    bills.set_column(2, 2, 22)
    bills.set_column(3, 10, 12)
    bills.freeze_panes(1, 2)

    payments = workbook.add_worksheet(_("Payments"))
    payments.write_row(0, 0, [_("Date received"), _("Company"), _("Amount"), _("Payment method"), _("Reference"),
                              _("Bills settled (yuan)"), _("Unallocated credit"), _("Notes")], bold)
    settled = _settled(Payment, start, end, prefix)
    for index, row in enumerate(_payment_rows(start, end), start=1):
        payment_id, received_on, name, amount, method, reference, left, notes = row
        payments.write_datetime(index, 0, _day(received_on), day)
        payments.write_string(index, 1, name)
        payments.write_number(index, 2, _yuan(amount), money)
        payments.write_string(index, 3, str(METHODS.get(method, method)))
        _text(payments, index, 4, reference)
        _text(payments, index, 5, settled.get(payment_id))
        payments.write_number(index, 6, _yuan(left), money)
        _text(payments, index, 7, notes)
    payments.set_column(0, 0, 12)
    payments.set_column(1, 1, 30)
    payments.set_column(2, 4, 16)
    payments.set_column(5, 5, 36)
    payments.set_column(6, 7, 16)
    payments.freeze_panes(1, 2)

    notes_sheet = workbook.add_worksheet(_("Credit notes"))
    notes_sheet.write_row(0, 0, [_("Number"), _("Date"), _("Company"), _("On bill"), _("Amount"), _("Reason"),
                                 _("Bills settled (yuan)"), _("Unallocated credit")], bold)
    settled = _settled(CreditNote, start, end, prefix)
    for index, row in enumerate(_credit_note_rows(start, end), start=1):
        note_id, number, issued_on, name, bill, amount, reason, left = row
        notes_sheet.write_number(index, 0, number)
        notes_sheet.write_datetime(index, 1, _day(issued_on), day)
        notes_sheet.write_string(index, 2, name)
        notes_sheet.write_string(index, 3, display_number(bill, prefix))
        notes_sheet.write_number(index, 4, _yuan(amount), money)
        _text(notes_sheet, index, 5, reason)
        _text(notes_sheet, index, 6, settled.get(note_id))
        notes_sheet.write_number(index, 7, _yuan(left), money)
    notes_sheet.set_column(0, 1, 12)
    notes_sheet.set_column(2, 2, 30)
    notes_sheet.set_column(3, 4, 12)
    notes_sheet.set_column(5, 6, 36)
    notes_sheet.set_column(7, 7, 16)
    notes_sheet.freeze_panes(1, 0)

    about = workbook.add_worksheet(_("About"))
    lines = [
        (_("Base"), base.name),
        (_("From"), start.isoformat() if start else _("the first record")),
        (_("To"), end.isoformat() if end else _("the last record")),
        (_("Exported on"), today.isoformat()),
        (_("Range"), _("Bills by date of issue, payments by date received, credit notes by date of issue.")),
        (_("Figures"), _("Settled by credit notes, paid, outstanding and unallocated credit are as on the day of "
                         "the export: they are what credit notes (the company's credit from them) and payments "
                         "settled of each bill, so total = settled by credit notes + paid + outstanding. Credit "
                         "notes issued on this bill is the sum of the credit notes issued against the bill, "
                         "whichever bills their credit settled.")),
    ]
    for index, (label, value) in enumerate(lines):
        about.write_string(index, 0, label, bold)
        about.write_string(index, 1, value)
    about.set_column(0, 0, 14)
    about.set_column(1, 1, 100)
    workbook.close()
    return output.getvalue()
