"""Account services: the only code that changes operators, bases, users, memberships and invitations.

Each service flushes and writes its audit entry; the request commits once.
"""
import hashlib
import re
import secrets
from datetime import timedelta, timezone

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import contains_eager, joinedload

from .. import audit
from ..db import scoped_to, unscoped
from ..extensions import db
from ..security import hash_password, verify_password
from ..timeutil import utcnow
from . import constants as c
from .models import Base, Invitation, Membership, Operator, User, UserSession, Zone

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,38}[a-z0-9])$")
SESSION_TOUCH_INTERVAL = timedelta(minutes=5)
RESERVED_SLUGS = frozenset({"admin", "api", "static", "login", "logout", "signup", "new", "operator", "b"})

PROFILE_FIELDS = ("name", "base_type", "is_demonstration", "address", "timezone", "tenant_count_standard",
                  "total_area_m2", "site_ownership", "site_certificates", "site_lease_start_on",
                  "site_lease_end_on", "site_boundaries", "service_functions", "has_signage",
                  "operating_since_on")


def normalise_email(email):
    return email.strip().lower()


def email_taken(email):
    return db.session.scalar(select(User.id).where(User.email == normalise_email(email))) is not None


def slug_taken(slug):
    return db.session.scalar(select(Base.id).where(Base.slug == slug)) is not None


def find_base_by_slug(slug):
    """The base with this web address, or None (a string that cannot be a slug is not looked up)."""
    if not SLUG_PATTERN.match(slug or ""):
        return None
    return db.session.scalar(select(Base).where(Base.slug == slug))


def authenticate(email, password):
    """The active user with this email and password, or None."""
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if not verify_password(user.password_hash if user else None, password) or not user.is_active:
        return None
    user.last_login_at = utcnow()
    return user


def create_user(email, name, password, phone=""):
    user = User(email=normalise_email(email), name=name.strip(), phone=phone.strip(),
                password_hash=hash_password(password))
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", user, after=audit.snapshot(user, ["email", "name", "phone"]), user=user)
    return user


def _create_zones(base):
    with scoped_to(base.id):
        for kind in c.ZONE_LABELS:
            db.session.add(Zone(kind=kind))
        db.session.flush()


#: What the domain packages create with every new base (its rules row, …), each a function of the base run in
#: the base's scope. Rows a base always has are made here, so that no page has to create one on first use.
BASE_SETUP = []


def on_base_created(setup):
    """Register ``setup(base)`` to run in ``create_base``; usable as a decorator."""
    if setup not in BASE_SETUP:
        BASE_SETUP.append(setup)
    return setup


def create_base(operator, *, name, slug, base_type, by):
    """Create a base of ``operator`` with its three zones (001 "3个三") and what the domain packages set up for
    every base (``BASE_SETUP``); the caller checked the slug."""
    base = Base(operator=operator, name=name.strip(), slug=slug, base_type=base_type, service_functions=[])
    db.session.add(base)
    db.session.flush()
    _create_zones(base)
    with scoped_to(base.id):
        for setup in BASE_SETUP:
            setup(base)
        db.session.flush()
    audit.record("base.create", base, after=audit.snapshot(base, ["name", "slug", "base_type"]),
                 user=by, base_id=base.id, operator_id=operator.id)
    return base


def sign_up_operator(*, operator_name, base_name, base_slug, base_type, user_name, email, password):
    """Create an operator, its first base and the owner account who manages it. Returns (user, base)."""
    operator = Operator(name=operator_name.strip())
    db.session.add(operator)
    db.session.flush()
    user = create_user(email, user_name, password)
    user.operator = operator
    user.is_operator_owner = True
    audit.record("operator.create", operator, after={"name": operator.name}, user=user, operator_id=operator.id)
    base = create_base(operator, name=base_name, slug=base_slug, base_type=base_type, by=user)
    add_membership(user, base, c.ROLE_MANAGER, by=user)
    return user, base


