"""What the base profile already shows of the policy's requirements, item by item (met / not met / unknown).

The full inspection view comes with the filings; these are the items the profile alone can decide.
"""
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from ..accounts import constants as c
from ..timeutil import today_in

MET, NOT_MET, UNKNOWN = "met", "not_met", "unknown"

# The order of the items in the policy text ("8个有" then "6个要"); a domain package's checks take their place.
POLICY_ORDER = ("team", "mentors", "agencies", "site", "signage", "zones", "service_functions", "tenant_standard")
CHECK_PROVIDERS = []


def register_checks(provider):
    """Let a domain package add the items it decides: ``provider(base)`` returns a list of Check."""
    if provider not in CHECK_PROVIDERS:
        CHECK_PROVIDERS.append(provider)


@dataclass(frozen=True)
class Check:
    key: str
    label: str
    status: str
    detail: str


def profile_checks(base):
    """The profile items of "8个有" and "6个要" for ``base``, in the order of the policy text."""
    checks = []

    if base.site_ownership is None:
        checks.append(Check("site", _l("Site (有场地)"), UNKNOWN, _l("Say whether the site is owned or leased.")))
    elif base.site_ownership == c.SITE_OWNED:
        status = MET if base.site_certificates.strip() else UNKNOWN
        checks.append(Check("site", _l("Site (有场地)"), status,
                            _l("Owned; record the property certificate numbers.") if status == UNKNOWN
                            else _l("Owned, certificates recorded.")))
    elif base.site_lease_end_on is not None and base.site_lease_end_on < today_in(base.timezone):
        checks.append(Check("site", _l("Site (有场地)"), NOT_MET,
                            _l("The site's lease ended on %(date)s: record the new lease.",
                               date=base.site_lease_end_on.isoformat())))
    else:
        years = base.site_lease_years
        status = UNKNOWN if years is None else (MET if years >= c.MIN_SITE_LEASE_YEARS else NOT_MET)
        checks.append(Check("site", _l("Site (有场地)"), status,
                            _l("A leased site must be leased for at least %(n)d years; this lease runs "
                               "%(years)s years.", n=c.MIN_SITE_LEASE_YEARS,
                               years=years if years is not None else "?")))

    checks.append(Check("signage", _l("Signage (有标识)"), MET if base.has_signage else NOT_MET,
                        _l("A \"小微企业服务站\" sign on the wall of the public service hall.")))

    zones = base.ordered_zones()
    zones_done = len(zones) == len(c.ZONE_LABELS) and all(zone.area_m2 for zone in zones)
    checks.append(Check("zones", _l("Three zones (三个区域)"), MET if zones_done else UNKNOWN,
                        _l("Incubation, growth and public service zones, each with its area.")))

    offered = len(base.service_functions or [])
    checks.append(Check("service_functions", _l("Service functions (服务功能要齐全)"),
                        MET if offered >= c.MIN_SERVICE_FUNCTIONS else NOT_MET,
                        _l("At least %(min)d of the eight service functions; %(n)d offered.",
                           min=c.MIN_SERVICE_FUNCTIONS, n=offered)))

    checks.append(Check("tenant_standard", _l("Tenant-count standard (企业数量标准)"),
                        MET if base.tenant_count_standard else UNKNOWN,
                        _l("Set the province's standard for this base type so tenant counts can be "
                           "checked against it.") if not base.tenant_count_standard
                        else _l("Standard: %(n)d tenants actually housed.", n=base.tenant_count_standard)))
    for provider in CHECK_PROVIDERS:
        checks.extend(provider(base))
    order = {key: index for index, key in enumerate(POLICY_ORDER)}
    return sorted(checks, key=lambda check: order.get(check.key, len(order)))
