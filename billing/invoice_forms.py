"""Forms of rent billing: the billing settings, an extra charge, the bills list's filters. Money is typed in
yuan and kept in fen; months are typed as "YYYY-MM" (the browser's month picker)."""
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, Form, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import (DataRequired, InputRequired, Length, NumberRange, Optional, StopValidation,
                                ValidationError)

from operator_app.accounts.forms import required
from operator_app.forms import AppForm, FiniteDecimalField, at_most_two_decimals
from operator_app.timeutil import add_months, month_key, month_of, parse_month
from tenants.forms import choices
from tenants.rent_forms import to_fen

from . import constants as c

MONTH_HELP = _l("A month as YYYY-MM, e.g. 2026-03.")


def valid_month(form, field):
    """A month "YYYY-MM" between 2000 and 2100, kept as its text; an empty optional field passes."""
    text = (field.data or "").strip()
    if not text:
        return
    month_on = parse_month(text)
    if month_on is None or len(text) != 7:
        raise StopValidation(_l("Enter a month as YYYY-MM, e.g. 2026-03."))
    field.data = month_key(month_on)


def first_month_locked_message(floor):
    return _l("Bills have been issued from %(month)s: the first month billed cannot be earlier, or every month "
              "before it would be billed at the next run.", month=month_key(floor))


def choice_values(field):
    """The values a select offers (its choices are tuples or WTForms SelectChoice)."""
    return {str(choice.value if hasattr(choice, "value") else choice[0]) for choice in field.choices}


def one_of(message):
    """A select's value must be one of its choices (WTForms' own check answers in English)."""
    def check(form, field):
        allowed = choice_values(field)
        if field.data in (None, "") or str(field.data) not in allowed:
            raise StopValidation(message)
    return check


