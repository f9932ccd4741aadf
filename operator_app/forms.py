"""Form foundations every package uses: text without control characters, finite decimals, Chinese errors."""
import re
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, Form, StringField
from wtforms.validators import StopValidation, ValidationError

# Tab, newline and carriage return are text; every other control character (NUL above all, which
# PostgreSQL refuses in text) is not something a person types.
_CONTROL_CHARACTERS = frozenset(chr(code) for code in range(32)) - {"\t", "\n", "\r"}


def no_control_characters(form, field):
    """Runs first and stops the field's checks, so no later validator (one that queries the database, say)
    ever sees the text."""
    if isinstance(field.data, str) and not _CONTROL_CHARACTERS.isdisjoint(field.data):
        raise StopValidation(_l("This text contains invisible control characters; retype it."))


class _CleanTextMeta:
    """Adds ``no_control_characters`` to every text field of the form (password, email and text areas too)."""

    def bind_field(self, form, unbound_field, options):
        field = super().bind_field(form, unbound_field, options)
        if isinstance(field, StringField):
            field.validators = [no_control_characters, *field.validators]
        return field


def _one_message_for_unreadable_input(form):
    """A value that could not be read ("x" for a number) gets that message alone, not a range error too.

    Nothing typed is not unreadable: an empty required field keeps its "required" message."""
    for field in form:
        typed = any(str(value).strip() for value in (field.raw_data or []))
        if field.process_errors and field.errors and typed:  # (Optional() clears both for an empty value)
            field.errors = list(field.process_errors)
        if hasattr(field, "form") and field.type == "FormField":
            _one_message_for_unreadable_input(field.form)


class AppForm(FlaskForm):
    """The base of every page form: CSRF-protected, text checked for control characters."""

    class Meta(_CleanTextMeta, FlaskForm.Meta):
        pass

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        _one_message_for_unreadable_input(self)
        return ok


class AppSubForm(Form):
    """The base of forms nested in an AppForm with FormField (no CSRF of their own)."""

    class Meta(_CleanTextMeta, Form.Meta):
        pass


MOBILE_PHONE = re.compile(r"^1\d{10}$")


def mobile_phone(form, field):
    """A mainland mobile number, spaces and dashes removed in place (an empty optional field passes)."""
    field.data = (field.data or "").replace(" ", "").replace("-", "")
    if field.data and not MOBILE_PHONE.match(field.data):
        raise ValidationError(_l("Enter an 11-digit mobile number."))


EARLIEST_YEAR, LATEST_YEAR = 1949, 2100


def sensible_date(form, field):
    """A date a base's records can hold: a typo like 0201 or 9999 is refused."""
    if field.data is not None and not EARLIEST_YEAR <= field.data.year <= LATEST_YEAR:
        raise ValidationError(_l("Enter a date between %(first)d and %(last)d.", first=EARLIEST_YEAR,
                                 last=LATEST_YEAR))


def at_most_two_decimals(form, field):
    """Money typed in yuan: at most fen (a third decimal would be rounded away without the user knowing)."""
    if isinstance(field.data, Decimal) and field.data != field.data.quantize(Decimal("0.01")):
        raise ValidationError(_l("Enter the amount in yuan with at most two decimals."))


MAX_DIGITS = 15  # digits before the decimal point a number typed into a form may have


class FiniteDecimalField(DecimalField):
    """A DecimalField that refuses text, NaN and infinities (the last two Decimal() accepts, but no quantity is
    one), all with the same message."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(_l("Enter a number.")) from None
        if isinstance(self.data, Decimal) and not self.data.is_finite():
            self.data = None
            raise ValueError(_l("Enter a number."))
        if isinstance(self.data, Decimal) and self.data and self.data.adjusted() >= MAX_DIGITS:
            # No quantity of the app comes near; refused here because rounding a number this long to fen (in the
            # validators and when the form is shown again) raises decimal.InvalidOperation.
            self.data = None
            raise ValueError(_l("This number is too large."))


def filter_args(form, args):
    """The query string's values of ``form``'s own fields (a list's filters), for the list's other pages and
    its export: only the keys the form knows, so a stray key (``endpoint``, ``_external``, …) never reaches
    ``url_for`` as one of its own arguments."""
    return {field.name: args[field.name] for field in form if field.name in args}
