"""Forms of the filings: the manager's settings, the reason for a new version, the note of a hand upload."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, StringField, TextAreaField
from wtforms.validators import URL, DataRequired, InputRequired, Length, NumberRange, Optional

from ..forms import AppForm


class FilingSettingsForm(AppForm):
    deadline_days = IntegerField(
        _l("Days after the quarter's end to file"),
        validators=[InputRequired(_l("Enter a number of days.")),
                    NumberRange(min=1, max=60, message=_l("Enter a number of days from 1 to 60."))],
        description=_l("002: within 10 days after the quarter ends; the provincial authority allows 15 working "
                       "days."))
    deadline_in_working_days = BooleanField(_l("Count working days (Chinese public holidays and adjusted "
                                               "working days)"))
    endpoint_url = StringField(
        _l("Provincial platform's upload address"),
        validators=[Optional(), Length(max=500), URL(require_tld=False, message=_l("Enter a web address "
                                                                                   "starting with https://."))],
        description=_l("Leave empty to upload the files by hand; \"submit\" then records that you did."))
    endpoint_token = StringField(_l("Access token"), validators=[Optional(), Length(max=500)],
                                 description=_l("Stored and never shown again; leave empty to keep the saved one."))


class NewVersionForm(AppForm):
    reason = TextAreaField(_l("Why the filing is made again"),
                           validators=[DataRequired(_l("Say why the filing is made again.")), Length(max=2000)])


class SubmitForm(AppForm):
    note = TextAreaField(_l("Note (how and where it was uploaded)"), validators=[Optional(), Length(max=2000)])
