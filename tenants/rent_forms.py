"""Rent forms: market quote, preferential policy, lease, rent settings. Money is typed in yuan, kept in fen."""
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import lazy_gettext as _l
from wtforms import (BooleanField, DateField, FileField, IntegerField, RadioField, SelectField, StringField,
                     TextAreaField)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from operator_app.accounts.forms import MultiCheckboxField, required
from operator_app.forms import AppForm, FiniteDecimalField, sensible_date

from . import constants as c
from . import rent
from .forms import choices
from .models import unit_set

MAX_YUAN = 1_000_000  # per m² or per seat per month: far above any real rent


def to_fen(yuan):
    """Yuan (a Decimal from a form) as whole fen, half up; None stays None."""
    if yuan is None:
        return None
    return int((yuan * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def money(label, required_field=True, allow_zero=False, description=None):
    minimum = 0 if allow_zero else Decimal("0.01")
    message = _l("Enter an amount from 0 to 1,000,000 yuan.") if allow_zero else \
        _l("Enter an amount above 0 and at most 1,000,000 yuan.")
    validators = [InputRequired(message=_l("Enter the amount.")) if required_field else Optional(),
                  NumberRange(min=minimum, max=MAX_YUAN, message=message)]
    return FiniteDecimalField(label, places=2, validators=validators, description=description)


def date_field(label):
    return DateField(label, validators=[InputRequired(message=_l("Enter the date.")), sensible_date])


class QuoteForm(AppForm):
    """A market quote. ``today`` (the base's day) bounds its date: a quote from the future never expires."""

    quoted_on = date_field(_l("Date of the quote"))
    source = SelectField(_l("Source"), choices=choices(c.QUOTE_SOURCES), validators=[required()])
    source_name = StringField(_l("Agency, listing or park"), validators=[required(), Length(max=120)])
    location = StringField(_l("Location of the space quoted"), validators=[Optional(), Length(max=200)])
    space_type = RadioField(_l("Space type"), choices=choices(c.SPACE_TYPES), validators=[required()])
    price_yuan = money(_l("Market rent (yuan per m² or per seat per month)"))
    notes = TextAreaField(_l("Notes"), validators=[Length(max=2000)])
    evidence = FileField(_l("Evidence (PDF or image: screenshot, quote sheet)"))

    def __init__(self, *args, today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def validate_quoted_on(self, field):
        if self.today is not None and field.data and field.data > self.today:
            raise ValidationError(_l("A quote cannot be dated in the future."))

    def quote_values(self):
        return {"quoted_on": self.quoted_on.data, "source": self.source.data, "source_name": self.source_name.data,
                "location": self.location.data or "", "space_type": self.space_type.data,
                "price_fen": to_fen(self.price_yuan.data), "notes": self.notes.data or ""}


class PolicyForm(AppForm):
    title = StringField(_l("Title of the document"), validators=[required(), Length(max=200)])
    document_number = StringField(_l("Document number (文号)"), validators=[required(), Length(max=100)])
    issuing_unit = StringField(_l("Issued by"), validators=[required(), Length(max=120)])
    issued_on = date_field(_l("Date of issue"))
    kinds = MultiCheckboxField(_l("Discounts it grants"), choices=choices(c.POLICY_KINDS))
    summary = TextAreaField(_l("What it grants, in short"), validators=[Length(max=4000)])
    is_posted = BooleanField(_l("Posted on the wall (上墙公开)"))
    document = FileField(_l("The document (PDF or image)"))

    def validate_kinds(self, field):
        if not field.data:
            raise ValidationError(_l("Tick at least one kind of discount the document grants."))

    def policy_values(self):
        return {field: self[field].data for field in ("title", "document_number", "issuing_unit", "issued_on",
                                                      "kinds", "is_posted")} | {"summary": self.summary.data or ""}


class LeaseForm(AppForm):
    space_type = RadioField(_l("Space type"), choices=choices(c.SPACE_TYPES), validators=[required()])
    units = StringField(_l("Rooms or workstations"), validators=[required(), Length(max=200)],
                        description=_l("Numbers separated by commas, e.g. 2-W12, 2-W13."))
    area_m2 = FiniteDecimalField(_l("Area (m²)"), places=2, validators=[
        Optional(), NumberRange(min=Decimal("0.01"), max=1_000_000,
                                message=_l("Enter an area above 0 and at most 1,000,000 m²."))])
    seats = IntegerField(_l("Seats"), validators=[
        Optional(), NumberRange(min=1, max=500, message=_l("Enter a whole number from 1 to 500."))])
    starts_on = date_field(_l("Starts"))
    ends_on = date_field(_l("Ends"))
    list_rent_yuan = money(_l("List rent (yuan per m² or per seat per month)"))
    actual_rent_yuan = money(_l("Actual rent (yuan per m² or per seat per month)"), allow_zero=True)
    free_months = IntegerField(_l("Free months at the start"), default=0, validators=[
        Optional(), NumberRange(min=0, max=600, message=_l("Enter a whole number of months from 0."))])
    discounted_months = IntegerField(_l("Then discounted months"), default=0, validators=[
        Optional(), NumberRange(min=0, max=600, message=_l("Enter a whole number of months from 0."))])
    discounted_rent_yuan = money(_l("Rent in the discounted months"), required_field=False, allow_zero=True)
    deposit_yuan = FiniteDecimalField(_l("Deposit (yuan)"), places=2, validators=[
        Optional(), NumberRange(min=0, max=10**9, message=_l("Enter an amount of 0 or more."))])
    notes = TextAreaField(_l("Notes"), validators=[Length(max=2000)])

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if not ok:
            return False
        problems = {}
        if not unit_set(self.units.data):
            problems["units"] = _l("Enter the room or workstation numbers.")
        if self.space_type.data == c.SPACE_OFFICE and not self.area_m2.data:
            problems["area_m2"] = _l("Enter the area of the rooms leased.")
        if self.space_type.data == c.SPACE_WORKSTATION and not self.seats.data:
            problems["seats"] = _l("Enter how many seats are leased.")
        if self.ends_on.data <= self.starts_on.data:
            problems["ends_on"] = _l("The lease must end after it starts.")
        elif (self.free_months.data or 0) + (self.discounted_months.data or 0) > \
                rent.lease_months(self.starts_on.data, self.ends_on.data):
            problems["discounted_months"] = _l("The free and discounted months are more than the lease runs "
                                               "(%(n)d months).",
                                               n=rent.lease_months(self.starts_on.data, self.ends_on.data))
        if self.actual_rent_yuan.data > self.list_rent_yuan.data:
            problems["actual_rent_yuan"] = _l("The actual rent is above the list rent, so there is no discount to "
                                              "claim. Check both.")
        if self.discounted_months.data and self.discounted_rent_yuan.data is None:
            problems["discounted_rent_yuan"] = _l("Enter the rent of the discounted months.")
        elif self.discounted_rent_yuan.data is not None and self.discounted_rent_yuan.data > \
                self.actual_rent_yuan.data:
            problems["discounted_rent_yuan"] = _l("A discounted rent is not above the actual rent.")
        for name, message in problems.items():
            self[name].errors.append(message)
        return not problems

    def lease_values(self):
        office = self.space_type.data == c.SPACE_OFFICE
        return {"space_type": self.space_type.data, "units": self.units.data.strip(),
                "area_m2": self.area_m2.data.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) if office else None,
                "seats": None if office else self.seats.data, "starts_on": self.starts_on.data,
                "ends_on": self.ends_on.data, "list_rent_fen": to_fen(self.list_rent_yuan.data),
                "actual_rent_fen": to_fen(self.actual_rent_yuan.data), "free_months": self.free_months.data or 0,
                "discounted_months": self.discounted_months.data or 0,
                "discounted_rent_fen": to_fen(self.discounted_rent_yuan.data) if self.discounted_months.data else None,
                "deposit_fen": to_fen(self.deposit_yuan.data) or 0, "notes": self.notes.data or ""}


class RentSettingsForm(AppForm):
    discount_threshold_percent = IntegerField(_l("Required overall discount (%)"), validators=[
        InputRequired(message=_l("Enter a percentage.")),
        NumberRange(min=0, max=100, message=_l("Enter a percentage from 0 to 100."))],
        description=_l("001 §6: 总体优惠幅度低于当地市场询价20%即可."))
    quote_max_age_months = IntegerField(_l("A market quote counts for (months)"), validators=[
        InputRequired(message=_l("Enter a number of months.")),
        NumberRange(min=1, max=60, message=_l("Enter a whole number of months from 1 to 60."))])
    free_rent_warning_months = IntegerField(_l("Flag free rent longer than (months)"), validators=[
        InputRequired(message=_l("Enter a number of months.")),
        NumberRange(min=0, max=60, message=_l("Enter a whole number of months from 0 to 60."))],
        description=_l("001 §6: 原则上不鼓励长期免费优惠."))
