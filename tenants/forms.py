"""Tenant forms: the company file, milestones, documents, admission, rejection, exit, rules, import."""
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from stdnum.cn import uscc as uscc_module
from stdnum.exceptions import ValidationError as StdnumError
from wtforms import (BooleanField, DateField, FileField, HiddenField, IntegerField, RadioField, SelectField,
                     StringField, TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Email, InputRequired, Length, NumberRange, Optional, ValidationError

from operator_app.accounts.constants import ZONE_LABELS
from operator_app.accounts.forms import MultiCheckboxField, email_field, required
from operator_app.forms import AppForm, FiniteDecimalField, at_most_two_decimals, sensible_date

from . import constants as c
from . import services
from .rules import direct_entry_problems


MAX_COMPANY_YUAN = 10_000_000_000  # 100 亿元: beyond what any small business earns, pays or raises


def yuan_amount(label):
    """A company's amount of money typed in yuan (revenue, tax, financing): optional, 0 to 100 亿, at most fen."""
    return FiniteDecimalField(label, places=2, validators=[
        Optional(), NumberRange(min=0, max=MAX_COMPANY_YUAN,
                                message=_l("Enter an amount from 0 to 10,000,000,000 yuan.")),
        at_most_two_decimals])


def choices(mapping, blank=None):
    options = [SelectChoice(key, label) for key, label in mapping.items()]
    return ([SelectChoice("", blank)] if blank is not None else []) + options


def zone_choices(blank=None):
    return choices({zone: ZONE_LABELS[zone] for zone in c.TENANT_ZONES}, blank)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _upper_compact(value):
    return value.replace(" ", "").replace("-", "").upper() if isinstance(value, str) else value


DATE = [Optional(), sensible_date]
def check_uscc(form, field):
    """A team may have no code; a code must be a valid USCC (normalised in place). True when a code was given."""
    if not field.data:
        if not form.is_team.data:
            raise ValidationError(_l("Enter the unified social credit code, or mark this as a startup team."))
        return False
    try:
        field.data = uscc_module.validate(field.data)
    except StdnumError:
        raise ValidationError(_l("This is not a valid unified social credit code (18 characters with a "
                                 "check character).")) from None
    return True


AREA = [Optional(), NumberRange(min=0, max=1_000_000, message=_l("Enter an area between 0 and 1,000,000 m²."))]


class CompanyForm(AppForm):
    """The company file. Used for the web form and, row by row, for the roster import."""

    name = StringField(_l("Company or team name"), validators=[required(), Length(max=120)], filters=[_strip])
    uscc = StringField(_l("Unified social credit code"), validators=[Length(max=30)],
                       filters=[_strip, _upper_compact],
                       description=_l("18 characters (统一社会信用代码). A startup team without a licence leaves it "
                                      "empty and describes its evidence of being a team."))
    is_team = BooleanField(_l("Startup team without a business licence (创业团队)"))
    team_evidence = TextAreaField(_l("Evidence of being a startup team"), validators=[Length(max=2000)],
                                  description=_l("For example a recognised master or technical lead, a named studio, "
                                                 "or a business plan for a concrete project (001 \"6个要\" §2)."))
    legal_representative = StringField(_l("Legal representative or person in charge"),
                                       validators=[Optional(), Length(max=60)], filters=[_strip])
    contact_name = StringField(_l("Contact person"), validators=[Optional(), Length(max=60)], filters=[_strip])
    contact_phone = StringField(_l("Contact phone"), validators=[Optional(), Length(max=20)], filters=[_strip])
    contact_email = StringField(_l("Contact email"), filters=[_strip], validators=[
        Optional(), Length(max=254), Email(message=_l("Enter a valid email address."), check_deliverability=False)])
    main_business = TextAreaField(_l("Main business"), validators=[Length(max=2000)])
    industry = SelectField(_l("Industry"), choices=choices(c.INDUSTRIES, blank=_l("— choose —")),
                           validators=[required()])
    zone = SelectField(_l("Zone"), choices=zone_choices(blank=_l("— not yet placed —")), validators=[Optional()])
    unit = StringField(_l("Unit or workstation numbers"), validators=[Optional(), Length(max=120)], filters=[_strip])
    is_workstation = BooleanField(_l("Workstation company (工位初创企业)"))
    workstation_count = IntegerField(_l("Number of workstations"), validators=[
        Optional(), NumberRange(min=1, max=500, message=_l("Enter a whole number from 1 to 500."))])
    area_m2 = FiniteDecimalField(_l("Area (m²)"), places=2, validators=AREA)
    moved_in_on = DateField(_l("Move-in date"), validators=DATE)
    licence_in_base = BooleanField(_l("The business licence address is in the base"))
    staff_on_site = BooleanField(_l("Key staff work in the base"))
    equipment_on_site = BooleanField(_l("Office or production equipment is in the base"))
    version = HiddenField()  # the file's version when the page was loaded (optimistic locking on edit)

    def __init__(self, *args, company=None, base=None, housed=False, workstations_before=0, **kwargs):
        """``company``: the file being edited; ``housed``: the company is or becomes admitted or housed, so the
        base's rules apply (``base`` needed); ``workstations_before``: earlier workstation rows of an import."""
        super().__init__(*args, **kwargs)
        self.company = company
        self.company_id = company.id if company is not None else None
        self.base, self.housed, self.workstations_before = base, housed, workstations_before

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        moved_out_on = self.company.moved_out_on if self.company is not None else None
        if "moved_in_on" in self and self.moved_in_on.data and moved_out_on and self.moved_in_on.data > moved_out_on:
            self.moved_in_on.errors.append(_l("The move-in date is after the exit date (%(date)s).",
                                              date=moved_out_on.isoformat()))
            ok = False
        if ok and self.housed:
            problems = direct_entry_problems(self.base, industry=self.industry.data,
                                             is_workstation=bool(self.is_workstation.data), company=self.company,
                                             workstations_before=self.workstations_before)
            for name, message in problems.items():
                self[name].errors.append(message)
            ok = not problems
        return ok

    def validate_uscc(self, field):
        if not check_uscc(self, field):
            return
        if services.find_by_uscc(field.data, exclude_id=self.company_id):
            raise ValidationError(_l("A company with this code is already in the base's files."))

    def validate_team_evidence(self, field):
        if self.is_team.data and not self.uscc.data and not (field.data or "").strip():
            raise ValidationError(_l("Describe the team's evidence of being a startup team."))

    def validate_is_workstation(self, field):
        if "zone" not in self:
            return
        if field.data and self.zone.data and self.zone.data != "incubation":
            raise ValidationError(_l("Workstations are in the incubation zone."))
        if field.data and self.zone.data and not self.workstation_count.data:
            raise ValidationError(_l("Enter how many workstations the company takes."))

    def company_values(self):
        """The submitted file as services.create_company / update_company take it (absent fields left out)."""
        values = {field: self[field].data for field in services.COMPANY_FIELDS if field in self}
        values["uscc"] = values["uscc"] or None
        if "zone" in values:
            values["zone"] = values["zone"] or None
        if "area_m2" in values:
            values["area_m2"] = _cents(values["area_m2"])
        if not values["is_workstation"] and "workstation_count" in values:
            values["workstation_count"] = None
        for field in ("team_evidence", "legal_representative", "contact_name", "contact_phone", "contact_email",
                      "main_business", "unit"):
            if field in values:
                values[field] = values[field] or ""
        return values


def _cents(value):
    return value.quantize(Decimal("0.01")) if value is not None else None


class CompanyImportForm(CompanyForm):
    """One row of a roster import: the same rules as the web form, no CSRF of its own."""

    class Meta:
        csrf = False


class ApplicationForm(CompanyForm):
    """The public application through the base's link: the file without placement, plus documents.

    Placement and the occupancy evidence are the base's to record at review, so they are not asked here.
    """

    zone = unit = workstation_count = area_m2 = moved_in_on = None
    licence_in_base = staff_on_site = equipment_on_site = None

    def validate_uscc(self, field):
        """Checks the code's form only: whether the base already knows the code is for the review, not for
        an anonymous visitor to learn."""
        check_uscc(self, field)


class MilestoneForm(AppForm):
    occurred_on = DateField(_l("Date"), validators=[InputRequired(message=_l("Enter the date.")), sensible_date])
    kind = SelectField(_l("Kind"), choices=choices(c.MILESTONE_KINDS), validators=[required()])
    title = StringField(_l("What happened"), validators=[required(), Length(max=200)], filters=[_strip])
    amount_yuan = FiniteDecimalField(_l("Amount (yuan)"), places=2, validators=[
        Optional(), NumberRange(min=0, max=10**12, message=_l("Enter an amount from 0 to 1,000,000,000,000 yuan."))],
        description=_l("For a financing round."))

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        # Cross-field rule, checked here because an empty optional field skips its own inline validator.
        if self.kind.data == c.MILESTONE_FINANCING and self.amount_yuan.data is None and not self.amount_yuan.errors:
            self.amount_yuan.errors.append(_l("Enter the amount of the financing round."))
            ok = False
        return ok

    def amount_fen(self):
        return int((self.amount_yuan.data * 100).to_integral_value()) if self.amount_yuan.data is not None else None


class DocumentForm(AppForm):
    kind = SelectField(_l("Kind of document"), choices=choices(c.DOCUMENT_KINDS), validators=[required()])
    file = FileField(_l("File (PDF, JPG, PNG or WEBP)"))


class AdmitForm(AppForm):
    zone = SelectField(_l("Zone"), choices=zone_choices(), validators=[required()])
    unit = StringField(_l("Unit or workstation numbers"), validators=[required(), Length(max=120)], filters=[_strip])
    is_workstation = BooleanField(_l("Workstation company (工位初创企业)"))
    workstation_count = IntegerField(_l("Number of workstations"), validators=[
        Optional(), NumberRange(min=1, max=500, message=_l("Enter a whole number from 1 to 500."))])
    area_m2 = FiniteDecimalField(_l("Area (m²)"), places=2, validators=AREA)
    moved_in_on = DateField(_l("Move-in date"), validators=[InputRequired(message=_l("Enter the date.")),
                                                            sensible_date])
    override_reason = TextAreaField(_l("Reason for admitting despite a failing check"),
                                    validators=[Length(max=2000)],
                                    description=_l("Managers only. Kept with the decision and in the audit log."))

    def validate_is_workstation(self, field):
        if field.data and self.zone.data != "incubation":
            raise ValidationError(_l("Workstations are in the incubation zone."))
        if field.data and not self.workstation_count.data:
            raise ValidationError(_l("Enter how many workstations the company takes."))


class RejectForm(AppForm):
    reason = TextAreaField(_l("Reason"), validators=[required(), Length(max=2000)])


class MoveInForm(AppForm):
    moved_in_on = DateField(_l("Move-in date"), validators=[InputRequired(message=_l("Enter the date.")),
                                                            sensible_date])


class ExitForm(AppForm):
    reason = RadioField(_l("Reason for leaving"), choices=choices(c.EXIT_REASONS), validators=[required()])
    exit_on = DateField(_l("Exit date"), validators=[InputRequired(message=_l("Enter the date.")), sensible_date])
    keys_returned = BooleanField(_l("Keys and access cards returned"))
    rent_settled = BooleanField(_l("Rent and fees settled"))
    deposit_settled = BooleanField(_l("Deposit settled"))
    notes = TextAreaField(_l("Notes"), validators=[Length(max=2000)])


class RulesForm(AppForm):
    entry_conditions = TextAreaField(_l("Entry conditions"), validators=[Length(max=10000)])
    procedure = TextAreaField(_l("Move-in procedure"), validators=[Length(max=10000)])
    management_rules = TextAreaField(_l("Management rules"), validators=[Length(max=10000)])
    exit_conditions = TextAreaField(_l("Exit conditions and procedure"), validators=[Length(max=10000)])
    allowed_industries = MultiCheckboxField(_l("Industries allowed (none ticked: every industry)"),
                                            choices=choices(c.INDUSTRIES))
    required_documents = MultiCheckboxField(_l("Documents required before admission"),
                                            choices=choices(c.DOCUMENT_KINDS))
    workstation_quota_percent = IntegerField(
        _l("Workstation quota (percent of the tenant-count standard)"),
        validators=[InputRequired(message=_l("Enter a percentage.")),
                    NumberRange(min=0, max=100, message=_l("Enter a percentage from 0 to 100."))],
        description=_l("001 §8: 工位初创企业数量原则上不能超过该类型基地入驻企业数量标准的20%."))
    is_published = BooleanField(_l("Publish the rules on the base's public page"))
    accepts_applications = BooleanField(_l("Accept applications through the public link"))

    def rules_values(self):
        return {field: self[field].data for field in services.RULES_FIELDS}


class InviteContactForm(AppForm):
    email = email_field(_l("Contact's email"))
