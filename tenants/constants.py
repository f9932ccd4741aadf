"""Vocabularies of the tenant domain: statuses, industries (GB/T 4754-2017 sections), milestones, exits, documents.

Labels are lazy translations (English msgids, Chinese in the zh_CN catalogue, the names of DOMAIN.md).
"""
from flask_babel import lazy_gettext as _l

STATUS_APPLICANT = "applicant"
STATUS_ADMITTED = "admitted"
STATUS_IN_RESIDENCE = "in_residence"
STATUS_REJECTED = "rejected"
STATUS_EXITED = "exited"
STATUS_GRADUATED = "graduated"
STATUS_LABELS = {
    STATUS_APPLICANT: _l("Applicant"),
    STATUS_ADMITTED: _l("Admitted"),
    STATUS_IN_RESIDENCE: _l("In residence"),
    STATUS_EXITED: _l("Exited"),
    STATUS_GRADUATED: _l("Graduated"),
    STATUS_REJECTED: _l("Rejected"),
}
#: Companies the base houses now (the count the tenant-count standard is checked against).
HOUSED_STATUSES = (STATUS_IN_RESIDENCE,)
#: Companies admitted or housed: each holds its place (and its code) in the base.
ACTIVE_STATUSES = (STATUS_ADMITTED, STATUS_IN_RESIDENCE)
# Companies that have been in the base at some time (housed now, or left): their months and results count.
ARRIVED_STATUSES = (STATUS_IN_RESIDENCE, STATUS_EXITED, STATUS_GRADUATED)
#: Statuses a company can be created in directly by staff (an existing roster), besides applying.
CREATABLE_STATUSES = (STATUS_IN_RESIDENCE, STATUS_APPLICANT)

# 国民经济行业分类 GB/T 4754-2017, the 20 sections (门类).
INDUSTRIES = {
    "A": _l("Agriculture, forestry, animal husbandry and fishery"),
    "B": _l("Mining"),
    "C": _l("Manufacturing"),
    "D": _l("Electricity, heat, gas and water production and supply"),
    "E": _l("Construction"),
    "F": _l("Wholesale and retail trade"),
    "G": _l("Transport, storage and postal services"),
    "H": _l("Accommodation and catering"),
    "I": _l("Information transmission, software and information technology services"),
    "J": _l("Finance"),
    "K": _l("Real estate"),
    "L": _l("Leasing and business services"),
    "M": _l("Scientific research and technical services"),
    "N": _l("Water conservancy, environment and public facilities management"),
    "O": _l("Resident, repair and other services"),
    "P": _l("Education"),
    "Q": _l("Health and social work"),
    "R": _l("Culture, sports and entertainment"),
    "S": _l("Public administration, social security and social organisations"),
    "T": _l("International organisations"),
}

# Zones a tenant can be housed in (the public service zone houses services, not companies).
TENANT_ZONES = ("incubation", "growth")

MILESTONE_FINANCING = "financing"
MILESTONE_KINDS = {
    MILESTONE_FINANCING: _l("Financing round"),
    "patent": _l("Patent or software copyright"),
    "high_tech": _l("High-tech enterprise (高新技术企业)"),
    "specialised": _l("Specialised and innovative (专精特新)"),
    "above_scale": _l("Grew above the statistical threshold (小升规)"),
    "shareholding": _l("Shareholding reform (股份制改造)"),
    "listing": _l("Listing"),
    "award": _l("Competition award"),
    "other": _l("Other"),
}

EXIT_GRADUATION = "graduation"
EXIT_REASONS = {
    EXIT_GRADUATION: _l("Graduation (incubated successfully)"),
    "lease_expiry": _l("Lease expiry"),
    "violation": _l("Violation of the rules"),
    "voluntary": _l("Voluntary"),
    "other": _l("Other"),
}
GRADUATE_TRACKING_YEARS = 3  # 001 "8个有" §4: 跟踪掌握其离开后三年内的发展情况

