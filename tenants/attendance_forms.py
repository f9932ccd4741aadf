"""Attendance forms: registering a person, a check-in point, the phone-and-PIN check-in, the rules setting."""
from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, StringField
from wtforms.validators import InputRequired, Length, NumberRange

from operator_app.accounts.forms import required
from operator_app.forms import AppForm, mobile_phone


class PersonForm(AppForm):
    name = StringField(_l("Name"), validators=[required(), Length(max=60)])
    phone = StringField(_l("Mobile phone"), validators=[required(), mobile_phone])


class PointForm(AppForm):
    name = StringField(_l("Entrance or area"), validators=[required(), Length(max=60)])


class CheckInLoginForm(AppForm):
    phone = StringField(_l("Mobile phone"), validators=[required(), mobile_phone])
    pin = StringField(_l("Check-in PIN"), validators=[required(), Length(max=12)])


class AttendanceSettingsForm(AppForm):
    attendance_days = IntegerField(_l("Days on site a week required"), validators=[
        InputRequired(message=_l("Enter a number of days.")),
        NumberRange(min=1, max=7, message=_l("Enter a whole number of days from 1 to 7."))],
        description=_l("001 §8: 工位初创企业人员每周平均要有4天以上在基地内办公."))
