"""The graduate follow-up form: how the company is doing and its figures. Money is typed in yuan, kept in fen."""
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, IntegerField, RadioField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, StopValidation

from operator_app.forms import AppForm

from .followups import OPERATING_STATUSES, STATUSES_WITHOUT_FIGURES
from .forms import choices, yuan_amount
from .rent import yuan
from .rent_forms import to_fen

MAX_EMPLOYEES = 100_000


class StatusField(RadioField):
    """The company's status: one of the listed codes, with the same message for a missing and a foreign one."""

    def pre_validate(self, form):
        if self.data not in OPERATING_STATUSES:
            raise StopValidation(_l("Choose how the company is doing."))


class WholeNumberField(IntegerField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(_l("Enter a whole number from 0 to 100,000.")) from None


class FollowUpSettingsForm(AppForm):
    followup_interval_months = IntegerField(_l("A follow-up every (months)"), validators=[
        InputRequired(message=_l("Enter a number of months.")),
        NumberRange(min=1, max=12, message=_l("Enter a whole number of months from 1 to 12."))])
    followup_years = IntegerField(_l("Followed for (years after leaving)"), validators=[
        InputRequired(message=_l("Enter a number of years.")),
        NumberRange(min=1, max=10, message=_l("Enter a whole number of years from 1 to 10."))],
        description=_l("001 §4 asks for three years."))


class FollowUpForm(AppForm):
    """A graduate's answer, typed by its contact or by a staff member on the phone with it."""

    # What the page showed: "record" or "correct" and the follow-up's version; a change since is a clash.
    mode = HiddenField()
    version = HiddenField()
    operating_status = StatusField(_l("How is the company doing?"), choices=choices(OPERATING_STATUSES))
    revenue_yuan = yuan_amount(_l("Revenue in the last 12 months (yuan)"))
    tax_yuan = yuan_amount(_l("Tax paid in the last 12 months (yuan)"))
    employees = WholeNumberField(_l("Employees now"), validators=[
        Optional(), NumberRange(min=0, max=MAX_EMPLOYEES, message=_l("Enter a whole number from 0 to 100,000."))])
    milestones = TextAreaField(_l("What happened since the last follow-up"), validators=[Length(max=2000)],
                               description=_l("Financing, patents, high-tech enterprise (高新), new products, awards…"))
    notes = TextAreaField(_l("Notes"), validators=[Length(max=2000)])

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.operating_status.data in OPERATING_STATUSES and \
                self.operating_status.data not in STATUSES_WITHOUT_FIGURES:
            # Cross-field rule: an empty optional field skips its own validators, so it is checked here.
            for name in ("revenue_yuan", "tax_yuan", "employees"):
                if self[name].data is None and not self[name].errors:
                    self[name].errors.append(_l("Enter the figure (0 if there is none)."))
                    ok = False
        return ok

    def values(self):
        """The answer as the service takes it (fen for money)."""
        return {"operating_status": self.operating_status.data, "revenue_fen": to_fen(self.revenue_yuan.data),
                "tax_fen": to_fen(self.tax_yuan.data), "employees": self.employees.data,
                "milestones": (self.milestones.data or "").strip(), "notes": (self.notes.data or "").strip()}

    @classmethod
    def of(cls, followup, **kwargs):
        """The form filled with ``followup``'s answer, for a correction."""
        return cls(operating_status=followup.operating_status, revenue_yuan=yuan(followup.revenue_fen),
                   tax_yuan=yuan(followup.tax_fen), employees=followup.employees,
                   milestones=followup.milestones, notes=followup.notes, **kwargs)