DOCUMENT_KINDS = {
    "licence": _l("Business licence"),
    "lease": _l("Lease contract"),
    "team_evidence": _l("Evidence of a startup team"),
    "application": _l("Application form"),
    "business_plan": _l("Business plan"),
    "other": _l("Other document"),
}

#: 001 "8个有" §8: 工位初创企业数量原则上不能超过该类型基地入驻企业数量标准的20%.
DEFAULT_WORKSTATION_QUOTA_PERCENT = 20

# --- Rent (有优惠政策) ----------------------------------------------------------------------------------
SPACE_OFFICE = "office"
SPACE_WORKSTATION = "workstation"
SPACE_TYPES = {SPACE_OFFICE: _l("Office space (per m² per month)"),
               SPACE_WORKSTATION: _l("Workstation (per seat per month)")}
SPACE_UNITS = {SPACE_OFFICE: _l("m²"), SPACE_WORKSTATION: _l("seats")}

QUOTE_SOURCES = {
    "agency": _l("Estate agency"),
    "listing": _l("Published listing"),
    "nearby_park": _l("Nearby park or building"),
    "other": _l("Other source"),
}

POLICY_KINDS = {
    "time_limited": _l("For a limited period"),
    "groups": _l("For certain groups"),
    "incubation_workstations": _l("For workstation companies in the incubation zone"),
}

#: 001 "8个有" §6: 总体优惠幅度低于当地市场询价20%即可. A base setting, defaulting to the policy.
DEFAULT_DISCOUNT_THRESHOLD_PERCENT = 20
#: A market quote older than this stops counting (a base setting).
DEFAULT_QUOTE_MAX_AGE_MONTHS = 12
#: 001 §6: 原则上不鼓励长期免费优惠 — free rent longer than this is flagged (a base setting).
DEFAULT_FREE_RENT_WARNING_MONTHS = 6
#: Leases ending within this many days are listed on the dashboard.
LEASE_ENDING_SOON_DAYS = 60

# --- Workstation attendance --------------------------------------------------------------------------------
#: 001 "8个有" §8: 基地内的工位初创企业人员每周平均要有4天以上在基地内办公. A base setting.
DEFAULT_ATTENDANCE_DAYS = 4

# Monthly operating data (月度经营数据, 001 "8个有" §5): due on this day of the following month by default.
DEFAULT_REPORT_DUE_DAY = 10
# A month whose revenue or headcount changed by more than this factor from the month before is flagged.
DEFAULT_REPORT_CHANGE_FACTOR = 3
REPORT_OPTIONAL_FIELDS = {"rd_spending_fen": _l("R&D spending"), "new_ip": _l("New patents and other IP"),
                          "financing_fen": _l("Financing received"), "exports_fen": _l("Exports")}
REPORT_DRAFT, REPORT_SUBMITTED = "draft", "submitted"
REPORT_STATUS_LABELS = {REPORT_DRAFT: _l("Draft"), REPORT_SUBMITTED: _l("Submitted")}
# Where a company stands with a month's report on a given day.
FILING_FILED, FILING_LATE_FILED, FILING_DRAFT, FILING_MISSING, FILING_LATE = (
    "filed", "late_filed", "draft", "missing", "late")
FILING_LABELS = {FILING_FILED: _l("Filed"), FILING_LATE_FILED: _l("Filed late"), FILING_DRAFT: _l("Draft only"),
                 FILING_MISSING: _l("Not filed yet"), FILING_LATE: _l("Late")}
REMINDER_OPENING, REMINDER_MIDWAY, REMINDER_DUE = "opening", "midway", "due"
REMINDER_MIDWAY_DAY = 5
# Graduates (001 "8个有" §4): followed up every so many months for GRADUATE_TRACKING_YEARS after leaving.
DEFAULT_FOLLOWUP_INTERVAL_MONTHS = 6
ATTENDANCE_QR, ATTENDANCE_STAFF, ATTENDANCE_IMPORT = "qr", "staff", "import"
