"""The demo base's rent bills: invoicing on since two months ago, each month's bills issued on its 1st, those
due paid by bank transfer or WeChat, except this month's of the first company and every bill of a late payer
(arrears of one, two and three months); one bill overpaid (credit), one reduced by a credit note, and this
month's electricity waiting for the next bill."""
from datetime import timedelta

from sqlalchemy import select

from operator_app.extensions import db
from operator_app.timeutil import add_months

from . import invoicing, payments
from .models import RentInvoice


def load_demo_billing(base, owner, companies, today):
    """Fill the billing of the demo ``base`` (within its scope) up to ``today``."""
    this_month = today.replace(day=1)
    first_month = add_months(this_month, -2)
    invoicing.save_settings({
        "invoicing_enabled": True, "first_month": first_month, "due_days": 15, "number_prefix": "JY",
        "payee_name": "太原晋阳创业服务有限公司", "bank_name": "中国工商银行太原晋源支行",
        "bank_account": "0502 1234 0920 0088 123",
        "payment_notes": "请在转账附言中注明账单编号。如需开具增值税发票，请联系基地服务大厅。"},
        expected_version=None, by=owner)
    month = first_month
    while month <= this_month:
        invoicing.issue_due(base, month, by=None)
        month = add_months(month, 1)
    late_payer = companies[3].id if len(companies) > 3 else None
    for company in companies:
        for invoice in _bills_of(company.id):
            if invoice.company_id == late_payer or invoice.due_on > today or (
                    company is companies[0] and invoice.period == this_month.strftime("%Y-%m")):
                continue  # the late payer has not paid since; the first company has not paid this month yet
            received = min(invoice.due_on - timedelta(days=3 + invoice.number % 7), today)
            amount = invoice.total_fen
            if company is companies[1] and invoice.period == first_month.strftime("%Y-%m"):
                amount += 50000  # paid ahead: ¥500.00 stays as credit for the next bill
            if amount <= 0:
                continue
            payments.record_payment(company, {
                "amount_fen": amount, "received_on": received,
                "method": "wechat" if invoice.number % 3 == 0 else "bank_transfer",
                "reference": f"{received:%Y%m%d}{invoice.number:06d}", "notes": ""}, by=owner)
    credited = next((bill for bill in _bills_of(companies[0].id) if bill.total_fen > 0), None)
    if credited is not None:
        payments.issue_credit_note(credited, amount_fen=min(20000, credited.total_fen),
                                   reason="空调维修期间停用一周，按约定减免部分租金",
                                   issued_on=credited.issued_on + timedelta(days=5),
                                   by=owner)
    lease = next(iter(invoicing.billable_leases(today)), None)
    if lease is not None:
        invoicing.add_charge(lease, {"month": this_month.strftime("%Y-%m"), "kind": "utilities",
                                     "description": f"{this_month.month} 月电费（按分表读数）", "amount_fen": 36850},
                             by=owner)


def _bills_of(company_id):
    return db.session.scalars(select(RentInvoice).where(RentInvoice.company_id == company_id)
                              .order_by(RentInvoice.number)).all()

