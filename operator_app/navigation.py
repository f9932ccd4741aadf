"""The main navigation: sections every base page shows, filled by the domain packages as they land.

A section whose endpoint is not registered yet is shown greyed out as "coming soon" rather than
linking to an empty page.
"""
from dataclasses import dataclass

from flask import current_app, g, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .accounts import constants as c
from .audit import display_value
from .i18n import select_locale
from .panels import panels_for

STAFF = (c.ROLE_MANAGER, c.ROLE_STAFF, c.ROLE_MENTOR)
EVERYONE = STAFF + (c.ROLE_TENANT,)


@dataclass(frozen=True)
class Section:
    endpoint: str
    label: str
    roles: tuple


SECTIONS = (
    Section("bases.dashboard", _l("Dashboard"), EVERYONE),
    Section("tenants.company_list", _l("Tenant companies"), STAFF),
    Section("ledger.index", _l("Service ledger"), STAFF),
    Section("tenants.portal", _l("Our company"), (c.ROLE_TENANT,)),
    Section("ledger.mine", _l("Our services"), (c.ROLE_TENANT,)),
    Section("filings.index", _l("Reports and filings"), (c.ROLE_MANAGER, c.ROLE_STAFF)),
    Section("billing.index", _l("Rent bills"), (c.ROLE_MANAGER, c.ROLE_STAFF)),
    Section("billing.my_invoices", _l("Our bills"), (c.ROLE_TENANT,)),
)

SETTINGS = (
    Section("bases.profile", _l("Base profile"), (c.ROLE_MANAGER,)),
    Section("bases.members", _l("Members and invitations"), (c.ROLE_MANAGER,)),
    Section("bases.audit_log", _l("Audit log"), (c.ROLE_MANAGER,)),
)


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str | None
    active: bool


def _items(sections, role, endpoint):
    items = []
    for section in sections:
        if role not in section.roles:
            continue
        available = section.endpoint in current_app.view_functions
        items.append(NavItem(section.label, url_for(section.endpoint) if available else None,
                             active=endpoint == section.endpoint))
    return items


def register(app):
    @app.context_processor
    def navigation():
        from flask import request

        base, role = g.get("base"), g.get("role")
        context = {"current_base": base, "current_role": role, "audit_value": display_value,
                   "role_label": c.ROLE_LABELS.get(role) if role else None,
                   "languages": app.config["LANGUAGES"], "current_locale": select_locale(),
                   "has_view": lambda endpoint: endpoint in app.view_functions}
        if base is not None:
            context["nav_items"] = _items(SECTIONS, role, request.endpoint)
            context["banners"] = panels_for(base, role, place="banner") if role else []
            context["settings_items"] = _items(SETTINGS, role, request.endpoint)
        if current_user.is_authenticated:
            context["user_bases"] = current_user.accessible_bases()
        return context
