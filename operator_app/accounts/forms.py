"""Account forms: signup, login, password change, base creation, base profile, invitation."""
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import lazy_gettext as _l
from wtforms import (BooleanField, DateField, EmailField, FormField, HiddenField,
                     IntegerField, PasswordField, RadioField, SelectField, SelectMultipleField, StringField,
                     TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (DataRequired, Email, EqualTo, Length, NumberRange, Optional,
                                ValidationError)
from wtforms.widgets import CheckboxInput, ListWidget

from ..forms import AppForm, AppSubForm, FiniteDecimalField, sensible_date
from ..security import password_problem
from . import constants as c
from . import services

REQUIRED = _l("This field is required.")


def required():
    return DataRequired(message=REQUIRED)


def email_field(label):
    return EmailField(label, validators=[required(), Length(max=254, message=_l("At most %(max)d characters.")),
                                         Email(message=_l("Enter a valid email address."),
                                               check_deliverability=False)])


def _choices(mapping):
    return [SelectChoice(key, label) for key, label in mapping.items()]


class StrongPassword:
    """Refuses short and common passwords (OWASP ASVS 2.1); names of the user count as guessable."""

    def __init__(self, *other_fields):
        self.other_fields = other_fields

    def __call__(self, form, field):
        inputs = [form[name].data for name in self.other_fields if name in form]
        problem = password_problem(field.data or "", inputs)
        if problem:
            raise ValidationError(problem)


class SlugField(StringField):
    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data:
            self.data = self.data.strip().lower()


def validate_new_slug(form, field):
    if not services.SLUG_PATTERN.match(field.data or "") or field.data in services.RESERVED_SLUGS:
        raise ValidationError(_l("3 to 40 lowercase letters, digits or hyphens, not starting or ending "
                                 "with a hyphen."))
    if services.slug_taken(field.data):
        raise ValidationError(_l("This address is already used by another base."))


def validate_new_email(form, field):
    if services.email_taken(field.data or ""):
        raise ValidationError(_l("An account with this email already exists. Log in instead."))


class LoginForm(AppForm):
    email = email_field(_l("Email"))
    password = PasswordField(_l("Password"), validators=[required()])
    remember = BooleanField(_l("Remember me on this device"))


class BaseFieldsMixin:
    base_name = StringField(_l("Base name"), validators=[required(), Length(max=120)])
    base_slug = SlugField(_l("Web address"), validators=[required(), validate_new_slug],
                          description=_l("Used in the base's address: /b/<address>/. Lowercase letters, "
                                         "digits and hyphens."))
    base_type = SelectField(_l("Base type"), choices=_choices(c.BASE_TYPES), validators=[required()])


class SignupForm(BaseFieldsMixin, AppForm):
    operator_name = StringField(_l("Operating organisation"), validators=[required(), Length(max=120)])
    user_name = StringField(_l("Your name"), validators=[required(), Length(max=80)])
    email = email_field(_l("Email"))
    password = PasswordField(_l("Password"), validators=[required(), StrongPassword("email", "user_name")])
    confirm = PasswordField(_l("Repeat password"),
                            validators=[required(), EqualTo("password", message=_l("The passwords differ."))])

    def validate_email(self, field):
        validate_new_email(self, field)


class NewBaseForm(BaseFieldsMixin, AppForm):
    pass


class ChangePasswordForm(AppForm):
    current = PasswordField(_l("Current password"), validators=[required()])
    password = PasswordField(_l("New password"), validators=[required(), StrongPassword()])
    confirm = PasswordField(_l("Repeat new password"),
                            validators=[required(), EqualTo("password", message=_l("The passwords differ."))])


class InviteForm(AppForm):
    email = email_field(_l("Colleague's email"))
    role = SelectField(_l("Role"), choices=_choices({role: c.ROLE_LABELS[role] for role in c.INVITABLE_ROLES}),
                       validators=[required()])

    def __init__(self, *args, base, **kwargs):
        super().__init__(*args, **kwargs)
        self.base = base

    def validate_email(self, field):
        if services.is_member(self.base, field.data):
            raise ValidationError(_l("This person is already a member of this base."))


class AcceptNewUserForm(AppForm):
    name = StringField(_l("Your name"), validators=[required(), Length(max=80)])
    phone = StringField(_l("Mobile phone"), validators=[Optional(), Length(max=20)])
    password = PasswordField(_l("Password"), validators=[required(), StrongPassword("name")])
    confirm = PasswordField(_l("Repeat password"),
                            validators=[required(), EqualTo("password", message=_l("The passwords differ."))])


class AcceptExistingUserForm(AppForm):
    """Only the CSRF token: a logged-in user confirms joining the base."""


def _area(value):
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) if value is not None else None


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        try:
            super().pre_validate(form)
        except ValidationError:
            raise ValidationError(_l("Choose only from the listed options.")) from None


