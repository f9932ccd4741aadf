"""Monthly report forms: the figures (yuan with two decimals in the form, fen in the database), the reason of a
correction, and the base's report settings."""

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, IntegerField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from operator_app.accounts.forms import MultiCheckboxField
from operator_app.forms import AppForm

from . import constants as c
from . import reports
from .forms import choices, yuan_amount
from .rent import yuan
from .rent_forms import to_fen

MAX_PEOPLE = 100_000


def _count(label, maximum=MAX_PEOPLE):
    return IntegerField(label, validators=[Optional(), NumberRange(
        min=0, max=maximum, message=_l("Enter a whole number from 0 to %(max)d.", max=maximum))])


class ReportForm(AppForm):
    """The month's figures. Everything may be left empty in a draft; submitting needs the three required ones."""

    revenue_yuan = yuan_amount(_l("Revenue (营业收入, yuan)"))
    tax_yuan = yuan_amount(_l("Tax paid (上缴税金, yuan)"))
    employees = _count(_l("Employees (从业人员)"))
    rd_spending_yuan = yuan_amount(_l("R&D spending (yuan)"))
    new_ip = _count(_l("New patents and other IP"), 10_000)
    financing_yuan = yuan_amount(_l("Financing received (yuan)"))
    exports_yuan = yuan_amount(_l("Exports (yuan)"))
    reason = TextAreaField(_l("Why the figures are corrected"), validators=[Length(max=2000)])
    version = HiddenField()  # the report's version when the form was opened: a change since is a conflict

    def __init__(self, *args, optional_fields=(), correcting=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.optional_fields = [name for name in reports.OPTIONAL_FIGURES if name in optional_fields]
        self.correcting = correcting

    def check_submission(self):
        """The extra checks of a submission (the required figures, a correction's reason); False when one fails."""
        ok = True
        for field in (self.revenue_yuan, self.tax_yuan, self.employees):
            if field.data is None and not field.errors:
                field.errors.append(_l("Enter this figure to submit (0 when there was none)."))
                ok = False
        if self.correcting and not (self.reason.data or "").strip():
            self.reason.errors.append(_l("Say why the submitted figures are corrected."))
            ok = False
        return ok

    def figures(self):
        values = {"revenue_fen": to_fen(self.revenue_yuan.data), "tax_fen": to_fen(self.tax_yuan.data),
                  "employees": self.employees.data}
        optional = {"rd_spending_fen": to_fen(self.rd_spending_yuan.data), "new_ip": self.new_ip.data,
                    "financing_fen": to_fen(self.financing_yuan.data), "exports_fen": to_fen(self.exports_yuan.data)}
        return values | {name: value for name, value in optional.items() if name in self.optional_fields}

    def fill(self, report):
        for name, field in (("revenue_fen", self.revenue_yuan), ("tax_fen", self.tax_yuan),
                            ("rd_spending_fen", self.rd_spending_yuan), ("financing_fen", self.financing_yuan),
                            ("exports_fen", self.exports_yuan)):
            field.data = yuan(getattr(report, name))
        self.employees.data, self.new_ip.data = report.employees, report.new_ip


class ReportSettingsForm(AppForm):
    report_due_day = IntegerField(_l("Due day of the following month"), validators=[
        InputRequired(message=_l("Enter a day.")),
        NumberRange(min=1, max=28, message=_l("Enter a day from 1 to 28."))])
    report_change_factor = IntegerField(_l("Flag a change of more than this factor from the month before"),
                                        validators=[InputRequired(message=_l("Enter a number.")),
                                                    NumberRange(min=2, max=100,
                                                                message=_l("Enter a whole number from 2 to 100."))])
    report_optional_fields = MultiCheckboxField(_l("Also ask for"), choices=choices(c.REPORT_OPTIONAL_FIELDS))

    def validate_report_optional_fields(self, field):
        if any(name not in c.REPORT_OPTIONAL_FIELDS for name in field.data or []):
            raise ValidationError(_l("Choose among the listed figures."))
