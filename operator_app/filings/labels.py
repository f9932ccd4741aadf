"""The words of the filings: indicator names and units, in the provincial order (translated, Chinese first)."""
from flask_babel import lazy_gettext as _l

INDICATOR_LABELS = {
    "housed": _l("Tenant companies housed at the quarter's end"),
    "moved_in": _l("Companies that moved in during the quarter"),
    "exited": _l("Companies that left during the quarter"),
    "revenue_wan": _l("Revenue"),
    "tax_wan": _l("Tax paid"),
    "employees": _l("Employees at the quarter's end"),
    "graduates": _l("Graduates in the quarter"),
    "followed": _l("Graduates being followed"),
    "service_requests": _l("Service requests"),
    "visits": _l("Company visits"),
    "activities": _l("Activities"),
    "participants": _l("Activity participants"),
    "rent_discount_percent": _l("Overall rent discount"),
    "attendance_below": _l("Workstation companies below the attendance rule"),
    "months_missing": _l("Monthly reports missing"),
}
UNIT_LABELS = {
    "companies": _l("companies"), "wan": _l("10,000 yuan"), "people": _l("people"), "times": _l("times"),
    "person_times": _l("person-times"), "percent": "%", "company_months": _l("company-months"),
}

