"""The company list's filters and the one query that both the list page and the xlsx export use."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from wtforms import Form, SelectField, StringField

from operator_app.accounts.constants import ZONE_LABELS

from . import constants as c
from .forms import choices
from .models import TenantCompany

SORTS = {
    "name": TenantCompany.name,
    "moved_in_on": TenantCompany.moved_in_on,
    "status": TenantCompany.status,
    "area": TenantCompany.area_m2,
    "created": TenantCompany.created_at,
}


class CompanyFilterForm(Form):
    """Filters from the query string. An unknown value is ignored (the filter is off), never an error."""

    q = StringField(_l("Search"))
    zone = SelectField(_l("Zone"), choices=choices({z: ZONE_LABELS[z] for z in c.TENANT_ZONES}, blank=_l("All zones")))
    status = SelectField(_l("Status"), choices=choices(c.STATUS_LABELS, blank=_l("Current (applicants, admitted, "
                                                                                  "in residence)")) +
                         choices({"all": _l("All statuses")}))
    industry = SelectField(_l("Industry"), choices=choices(c.INDUSTRIES, blank=_l("All industries")))
    workstation = SelectField(_l("Workstation"), choices=choices({"yes": _l("Workstation companies"),
                                                                  "no": _l("Other companies")}, blank=_l("All")))
    sort = SelectField(_l("Sort by"), choices=choices({"name": _l("Name"), "moved_in_on": _l("Move-in date"),
                                                       "status": _l("Status"), "area": _l("Area"),
                                                       "created": _l("Recently added")}))
    direction = SelectField(_l("Order"), choices=choices({"asc": _l("Ascending"), "desc": _l("Descending")}))

    def value(self, name):
        """The filter's value when it is one of its choices, else None."""
        field = self[name]
        allowed = {choice.value for choice in field.choices}
        return field.data if field.data in allowed and field.data != "" else None


def company_statement(filters):
    """SELECT of the base's companies matching ``filters`` (a CompanyFilterForm), in the chosen order."""
    statement = select(TenantCompany).where(TenantCompany.deleted_at.is_(None))
    text = "".join(ch for ch in (filters.q.data or "") if ch >= " ").strip()[:100]  # no control characters
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(or_(TenantCompany.name.ilike(pattern, escape="\\"),
                                        TenantCompany.uscc.ilike(pattern, escape="\\"),
                                        TenantCompany.contact_name.ilike(pattern, escape="\\"),
                                        TenantCompany.unit.ilike(pattern, escape="\\")))
    if filters.value("zone"):
        statement = statement.where(TenantCompany.zone == filters.value("zone"))
    status = filters.value("status")
    if status is None:
        statement = statement.where(TenantCompany.status.in_(
            (c.STATUS_APPLICANT, c.STATUS_ADMITTED, c.STATUS_IN_RESIDENCE)))
    elif status != "all":
        statement = statement.where(TenantCompany.status == status)
    if filters.value("industry"):
        statement = statement.where(TenantCompany.industry == filters.value("industry"))
    if filters.value("workstation"):
        statement = statement.where(TenantCompany.is_workstation.is_(filters.value("workstation") == "yes"))
    column = SORTS[filters.value("sort") or "name"]
    ordered = column.desc() if filters.value("direction") == "desc" else column.asc()
    return statement.order_by(ordered.nulls_last(), TenantCompany.id)