def add_membership(user, base, role, *, by, tenant_company_id=None):
    """Give ``user`` ``role`` in ``base`` (reactivating an old membership); returns the membership.

    A tenant contact's membership names the company they speak for (``tenant_company_id``).
    """
    membership = db.session.scalar(
        select(Membership).where(Membership.user_id == user.id, Membership.base_id == base.id))
    before = audit.snapshot(membership, ["role", "is_active"]) if membership else None
    if membership is None:
        membership = Membership(user=user, base=base, role=role, tenant_company_id=tenant_company_id)
        db.session.add(membership)
    else:
        membership.role, membership.is_active = role, True
        membership.tenant_company_id = tenant_company_id
    db.session.flush()
    audit.record("membership.set", membership, before=before,
                 after={"user": user.name, **audit.snapshot(membership, ["role", "is_active"])},
                 user=by, base_id=base.id)
    return membership


def update_base_profile(base, values, *, by):
    """Apply the profile ``values`` (the keys of PROFILE_FIELDS and ``zones``) and audit the difference."""
    before = audit.snapshot(base, PROFILE_FIELDS)
    for field in PROFILE_FIELDS:
        setattr(base, field, values[field])
    if base.site_ownership != c.SITE_LEASED:
        base.site_lease_start_on = base.site_lease_end_on = None
    after = audit.snapshot(base, PROFILE_FIELDS)
    if before != after:
        audit.record("base.update_profile", base,
                     before={k: v for k, v in before.items() if after[k] != v},
                     after={k: v for k, v in after.items() if before[k] != v}, user=by, base_id=base.id)
    for zone in base.ordered_zones():
        zone_values = values["zones"][zone.kind]
        zone_before = audit.snapshot(zone, ["area_m2", "description"])
        zone.area_m2, zone.description = zone_values["area_m2"], zone_values["description"]
        zone_after = audit.snapshot(zone, ["area_m2", "description"])
        if zone_before != zone_after:
            audit.record("zone.update", zone, before=zone_before, after=zone_after, user=by)
    db.session.flush()


def change_password(user, new_password):
    """Set a new password and end every other session of the user."""
    user.password_hash = hash_password(new_password)
    end_all_sessions(user, keep_token=user.session_token)
    audit.record("user.change_password", user, user=user)
    db.session.flush()


def _token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user, ip=None, user_agent=""):
    """Open a server-side session for ``user`` and attach its token to the user object for the cookie."""
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(user_id=user.id, token_hash=_token_hash(token), ip=ip,
                               user_agent=(user_agent or "")[:200]))
    user.session_token = token
    db.session.flush()
    return token


def _aware(moment):
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)  # SQLite drops the zone; UTC


def load_session_user(cookie_id):
    """The active user whose live session the cookie value ``"<user id>:<token>"`` names, or None.

    A session ends ``SESSION_IDLE_DAYS`` after its last use and ``SESSION_MAX_DAYS`` after login,
    whatever the cookie says.
    """
    user_id, _, token = (cookie_id or "").partition(":")
    if not user_id.isdigit() or not token or len(token) > 100:
        return None
    # One statement for the session, its user and the user's memberships (every base page reads them).
    row = db.session.execute(
        select(UserSession).options(joinedload(UserSession.user).joinedload(User.memberships))
        .where(UserSession.token_hash == _token_hash(token), UserSession.user_id == int(user_id),
               UserSession.revoked_at.is_(None))).unique().scalars().first()
    if row is None or not row.user.is_active:
        return None
    now, config = utcnow(), current_app.config
    if (now - _aware(row.created_at) > timedelta(days=config["SESSION_MAX_DAYS"])
            or now - _aware(row.last_seen_at) > timedelta(days=config["SESSION_IDLE_DAYS"])):
        return None
    if now - _aware(row.last_seen_at) > SESSION_TOUCH_INTERVAL:
        # Recorded in its own short transaction: a read-only page does not commit the request's session.
        with db.engine.begin() as connection:
            connection.execute(update(UserSession).where(UserSession.id == row.id).values(last_seen_at=now))
    row.user.session_token = token
    return row.user


def end_session(token):
    """Revoke the session ``token`` names (logout): a replayed copy of its cookie no longer logs in."""
    if token:
        db.session.execute(update(UserSession).where(UserSession.token_hash == _token_hash(token),
                                                     UserSession.revoked_at.is_(None)).values(revoked_at=utcnow()))


