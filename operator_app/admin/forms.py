"""Platform admin forms."""
import re
from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, TextAreaField
from wtforms.validators import InputRequired, NumberRange, ValidationError

from ..forms import AppForm
from ..workcalendar import package_covers


def _dates(text):
    """The ISO dates in ``text`` (separated by spaces, commas or lines); raises ValueError naming a bad one."""
    days = []
    for part in re.split(r"[\s,，、;；]+", text or ""):
        if part:
            try:
                days.append(date.fromisoformat(part))
            except ValueError:
                raise ValueError(part) from None
    return days


class CalendarYearForm(AppForm):
    year = IntegerField(_l("Year"), validators=[InputRequired(message=_l("Enter the year.")),
                                                NumberRange(min=2000, max=2100,
                                                            message=_l("Enter a year from 2000 to 2100."))])
    holidays = TextAreaField(_l("Public holidays (dates off work)"),
                             description=_l("One date per line, as YYYY-MM-DD, e.g. 2027-10-01."))
    workdays = TextAreaField(_l("Adjusted working days (weekend dates worked, 调休)"),
                             description=_l("One date per line, as YYYY-MM-DD."))

    def validate_year(self, field):
        if field.data and package_covers(field.data):
            raise ValidationError(_l("The calendar package already knows %(year)d; nothing to enter.",
                                     year=field.data))

    def _check_dates(self, field):
        try:
            days = _dates(field.data)
        except ValueError as bad:
            raise ValidationError(_l("%(text)s is not a date written as YYYY-MM-DD.", text=str(bad))) from None
        if self.year.data and any(day.year != self.year.data for day in days):
            raise ValidationError(_l("Every date must be in %(year)d.", year=self.year.data))
        return days

    def validate_holidays(self, field):
        self.holiday_dates = self._check_dates(field)

    def validate_workdays(self, field):
        self.workday_dates = self._check_dates(field)
        if set(self.workday_dates) & set(getattr(self, "holiday_dates", [])):
            raise ValidationError(_l("A date cannot be both a holiday and a working day."))
        if any(day.weekday() < 5 for day in self.workday_dates):
            raise ValidationError(_l("Adjusted working days are Saturdays or Sundays."))
