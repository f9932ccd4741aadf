"""Forms of money received: a payment, a credit note, the export's date range, the base's Stripe account.

Amounts are typed in yuan and kept in fen. Companies and bills are choices the view fills from the current base,
so an id of another base, or another company's bill, is never accepted.
"""
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, StopValidation, ValidationError

from operator_app.accounts.forms import required
from operator_app.forms import AppForm, FiniteDecimalField, sensible_date
from tenants.forms import choices
from tenants.rent_forms import to_fen

from .payment_links import ACCOUNT_ID
from .payments import MANUAL_METHODS, METHODS

MAX_YUAN = Decimal("100000000")  # 1亿元: far above any one payment of rent


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _int_or_none(value):
    """A posted id: only an empty choice is "none"; any other text that is not a number (the literal "None"
    included) is unreadable (ValueError: the field's error, with what was typed kept)."""
    if value is None or value == "":
        return None
    return int(value)


def chosen(message):
    """A select coerced by ``_int_or_none`` must have a value: its empty choice is refused with ``message``."""
    def check(form, field):
        if field.data is None:
            raise StopValidation(message)
    return check


def positive_yuan(form, field):
    """More than 0, at most MAX_YUAN, at most two decimals: one clear message for each."""
    if field.data is None:
        return
    if field.data <= 0:
        raise StopValidation(_l("The amount must be more than 0 yuan."))
    if field.data > MAX_YUAN:
        raise StopValidation(_l("Enter an amount of at most 100,000,000 yuan."))
    if field.data != field.data.quantize(Decimal("0.01")):
        raise StopValidation(_l("Enter the amount in yuan with at most two decimals."))


def amount_field(label):
    return FiniteDecimalField(label, places=2, validators=[InputRequired(message=_l("Enter the amount.")),
                                                           positive_yuan])


def date_field(label):
    return DateField(label, validators=[InputRequired(message=_l("Enter the date.")), sensible_date])


class PaymentForm(AppForm):
    """A payment received. ``today`` (the base's day) bounds the date; ``bill_companies`` maps each open bill
    offered to its company, so the bill to settle first must be the chosen company's."""

    company_id = SelectField(_l("Company"), coerce=_int_or_none,
                             validators=[chosen(_l("Choose the company that paid."))])
    amount_yuan = amount_field(_l("Amount received (yuan)"))
    received_on = date_field(_l("Date received"))
    method = SelectField(_l("Payment method"), choices=choices({key: METHODS[key] for key in MANUAL_METHODS}),
                         validators=[required()])
    reference = StringField(_l("Reference"), validators=[Length(max=120)], filters=[_strip],
                            description=_l("The bank slip or transaction number, or the receipt number for cash."))
    invoice_id = SelectField(_l("Bill to settle first"), coerce=_int_or_none, validators=[Optional()],
                             description=_l("Without one, the payment settles the company's oldest bills first."))
    notes = TextAreaField(_l("Notes"), validators=[Length(max=2000)])
    confirm_duplicate = BooleanField(_l("Record it anyway: it is a second payment of the same amount"))

    def __init__(self, *args, today=None, bill_companies=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.bill_companies = bill_companies or {}

    def validate_received_on(self, field):
        if self.today is not None and field.data and field.data > self.today:
            raise ValidationError(_l("A payment cannot be dated in the future."))

    def validate_invoice_id(self, field):
        if field.data is not None and self.company_id.data is not None and \
                self.bill_companies.get(field.data) != self.company_id.data:
            raise ValidationError(_l("This bill is not an open bill of the company chosen."))

    def payment_values(self):
        return {"amount_fen": to_fen(self.amount_yuan.data), "received_on": self.received_on.data,
                "method": self.method.data, "reference": self.reference.data or "", "notes": self.notes.data or ""}


class CreditNoteForm(AppForm):
    """A credit note on a bill: at most what the bill still allows (``limit_fen``), dated from its bill's issue
    to ``today``."""

    amount_yuan = amount_field(_l("Amount to credit (yuan)"))
    reason = TextAreaField(_l("Reason"), validators=[required(), Length(max=2000)], filters=[_strip],
                           description=_l("Printed on the credit note, e.g. rent reduced for the repair works in "
                                          "March."))
    issued_on = date_field(_l("Date"))

    def __init__(self, *args, invoice=None, limit_fen=None, today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.invoice, self.limit_fen, self.today = invoice, limit_fen, today

    def validate_amount_yuan(self, field):
        if self.limit_fen is not None and field.data is not None and to_fen(field.data) > self.limit_fen:
            if self.limit_fen <= 0:
                raise ValidationError(_l("This bill has been credited in full already."))
            raise ValidationError(_l("At most %(amount)s yuan: the bill's total less the credit notes already on "
                                     "it.", amount=f"{Decimal(self.limit_fen) / 100:,.2f}"))

    def validate_issued_on(self, field):
        if self.today is not None and field.data and field.data > self.today:
            raise ValidationError(_l("A credit note cannot be dated in the future."))
        if self.invoice is not None and field.data and field.data < self.invoice.issued_on:
            raise ValidationError(_l("A credit note cannot be dated before its bill (%(date)s).",
                                     date=self.invoice.issued_on.isoformat()))


class ExportForm(AppForm):
    """The export's optional date range (GET, no CSRF)."""

    class Meta:
        csrf = False

    start_on = DateField(_l("From"), validators=[Optional(), sensible_date])
    end_on = DateField(_l("To"), validators=[Optional(), sensible_date])

    def validate_end_on(self, field):
        if field.data and self.start_on.data and field.data < self.start_on.data:
            raise ValidationError(_l("The end of the range cannot be before its start."))


class StripeAccountForm(AppForm):
    stripe_account_id = StringField(_l("Stripe account id"), validators=[Length(max=64)], filters=[_strip],
                                    description=_l("The base's own Stripe account (acct_…), from the Stripe "
                                                   "dashboard's account settings. Leave empty to turn online "
                                                   "payment off."))

    def validate_stripe_account_id(self, field):
        if field.data and not ACCOUNT_ID.match(field.data):
            raise ValidationError(_l("Enter the account id as Stripe shows it: acct_ followed by letters and "
                                     "digits."))