def end_all_sessions(user, keep_token=None):
    """Revoke every session of ``user`` except ``keep_token``'s (password change, deactivation)."""
    statement = update(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    if keep_token:
        statement = statement.where(UserSession.token_hash != _token_hash(keep_token))
    db.session.execute(statement.values(revoked_at=utcnow()))


def deactivate_user(user, *, by):
    """Block ``user`` from logging in and end their sessions; their records stay."""
    user.is_active_account = False
    end_all_sessions(user)
    audit.record("user.deactivate", user, user=by)
    db.session.flush()


def invite(base, *, email, role, by, tenant_company_id=None):
    """Create a one-time invitation; returns (invitation, token). Only the token's hash is stored.

    Staff roles are invited from the members page; a tenant contact is invited for one company.
    """
    if role not in c.INVITABLE_ROLES and not (role == c.ROLE_TENANT and tenant_company_id):
        raise ValueError(role)
    email = normalise_email(email)
    for earlier in pending_invitations(base):
        if earlier.email == email:  # a new link replaces the old one, so only one link works at a time
            revoke_invitation(earlier, by=by)
    token = secrets.token_urlsafe(32)
    invitation = Invitation(email=normalise_email(email), role=role, tenant_company_id=tenant_company_id,
                            token_hash=_token_hash(token),
                            invited_by_id=by.id,
                            expires_at=utcnow() + timedelta(days=current_app.config["INVITATION_DAYS"]))
    db.session.add(invitation)
    db.session.flush()
    audit.record("invitation.create", invitation, after={"email": invitation.email, "role": role}, user=by)
    return invitation, token


def find_invitation(token):
    """The usable invitation for ``token`` (any base: the token is the only key), or None."""
    if not token or len(token) > 100:
        return None
    with unscoped("an invitation link is opened before its base is known"):
        invitation = db.session.scalar(select(Invitation).where(Invitation.token_hash == _token_hash(token)))
    if invitation is None or not invitation.is_usable(utcnow()):
        return None
    return invitation


def invitation_is_for(invitation, user):
    """An invitation is personal: only the account with the invited email may accept it."""
    return normalise_email(user.email) == invitation.email


def accept_invitation(invitation, user):
    """Use the invitation up and add ``user`` to its base with its role; returns the membership.

    A user who is already an active member keeps the role they have: an invitation never changes
    an existing role (that is a manager's explicit decision). Raises ValueError when the invitation
    is for another email.
    """
    if not invitation_is_for(invitation, user):
        raise ValueError("invitation is for another email")
    with scoped_to(invitation.base_id):
        invitation.accepted_at = utcnow()
        invitation.accepted_by_id = user.id
        membership = user.membership_in(invitation.base)
        if membership is None:
            membership = add_membership(user, invitation.base, invitation.role, by=user,
                                        tenant_company_id=invitation.tenant_company_id)
        audit.record("invitation.accept", invitation, after={"role": membership.role}, user=user)
        db.session.flush()
    return membership


def revoke_invitation(invitation, *, by):
    invitation.revoked_at = utcnow()
    audit.record("invitation.revoke", invitation, user=by)
    db.session.flush()


def is_member(base, email):
    """True when the person with ``email`` already has an active membership in ``base``."""
    return db.session.scalar(
        select(Membership.id).join(Membership.user)
        .where(Membership.base_id == base.id, Membership.is_active.is_(True), User.email == normalise_email(email))
    ) is not None


def pending_invitations(base):
    now = utcnow()
    rows = db.session.scalars(select(Invitation).where(
        Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None)).order_by(Invitation.created_at.desc()))
    return [row for row in rows if row.is_usable(now)]


def base_members(base, roles=None):
    """Active memberships of ``base`` (only ``roles`` when given), ordered by role and name."""
    statement = (select(Membership).where(Membership.base_id == base.id, Membership.is_active.is_(True))
                 .join(Membership.user).options(contains_eager(Membership.user)).order_by(Membership.role, User.name))
    if roles:
        statement = statement.where(Membership.role.in_(roles))
    return db.session.scalars(statement).all()


def count_users():
    return db.session.scalar(select(func.count(User.id)))
