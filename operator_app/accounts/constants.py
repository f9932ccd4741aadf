"""Fixed vocabularies of the account domain: roles, base types, zones, service functions.

Labels are lazy translations: English msgids, Chinese in the zh_CN catalogue (the names of DOMAIN.md).
"""
from flask_babel import lazy_gettext as _l

ROLE_MANAGER = "manager"
ROLE_STAFF = "staff"
ROLE_MENTOR = "mentor"
ROLE_TENANT = "tenant"

ROLE_LABELS = {
    ROLE_MANAGER: _l("Manager"),
    ROLE_STAFF: _l("Service staff"),
    ROLE_MENTOR: _l("Startup mentor"),
    ROLE_TENANT: _l("Tenant contact"),
}
#: Roles a manager can invite a colleague into (tenant contacts are linked to a company in the tenants issue).
INVITABLE_ROLES = (ROLE_STAFF, ROLE_MENTOR, ROLE_MANAGER)  # staff first: the safe default

# 001 §8 names the base types; the province sets each type's tenant-count standard (per-base setting).
BASE_TYPES = {
    "industrial": _l("Industrial cluster"),
    "emerging_industry": _l("Emerging industry"),
    "producer_service": _l("Producer services"),
    "business_secretary": _l("Business secretary"),
    "poverty_alleviation": _l("Poverty alleviation"),
    "cultural_creative": _l("Cultural and creative"),
    "university": _l("University"),
    "leading_enterprise": _l("Leading enterprise"),
    "maker_space": _l("Maker space"),
}
#: 001 §8: for these types a tenant counts without its licence, staff and equipment being in the base.
BASE_TYPES_WITHOUT_OCCUPANCY_RULE = ("business_secretary", "poverty_alleviation", "cultural_creative")

# 001 "3个三": every base is divided into these three zones.
ZONE_INCUBATION = "incubation"
ZONE_GROWTH = "growth"
ZONE_PUBLIC_SERVICE = "public_service"
ZONE_LABELS = {
    ZONE_INCUBATION: _l("Incubation zone"),
    ZONE_GROWTH: _l("Growth zone"),
    ZONE_PUBLIC_SERVICE: _l("Public service zone"),
}

# 001 "6个要" §1: the eight service functions, at least four of which a base must offer.
SERVICE_FUNCTIONS = {
    "information": _l("Information services"),
    "coaching": _l("Startup coaching"),
    "innovation": _l("Innovation support"),
    "training": _l("Staff training"),
    "marketing": _l("Marketing"),
    "financing": _l("Investment and financing"),
    "consulting": _l("Management consulting"),
    "professional": _l("Professional services"),
}
MIN_SERVICE_FUNCTIONS = 4  # 001 "6个要" §1: 八大服务功能中至少要具备四项

SITE_OWNED = "owned"
SITE_LEASED = "leased"
SITE_OWNERSHIP = {SITE_OWNED: _l("Owned"), SITE_LEASED: _l("Leased")}
MIN_SITE_LEASE_YEARS = 5  # 001 "8个有" §2: 如属于租赁，期限必须在五年以上（含五年）

TIMEZONES = ("Asia/Shanghai", "Asia/Urumqi", "Asia/Hong_Kong", "Asia/Macau", "Asia/Taipei")
