"""Vocabularies of rent billing: bill kinds, line kinds, extra-charge kinds, bill statuses, the audit labels.

Labels are lazy translations (English msgids, Chinese in the zh_CN catalogue: 账单, 租金, 免租期, 优惠期, 附加费用).
"""
from flask_babel import lazy_gettext as _l

from operator_app import audit

from .models import KIND_RENT, KIND_SUPPLEMENTARY

INVOICE_KINDS = {KIND_RENT: _l("Monthly rent bill"), KIND_SUPPLEMENTARY: _l("Supplementary bill")}

# A bill's lines: a stretch of days at one rent (free, discounted, actual), or an extra charge.
LINE_FREE, LINE_DISCOUNTED, LINE_RENT, LINE_EXTRA = "free", "discounted", "rent", "extra"
LINE_KINDS = {LINE_FREE: _l("Rent-free period"), LINE_DISCOUNTED: _l("Discounted rent"),
              LINE_RENT: _l("Actual rent"), LINE_EXTRA: _l("Extra charge")}
RENT_LINE_KINDS = (LINE_FREE, LINE_DISCOUNTED, LINE_RENT)
# The rent's name inside a line's text ("2026-02-15 至 2026-02-28 实际租金 80.00 元/m²·月 × …").
LINE_RATE_NAMES = {LINE_DISCOUNTED: _l("discounted rent"), LINE_RENT: _l("actual rent")}

CHARGE_UTILITIES, CHARGE_SERVICES, CHARGE_OTHER = "utilities", "services", "other"
CHARGE_KINDS = {CHARGE_UTILITIES: _l("Utilities (water, electricity)"), CHARGE_SERVICES: _l("Service fees"),
                CHARGE_OTHER: _l("Other")}

# What a bill still asks, as people read it; "overdue" is open past its due date, "nothing_due" a bill of 0
# (a month entirely rent-free still gets its bill: it documents the free month).
STATUS_OPEN, STATUS_OVERDUE, STATUS_PAID, STATUS_NOTHING_DUE = "open", "overdue", "paid", "nothing_due"
STATUS_LABELS = {STATUS_OPEN: _l("Awaiting payment"), STATUS_OVERDUE: _l("Payment overdue"),
                 STATUS_PAID: _l("Paid"), STATUS_NOTHING_DUE: _l("Nothing due")}
STATUS_COLOURS = {STATUS_OPEN: "warning", STATUS_OVERDUE: "danger", STATUS_PAID: "success",
                  STATUS_NOTHING_DUE: "secondary"}
# The list's status filter: open (something still owed, overdue included), overdue, paid (nothing owed).
STATUS_FILTERS = {STATUS_OPEN: _l("Awaiting payment"), STATUS_OVERDUE: _l("Payment overdue"),
                  STATUS_PAID: _l("Paid")}

DEFAULT_DUE_DAYS = 15
MAX_DUE_DAYS = 365
MAX_CHARGE_YUAN = 10_000_000  # one extra charge: far above any real utilities or services bill

audit.register_labels(
    actions={"billing.invoice_issue": _l("Bill issued"), "billing.charge_add": _l("Extra charge added"),
             "billing.charge_withdraw": _l("Extra charge withdrawn"),
             "billing.settings": _l("Billing settings changed")},
    objects={"RentInvoice": _l("Rent bill"), "ExtraCharge": _l("Extra charge"),
             "BillingSettings": _l("Billing settings")},
    fields={"invoicing_enabled": _l("Bills issued"), "first_month": _l("First month billed"),
            "due_days": _l("Days until due"), "number_prefix": _l("Number prefix"), "payee_name": _l("Payee"),
            "bank_name": _l("Bank"), "bank_account": _l("Account number"), "payment_notes": _l("Payment notes"),
            "number": _l("Number"), "period": _l("Month"), "total_fen": _l("Total (fen)"),
            "due_on": _l("Due date"), "amount_fen": _l("Amount (fen)"), "month": _l("Month"),
            "description": _l("Description")})
