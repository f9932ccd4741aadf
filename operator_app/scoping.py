"""Base scoping for views: blueprints under ``/b/<base_slug>/``, the current base, declared roles.

A base blueprint resolves the base from the URL and the user's access to it before any view runs:
anonymous → login, no such base or no access → 404 (never 403, so a base's existence is not revealed); then a
write to a base whose operator's subscription has lapsed is refused (read-only, billing/access.py).
Each view then declares the roles allowed to use it with ``roles_required``; others get 403.
"""
from functools import wraps

from flask import Blueprint, abort, current_app, g
from flask_login import current_user

from .accounts import constants as c
from .accounts.services import find_base_by_slug
from .db import set_current_base

ALL_BASE_ROLES = (c.ROLE_MANAGER, c.ROLE_STAFF, c.ROLE_MENTOR, c.ROLE_TENANT)
STAFF_ROLES = (c.ROLE_MANAGER, c.ROLE_STAFF, c.ROLE_MENTOR)


def base_blueprint(name, import_name, url_prefix=""):
    """A blueprint whose every route lives under ``/b/<base_slug>`` + ``url_prefix`` and is base-scoped."""
    blueprint = Blueprint(name, import_name, url_prefix="/b/<base_slug>" + url_prefix)
    blueprint.url_value_preprocessor(_pull_base_slug)
    blueprint.before_request(_load_current_base)
    return blueprint


def public_base_blueprint(name, import_name, url_prefix=""):
    """A blueprint of pages a base shows to anyone (its published rules, its application form) under
    ``/p/<base_slug>``: no login, the base confined as for members, no such base → 404."""
    blueprint = Blueprint(name, import_name, url_prefix="/p/<base_slug>" + url_prefix)
    blueprint.url_value_preprocessor(_pull_base_slug)
    blueprint.before_request(_load_public_base)
    return blueprint


def _load_public_base():
    base = find_base_by_slug(g.base_slug or "")
    if base is None:
        abort(404)
    g.base, g.role = base, None
    set_current_base(base.id)
    return refuse_writes_when_read_only(base.operator_id)


def _pull_base_slug(endpoint, values):
    g.base_slug = values.pop("base_slug", None) if values else None


def _load_current_base():
    """Resolve ``g.base`` and ``g.role``. Raises Unauthorized-redirect for anonymous, NotFound otherwise."""
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    base = find_base_by_slug(g.base_slug or "")
    if base is None:
        abort(404)
    role = effective_role(current_user, base)
    if role is None:
        abort(404)
    g.base, g.role, g.user = base, role, current_user._get_current_object()
    membership = g.user.membership_in(base)
    # A tenant contact speaks for one company; views use this to show them only their own.
    g.tenant_company_id = membership.tenant_company_id if role == c.ROLE_TENANT and membership else None
    set_current_base(base.id)
    return refuse_writes_when_read_only(base.operator_id)


def refuse_writes_when_read_only(operator_id):
    """None, or the read-only page when the request writes and the operator's subscription has lapsed beyond
    its grace (issue 9): every page and export stays readable, nothing is changed and nothing deleted."""
    from billing.access import refuse_writes  # billing builds on the platform; imported when a request runs

    return refuse_writes(operator_id)


def effective_role(user, base):
    """The user's role in ``base``: an owner of the base's operator acts as manager; None without access."""
    if user.owns_operator_of(base):
        return c.ROLE_MANAGER
    membership = user.membership_in(base)
    return membership.role if membership else None


def add_base_slug(endpoint, values):
    """URL defaults: links built inside a base page stay in that base."""
    if "base_slug" in values or not g.get("base"):
        return
    if current_app.url_map.is_endpoint_expecting(endpoint, "base_slug"):
        values["base_slug"] = g.base.slug


def roles_required(*roles):
    """Allow the view to users whose role in the current base is one of ``roles``; others get 403.

    The roles are kept on the view (``allowed_roles``) so the role-matrix test reads the declaration.
    """
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if g.get("role") not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = frozenset(roles)
        return wrapped

    return decorator
