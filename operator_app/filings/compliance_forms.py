"""The form of the compliance page: uploading an inspection document (审计报告, 财务制度, 标识照片, …)."""
from flask_babel import lazy_gettext as _l
from wtforms import DateField, FileField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, ValidationError

from ..accounts.forms import required
from ..forms import AppForm, sensible_date
from .compliance_services import DOCUMENT_KINDS


class InspectionDocumentForm(AppForm):
    """``today`` (the base's day) bounds the document's date: a document is not dated in the future."""

    kind = SelectField(_l("Kind of document"),
                       choices=[SelectChoice(key, label) for key, label in DOCUMENT_KINDS.items()],
                       validators=[InputRequired(message=_l("Choose one."))])
    title = StringField(_l("Title"), validators=[required(), Length(max=200)],
                        filters=[lambda value: value.strip() if isinstance(value, str) else value])
    dated_on = DateField(_l("Date of the document"), validators=[InputRequired(message=_l("Enter the date.")),
                                                               sensible_date],
                         description=_l("The date on the document (for a photo: the day it was taken). The audit "
                                        "report counts for 18 months from its date."))
    file = FileField(_l("File (PDF, JPG, PNG or WEBP)"))

    def __init__(self, *args, today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def validate_dated_on(self, field):
        if self.today is not None and field.data and field.data > self.today:
            raise ValidationError(_l("A document cannot be dated in the future."))

    def validate_file(self, field):
        if not getattr(field.data, "filename", None):
            raise ValidationError(_l("Choose a file to upload."))

    def values(self):
        return {"kind": self.kind.data, "title": self.title.data, "dated_on": self.dated_on.data}
