"""Ledger forms: the team and agencies, the three kinds of entry, activity files, QR sign-in, feedback, filters.

Times are typed in the base's own time zone; views convert them to UTC (``operator_app.timeutil.from_local``).
Choices of companies, people and agencies are filled by the view from the current base, so an id from another
base is never a valid choice.
"""
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from wtforms import (BooleanField, DateField, DateTimeLocalField, FileField, HiddenField, IntegerField,
                     MultipleFileField, RadioField, SelectField, StringField, TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from operator_app.accounts.forms import required
from operator_app.forms import AppForm, mobile_phone, sensible_date
from tenants.forms import choices

from . import constants as c

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]


def _datetime(label, required_field=True, description=None):
    first = InputRequired(message=_l("Enter the date and time.")) if required_field else Optional()
    return DateTimeLocalField(label, format=DATETIME_FORMATS, validators=[first, sensible_date],
                              description=description)


def _date(label):
    return DateField(label, validators=[InputRequired(message=_l("Enter the date.")), sensible_date])


def _id_choice(label, blank=None):
    """A select of records of the current base (choices set by the view); the value is an id or empty."""
    validators = [Optional()] if blank is not None else [InputRequired(message=_l("Choose one."))]
    return SelectField(label, coerce=_int_or_none, validators=validators, validate_choice=True)


def _int_or_none(value):
    if value in (None, "", "None"):
        return None
    return int(value)


def category_field():
    return SelectField(_l("Service category"), choices=choices(c.CATEGORIES), validators=[required()])


