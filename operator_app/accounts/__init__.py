"""Accounts: operators (运营单位), bases (双创基地), users, memberships with roles, invitations."""

from flask_babel import lazy_gettext as _l

from .. import audit
from . import constants as c

audit.register_labels(
    actions={
        "operator.create": _l("Operator created"), "base.create": _l("Base created"),
        "base.update_profile": _l("Base profile changed"), "zone.update": _l("Zone changed"),
        "user.create": _l("Account created"), "user.change_password": _l("Password changed"),
        "user.deactivate": _l("Account deactivated"), "membership.set": _l("Role given"),
        "invitation.create": _l("Invitation created"), "invitation.accept": _l("Invitation accepted"),
        "invitation.revoke": _l("Invitation revoked"),
    },
    objects={"Operator": _l("Operating organisation"), "Base": _l("Base"), "Zone": _l("Zone"),
             "User": _l("Account"), "Membership": _l("Membership"), "Invitation": _l("Invitation")},
    fields={
        "name": _l("Name or title"), "user": _l("Person"), "slug": _l("Web address"), "base_type": _l("Base type"),
        "is_demonstration": _l("Demonstration base (示范基地)"), "address": _l("Address"),
        "timezone": _l("Time zone"), "tenant_count_standard": _l("Tenant-count standard of the base type"),
        "total_area_m2": _l("Total area (m²)"), "site_ownership": _l("Site"),
        "site_certificates": _l("Property certificate numbers or lease contract"),
        "site_lease_start_on": _l("Lease starts"), "site_lease_end_on": _l("Lease ends"),
        "site_boundaries": _l("Boundaries of the site"), "service_functions": _l("Service functions offered"),
        "has_signage": _l("Signage (有标识)"), "area_m2": _l("Area (m²)"),
        "description": _l("Location and boundaries"), "email": _l("Email"), "phone": _l("Mobile phone"),
        "role": _l("Role"), "is_active": _l("Active"),
    },
    values={"base_type": c.BASE_TYPES, "site_ownership": c.SITE_OWNERSHIP,
            "service_functions": c.SERVICE_FUNCTIONS, "role": c.ROLE_LABELS},
)
