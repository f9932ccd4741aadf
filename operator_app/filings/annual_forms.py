"""Forms of the annual work summary: the five sections the manager writes, and the day it was sent."""
from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import DateField, HiddenField, TextAreaField
from wtforms.validators import InputRequired, ValidationError

from ..forms import AppForm, sensible_date
from .annual import SECTION_HEADINGS, SECTION_KEYS, SECTION_MAX, clean_text, shown_hashes


def _not_too_long(form, field):
    """Counted as stored (a browser sends each line end as two characters)."""
    if len(clean_text(field.data)) > SECTION_MAX:
        raise ValidationError(_l("Keep this section to at most %(max)d characters.", max=SECTION_MAX))


def _section(key):
    return TextAreaField(SECTION_HEADINGS[key], validators=[_not_too_long], render_kw={"rows": 8})


class AnnualSummaryForm(AppForm):
    measures = _section("measures")
    indicators = _section("indicators")
    results = _section("results")
    problems = _section("problems")
    plan = _section("plan")
    version = HiddenField()  # the summary's version when the page was opened (when ``shown`` is not sent)
    #: The sections as the page showed them: "key:hash,..." (annual.section_hash). A section whose text differs
    #: from it was changed by the manager; only those are saved, and one saved meanwhile by someone else is a
    #: conflict.
    shown = HiddenField()

    def section_values(self):
        """The sections the page sent (one it did not send is left as it is, never emptied)."""
        return {key: self[key].data or "" for key in SECTION_KEYS if self[key].raw_data}

    def expected_version(self):
        """The version the form was opened at, or None when the page did not send a readable one."""
        text = (self.version.data or "").strip()
        return int(text) if text.isdigit() and len(text) < 10 else None

    def shown_hashes(self):
        """{key: hash} of the sections as shown, or None when the page did not send all five readably."""
        hashes = {}
        for part in (self.shown.data or "").split(","):
            key, _, value = part.strip().partition(":")
            if key in SECTION_KEYS and len(value) == 16 and all(c in "0123456789abcdef" for c in value):
                hashes[key] = value
        return hashes if set(hashes) == set(SECTION_KEYS) else None

    def mark_shown(self, summary):
        """Record in the form the version and the sections of ``summary`` as the page now shows them."""
        self.version.data = str(summary.version)
        self.shown.data = ",".join(f"{key}:{value}" for key, value in shown_hashes(summary.sections).items())


class AnnualSentForm(AppForm):
    """The day the summary went to the authority: after the year it summarises ended, and not in the future."""

    sent_on = DateField(_l("Day it was sent"), validators=[InputRequired(_l("Enter the day it was sent.")),
                                                            sensible_date])

    def __init__(self, *args, year, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.year, self.today = year, today

    def validate_sent_on(self, field):
        if field.data is None or field.errors:
            return
        if field.data > self.today:
            raise ValidationError(_l("This day is in the future; record the day it was sent."))
        if field.data < date(self.year + 1, 1, 1):
            raise ValidationError(_l("The summary of %(year)d can only be sent after the year ended.",
                                     year=self.year))