class _NotInFuture:
    """Entries record what happened: a time after ``now`` (the base's clock, set by the view) is a typo."""

    def __init__(self, *args, now=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.now = now

    def _not_future(self, field, message):
        if self.now is not None and field.data is not None and field.data > self.now:
            raise ValidationError(message)


class PersonForm(AppForm):
    name = StringField(_l("Name"), validators=[required(), Length(max=60)])
    position = StringField(_l("Position"), validators=[Length(max=60)])
    phone = StringField(_l("Mobile phone"), validators=[Optional(), mobile_phone])
    is_mentor = BooleanField(_l("Certified startup mentor (创业辅导师)"))
    certificate_issuer = StringField(_l("Certificate issued by"), validators=[Length(max=120)],
                                     description=_l("A qualified training body or the provincial small "
                                                    "business service centre."))
    certificate_number = StringField(_l("Certificate number"), validators=[Length(max=60)])
    is_active = BooleanField(_l("On the team now"), default=True)
    user_id = SelectField(_l("Their login"), coerce=_int_or_none, validators=[Optional()],
                          description=_l("A mentor with a login can then update the requests they handle, the "
                                         "visits they make and the activities they organise."))

    def validate_certificate_issuer(self, field):
        if self.is_mentor.data and not (field.data or "").strip():
            raise ValidationError(_l("A certified mentor needs the body that issued the certificate."))

    def validate_certificate_number(self, field):
        if self.is_mentor.data and not (field.data or "").strip():
            raise ValidationError(_l("A certified mentor needs the certificate number."))

    def values(self):
        return {name: (self[name].data.strip() if isinstance(self[name].data, str) else self[name].data)
                for name in ("name", "position", "phone", "is_mentor", "certificate_issuer", "certificate_number",
                             "is_active", "user_id")}


class AgencyForm(AppForm):
    name = StringField(_l("Name of the agency"), validators=[required(), Length(max=120)])
    category = category_field()
    services = TextAreaField(_l("Services it provides"), validators=[Length(max=2000)])
    agreement_starts_on = _date(_l("Agreement from"))
    agreement_ends_on = DateField(_l("Agreement until"), validators=[Optional(), sensible_date],
                                  description=_l("Leave empty for an open-ended agreement."))
    contact_name = StringField(_l("Contact person"), validators=[Length(max=60)])
    contact_phone = StringField(_l("Contact phone"), validators=[Length(max=20)])
    agreement = FileField(_l("Agreement (PDF or image)"))
    is_active = BooleanField(_l("The base works with this agency"), default=True)

    def validate_agreement_ends_on(self, field):
        if field.data and self.agreement_starts_on.data and field.data < self.agreement_starts_on.data:
            raise ValidationError(_l("The agreement cannot end before it starts."))

    def values(self):
        return {name: self[name].data for name in ("name", "category", "agreement_starts_on", "agreement_ends_on",
                                                   "is_active")} | {
            name: (self[name].data or "").strip() for name in ("services", "contact_name", "contact_phone")}


class RequestForm(_NotInFuture, AppForm):
    company_id = _id_choice(_l("Company"))
    channel = SelectField(_l("How it came in"), choices=choices(c.CHANNELS), validators=[required()])
    category = category_field()
    received_at = _datetime(_l("Received at"))
    content = TextAreaField(_l("What the company asks for"), validators=[required(), Length(max=4000)])
    handler_id = _id_choice(_l("Handled by"), blank="")

    def __init__(self, *args, answered=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.answered = answered  # the first answer, in the base's time, once there is one

    def validate_received_at(self, field):
        self._not_future(field, _l("A request cannot be received in the future."))
        if self.answered is not None and field.data is not None and field.data > self.answered:
            raise ValidationError(_l("A request cannot be received after its first answer (%(time)s).",
                                     time=self.answered.strftime("%Y-%m-%d %H:%M")))

    def values(self):
        return {name: self[name].data for name in ("company_id", "channel", "category", "received_at", "content",
                                                   "handler_id")}


class RequestStatusForm(_NotInFuture, AppForm):
    status = SelectField(_l("Status"), choices=choices(c.REQUEST_STATUSES), validators=[required()])
    responded_at = _datetime(_l("First answered at"), required_field=False, description=_l(
        "Empty: now. A call answered on the spot and logged later: the time it was answered."))
    resolution = TextAreaField(_l("What was done"), validators=[Length(max=4000)])

    def __init__(self, *args, received=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.received = received

    def validate_responded_at(self, field):
        self._not_future(field, _l("An answer cannot be given in the future."))
        if self.received is not None and field.data is not None and field.data < self.received:
            raise ValidationError(_l("The first answer cannot come before the request was received."))

    def validate_resolution(self, field):
        if self.status.data in c.DONE_STATUSES and not (field.data or "").strip():
            raise ValidationError(_l("Say what was done before closing the request."))


class TenantRequestForm(AppForm):
    category = category_field()
    content = TextAreaField(_l("What do you need?"), validators=[required(), Length(max=4000)])


class VisitForm(_NotInFuture, AppForm):
    company_id = _id_choice(_l("Company visited"))
    occurred_on = _date(_l("Date of the visit"))
    staff_id = _id_choice(_l("Base staff"), blank="")
    agency_id = _id_choice(_l("Partner agency"), blank="")
    people = StringField(_l("People who went"), validators=[Length(max=200)])
    purpose = StringField(_l("Purpose"), validators=[required(), Length(max=200)])
    category = category_field()
    content = TextAreaField(_l("What was done"), validators=[required(), Length(max=4000)])
    follow_up = TextAreaField(_l("Follow-up"), validators=[Length(max=4000)])

    def validate_occurred_on(self, field):
        self._not_future(field, _l("A visit cannot be recorded before it happens."))

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        # (Not a validate_staff_id: an empty optional field stops its own checks.)
        if self.staff_id.data is None and self.agency_id.data is None and not self.staff_id.errors:
            self.staff_id.errors.append(_l("Choose the base staff member or the partner agency who visited."))
            return False
        return ok

    def values(self):
        values = {name: self[name].data for name in ("company_id", "occurred_on", "staff_id", "agency_id",
                                                     "category")}
        return values | {name: (self[name].data or "").strip() for name in ("people", "purpose", "content",
                                                                             "follow_up")}


class ActivityForm(AppForm):
    title = StringField(_l("Title"), validators=[required(), Length(max=200)])
    category = category_field()
    starts_at = _datetime(_l("Activity starts"))
    ends_at = _datetime(_l("Activity ends"))
    place = StringField(_l("Place"), validators=[required(), Length(max=200)])
    organiser_id = _id_choice(_l("Organised by"))
    agency_id = _id_choice(_l("With partner agency"), blank="")
    expected_companies = IntegerField(_l("Companies expected"), validators=[
        Optional(), NumberRange(min=0, max=100_000, message=_l("Enter a whole number from 0 to 100,000."))])
    agenda = TextAreaField(_l("Content of the activity"), validators=[Length(max=4000)])
    sheet_companies = IntegerField(_l("Companies on the paper sheet only"), validators=[
        Optional(), NumberRange(min=0, max=100_000, message=_l("Enter a whole number from 0 to 100,000."))],
        description=_l("Participants who signed the paper sheet instead of scanning: count them here."))
    sheet_people = IntegerField(_l("People on the paper sheet only"), validators=[
        Optional(), NumberRange(min=0, max=100_000, message=_l("Enter a whole number from 0 to 100,000."))])
    signin_hours_after = IntegerField(
        _l("Sign-in stays open after the end (hours)"), default=c.DEFAULT_SIGNIN_HOURS_AFTER,
        validators=[InputRequired(message=_l("Enter a number of hours.")),
                    NumberRange(min=0, max=c.MAX_SIGNIN_HOURS_AFTER,
                                message=_l("Enter a whole number of hours from 0 to 72."))])
    publicity_links = TextAreaField(_l("Publicity (宣传报道): links, one per line"), validators=[Length(max=4000)])
    results = TextAreaField(_l("Results (成果统计)"), validators=[Length(max=4000)],
                            description=_l("E.g. agreements reached, financing matched, questions answered."))

    def validate_ends_at(self, field):
        if field.data and self.starts_at.data and field.data <= self.starts_at.data:
            raise ValidationError(_l("The activity must end after it starts."))

    def validate_publicity_links(self, field):
        for line in (field.data or "").splitlines():
            line = line.strip()
            if line and not _is_web_link(line):
                raise ValidationError(_l("Each line must be a web link starting with http:// or https://: %(line)s",
                                         line=line[:80]))

    def values(self):
        values = {name: self[name].data for name in ("title", "category", "starts_at", "ends_at", "organiser_id",
                                                     "agency_id", "expected_companies", "signin_hours_after",
                                                     "sheet_companies", "sheet_people")}
        return values | {name: (self[name].data or "").strip() for name in ("place", "agenda",
                                                                             "publicity_links", "results")}


def _is_web_link(text):
    try:
        parts = urlsplit(text)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


class ActivityFilesForm(AppForm):
    kind = RadioField(_l("What you are adding"), choices=choices(c.FILE_KINDS), default=c.FILE_PHOTO,
                      validators=[required()])
    files = MultipleFileField(_l("Files"), description=_l("Photos: JPG, PNG or WEBP, several at once, straight from "
                                                          "a phone. Notice and sheet: PDF or image."))


class SignInForm(AppForm):
    name = StringField(_l("Your name"), validators=[required(), Length(max=60)])
    phone = StringField(_l("Mobile phone"), validators=[required(), mobile_phone])
    company_name = StringField(_l("Company"), validators=[required(), Length(max=120)])


class FeedbackForm(AppForm):
    kind = HiddenField(validators=[required()])
    entry_id = HiddenField(validators=[required()])
    rating = RadioField(_l("Rating"), coerce=int, choices=[SelectChoice(n, str(n)) for n in c.RATINGS],
                        validators=[InputRequired(message=_l("Choose a rating from 1 to 5."))])
    comment = TextAreaField(_l("Comment"), validators=[Length(max=2000)])

    def validate_kind(self, field):
        if field.data not in c.KINDS:
            raise ValidationError(_l("This service cannot be rated."))


class LedgerFilterForm(AppForm):
    """The ledger view's filters (GET, no CSRF); an unreadable value is ignored rather than refused."""

    class Meta:
        csrf = False

    date_from = DateField(_l("From"), validators=[Optional(), sensible_date])
    date_to = DateField(_l("To"), validators=[Optional(), sensible_date])
    kind = SelectField(_l("Type"), choices=choices(c.KINDS, blank=_l("All types")), validators=[Optional()])
    category = SelectField(_l("Category"), choices=choices(c.CATEGORIES, blank=_l("All categories")),
                           validators=[Optional()])
    company = SelectField(_l("Company"), coerce=_int_or_none, validators=[Optional()])
    person = SelectField(_l("Team member"), coerce=_int_or_none, validators=[Optional()])