class BillingSettingsForm(AppForm):
    """The manager's billing settings. ``lock_version`` is the row's version when the page was loaded
    (empty: never saved): a save over someone else's newer one is refused, not silently overwritten."""

    invoicing_enabled = BooleanField(_l("Issue monthly rent bills"))
    first_month = StringField(_l("First month billed"), validators=[valid_month], description=_l(
        "Bills are issued from this month on, never for earlier months (otherwise turning billing on would bill "
        "every month since each lease began). Format YYYY-MM."))
    due_days = IntegerField(_l("Days until due"), default=c.DEFAULT_DUE_DAYS, validators=[
        InputRequired(_l("Enter a number of days.")),
        NumberRange(min=0, max=c.MAX_DUE_DAYS, message=_l("Enter a number of days from 0 to 365."))],
        description=_l("A bill falls due this many days after it is issued."))
    number_prefix = StringField(_l("Number prefix"), validators=[Optional(), Length(max=12, message=_l(
        "At most %(max)d characters."))], description=_l(
        "Printed before each bill's number, e.g. ZD- gives ZD-1. It cannot change once a bill is issued."))
    payee_name = StringField(_l("Payee (account name)"), validators=[Optional(), Length(max=120)],
                             description=_l("Printed on the bill; empty: the base's name."))
    bank_name = StringField(_l("Bank"), validators=[Optional(), Length(max=120)])
    bank_account = StringField(_l("Account number"), validators=[Optional(), Length(max=64)])
    payment_notes = TextAreaField(_l("Payment notes printed on the bill"), validators=[Optional(), Length(max=2000)],
                                  description=_l("E.g. write the bill's number in the transfer's remark."))
    lock_version = HiddenField()

    def __init__(self, *args, locked_prefix=None, first_month_floor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.locked_prefix = locked_prefix  # the prefix of the bills already issued (None: none issued)
        self.first_month_floor = first_month_floor  # the earliest first month allowed (None: no bill issued)

    def validate_first_month(self, field):
        if self.invoicing_enabled.data and not field.data:
            raise ValidationError(_l("Enter the first month to bill before turning billing on."))
        month_on = parse_month(field.data) if field.data else None
        if self.first_month_floor is not None and month_on is not None and month_on < self.first_month_floor:
            raise ValidationError(first_month_locked_message(self.first_month_floor))

    def validate_number_prefix(self, field):
        text = (field.data or "").strip()
        if any(ch.isspace() for ch in text):
            raise ValidationError(_l("A number prefix has no spaces."))
        if self.locked_prefix is not None and text != self.locked_prefix:
            raise ValidationError(_l("Bills have been issued with the prefix \"%(prefix)s\": it is part of their "
                                     "numbers and cannot change.", prefix=self.locked_prefix))

    def expected_version(self):
        """The lock version the page was loaded at: an int, None for "never saved", or False when unreadable."""
        text = (self.lock_version.data or "").strip()
        if text == "":
            return None
        return int(text) if text.isdigit() else False

    def settings_values(self):
        return {"invoicing_enabled": bool(self.invoicing_enabled.data),
                "first_month": parse_month(self.first_month.data) if self.first_month.data else None,
                "due_days": self.due_days.data, "number_prefix": (self.number_prefix.data or "").strip(),
                "payee_name": (self.payee_name.data or "").strip(), "bank_name": (self.bank_name.data or "").strip(),
                "bank_account": (self.bank_account.data or "").strip(),
                "payment_notes": (self.payment_notes.data or "").strip()}


class ChargeForm(AppForm):
    """An extra charge on a lease. The lease is one of ``leases`` (the base's, loaded by the view): a posted
    id that is not among them is refused like any wrong choice."""

    lease_id = SelectField(_l("Lease"), validate_choice=False, validators=[
        one_of(_l("Choose a lease from the list."))])
    month = StringField(_l("For the month"), validators=[DataRequired(_l("Enter the month.")), valid_month],
                        description=MONTH_HELP)
    kind = SelectField(_l("Kind"), choices=choices(c.CHARGE_KINDS), validate_choice=False,
                       validators=[one_of(_l("Choose the kind of charge."))])
    description = StringField(_l("Description"), validators=[required(), Length(max=200, message=_l(
        "At most %(max)d characters."))])
    amount_yuan = FiniteDecimalField(_l("Amount (yuan)"), places=2, validators=[
        InputRequired(_l("Enter the amount.")),
        NumberRange(min=Decimal("0.01"), max=c.MAX_CHARGE_YUAN,
                    message=_l("Enter an amount above 0 and at most 10,000,000 yuan.")),
        at_most_two_decimals])

    def __init__(self, *args, leases=(), today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.leases = {str(lease.id): lease for lease in leases}
        self.lease_id.choices = [("", _l("Choose a lease"))] + [
            (str(lease.id), f"{lease.company.name} · {lease.units} ({lease.starts_on} – {lease.effective_end})")
            for lease in leases]
        self.today = today

    def validate_month(self, field):
        month_on = parse_month(field.data)
        if self.today is not None and month_on is not None and month_on > add_months(month_of(self.today), 12):
            raise ValidationError(_l("A charge is for a month at most a year ahead."))

    def lease(self):
        return self.leases.get(self.lease_id.data)

    def charge_values(self):
        return {"month": self.month.data, "kind": self.kind.data, "description": self.description.data.strip(),
                "amount_fen": to_fen(self.amount_yuan.data)}


class InvoiceFilterForm(Form):
    """The bills list's filters from the query string: an unknown value switches its filter off, never an error."""

    month = StringField(_l("Month"))
    company = SelectField(_l("Company"), validate_choice=False)
    status = SelectField(_l("Status"), choices=choices(c.STATUS_FILTERS, blank=_l("All")), validate_choice=False)

    def __init__(self, *args, companies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.company.choices = [("", _l("All companies"))] + [(str(company.id), company.name)
                                                               for company in companies]

    def value(self, name):
        field = self[name]
        if name == "month":
            month_on = parse_month((field.data or "").strip())
            return month_key(month_on) if month_on else None
        allowed = choice_values(field)
        if field.data in allowed and field.data != "":
            return int(field.data) if name == "company" else field.data
        return None