class ZoneForm(AppSubForm):
    area_m2 = FiniteDecimalField(_l("Area (m²)"), places=2, validators=[
        Optional(), NumberRange(min=0, max=10_000_000, message=_l("Enter an area between 0 and 10,000,000 m²."))])
    description = TextAreaField(_l("Location and boundaries"), validators=[Length(max=2000)])


class ZonesForm(AppSubForm):
    incubation = FormField(ZoneForm, label=c.ZONE_LABELS[c.ZONE_INCUBATION])
    growth = FormField(ZoneForm, label=c.ZONE_LABELS[c.ZONE_GROWTH])
    public_service = FormField(ZoneForm, label=c.ZONE_LABELS[c.ZONE_PUBLIC_SERVICE])


class BaseProfileForm(AppForm):
    version = HiddenField()  # the profile version the page was loaded at (optimistic locking)
    name = StringField(_l("Base name"), validators=[required(), Length(max=120)])
    base_type = SelectField(_l("Base type"), choices=_choices(c.BASE_TYPES), validators=[required()])
    is_demonstration = BooleanField(_l("Demonstration base (示范基地)"))
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200)])
    timezone = SelectField(_l("Time zone"), choices=[SelectChoice(tz, tz) for tz in c.TIMEZONES])
    operating_since_on = DateField(
        _l("Operating formally since"), validators=[Optional(), sensible_date],
        description=_l("The day the base began operating (正式运营); a provincial base must have run for more than "
                       "a year (001 \"6个要\" §6)."))
    tenant_count_standard = IntegerField(
        _l("Tenant-count standard of the base type"),
        validators=[Optional(), NumberRange(min=1, max=100_000, message=_l("Enter a whole number from 1."))],
        description=_l("The minimum number of actually housed tenants the province sets for this base type "
                       "(001 §8). Leave empty while unknown; the compliance page then shows it as unknown."))
    total_area_m2 = FiniteDecimalField(_l("Total area (m²)"), places=2, validators=[
        Optional(), NumberRange(min=0, max=10_000_000, message=_l("Enter an area between 0 and 10,000,000 m²."))])
    site_ownership = RadioField(_l("Site"), choices=_choices(c.SITE_OWNERSHIP), validators=[Optional()])
    site_certificates = TextAreaField(_l("Property certificate numbers or lease contract"),
                                      validators=[Length(max=2000)])
    site_lease_start_on = DateField(_l("Lease starts"), validators=[Optional()])
    site_lease_end_on = DateField(_l("Lease ends"), validators=[Optional()])
    site_boundaries = TextAreaField(_l("Boundaries of the site"), validators=[Length(max=2000)])
    service_functions = MultiCheckboxField(_l("Service functions offered"), choices=_choices(c.SERVICE_FUNCTIONS))
    has_signage = BooleanField(_l("The \"小微企业服务站\" sign hangs in the public service hall"))
    zones = FormField(ZonesForm, label=_l("Zones"))

    def _check_lease(self):
        """A leased site needs both lease dates, in order (checked at form level: empty dates skip inline checks)."""
        if (self.site_ownership.data != c.SITE_LEASED or self.site_lease_end_on.errors
                or self.site_lease_start_on.errors):
            return True
        start, end = self.site_lease_start_on.data, self.site_lease_end_on.data
        if not start or not end:
            self.site_lease_end_on.errors.append(_l("A leased site needs the lease start and end dates."))
            return False
        if end <= start:
            self.site_lease_end_on.errors.append(_l("The lease must end after it starts."))
            return False
        return True

    def _check_area(self):
        """Zone areas may not add up to more than the total area."""
        total = self.total_area_m2.data
        zone_sum = sum((zone.form.area_m2.data or 0) for zone in self.zones)
        if total is not None and zone_sum > total:
            self.total_area_m2.errors.append(_l("The zones add up to more than the total area."))
            return False
        return True

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        lease_ok = self._check_lease()
        return self._check_area() and lease_ok and ok

    def profile_values(self):
        """The submitted values in the shape ``services.update_base_profile`` takes, areas to the cent."""
        values = {field: self[field].data for field in services.PROFILE_FIELDS}
        values["total_area_m2"] = _area(values["total_area_m2"])
        values["site_ownership"] = self.site_ownership.data or None
        values["address"] = values["address"] or ""
        values["zones"] = {kind: {"area_m2": _area(self.zones[kind].form.area_m2.data),
                                  "description": self.zones[kind].form.description.data or ""}
                           for kind in c.ZONE_LABELS}
        return values
