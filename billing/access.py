"""What an operator's subscription allows its bases: everything, everything with a warning during a grace
period, or reading only (every page and export, no writes); the guard that refuses writes, and the banner.

Nothing is ever deleted for non-payment: read-only only refuses requests that would change something.
"""
import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, g, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from operator_app.accounts import constants as c
from operator_app.accounts.models import Operator
from operator_app.extensions import db
from operator_app.panels import register_panel
from operator_app.timeutil import as_utc, utcnow

from . import stripe_client
from .models import Subscription

log = logging.getLogger(__name__)

OFF, FULL, GRACE, READ_ONLY = "off", "full", "grace", "read_only"
#: Reasons, for the banner and the billing page.
TRIAL, SUBSCRIBED, PAST_DUE, TRIAL_OVER, ENDED = "trial", "subscribed", "past_due", "trial_over", "ended"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FULL_STATUSES = ("active", "trialing")
#: Stripe statuses in which the operator has stopped paying: its bases are read-only until it pays.
#: incomplete_expired is not one: the first payment never went through, so the operator never paid and the trial
#: decides, as for an operator that has not tried to subscribe (trying must not be worse than not trying).
READ_ONLY_STATUSES = ("unpaid", "canceled", "paused")
TRIAL_BANNER_DAYS = 7  # the managers are reminded in the trial's last week


@dataclass(frozen=True)
class Access:
    """The operator's access: ``mode`` (off, full, grace, read_only), the subscription ``status``, why
    (``reason``), and when the trial or the grace period ends (``until``, with whole ``days_left``)."""

    mode: str
    status: str = "none"
    reason: str = ""
    until: datetime | None = None
    days_left: int | None = None

    @property
    def read_only(self):
        return self.mode == READ_ONLY


def _days_left(until, now):
    return max(0, math.ceil((until - now).total_seconds() / 86400))


def access_for(operator_id, now):
    """The access of ``operator_id``'s bases at ``now`` (an aware datetime; the caller owns the clock).

    off: billing disabled (no Stripe key). full: trialing or active, or not subscribed yet within
    BILLING_TRIAL_DAYS of the operator's creation. grace: past_due for less than BILLING_GRACE_DAYS since
    ``past_due_since``. read_only: past_due beyond the grace, unpaid, canceled, paused, or the trial over without
    a subscription (none, incomplete or incomplete_expired: a first payment that did not go through).
    """
    config = current_app.config
    if not stripe_client.enabled():
        return Access(OFF)
    row = db.session.scalar(select(Subscription).where(Subscription.operator_id == operator_id))
    status = row.status if row is not None else "none"
    if status in FULL_STATUSES:
        return Access(FULL, status, SUBSCRIBED)
    if status == "past_due":
        since = as_utc(row.past_due_since) or as_utc(row.state_at) or now
        until = since + timedelta(days=config["BILLING_GRACE_DAYS"])
        if now < until:
            return Access(GRACE, status, PAST_DUE, until, _days_left(until, now))
        return Access(READ_ONLY, status, PAST_DUE)
    if status in READ_ONLY_STATUSES:
        return Access(READ_ONLY, status, ENDED)
    # Not subscribed yet (none), the first payment still pending (incomplete) or never made
    # (incomplete_expired): the trial decides.
    operator = db.session.get(Operator, operator_id)
    if operator is None:
        return Access(READ_ONLY, status, TRIAL_OVER)
    until = as_utc(operator.created_at) + timedelta(days=config["BILLING_TRIAL_DAYS"])
    if now < until:
        return Access(FULL, status, TRIAL, until, _days_left(until, now))
    return Access(READ_ONLY, status, TRIAL_OVER)


def current_access(operator_id):
    """``access_for`` the operator now, computed once per request."""
    cache = g.setdefault("billing_access", {})
    if operator_id not in cache:
        cache[operator_id] = access_for(operator_id, utcnow())
    return cache[operator_id]


def billing_url_for(operator_id):
    """The billing page's address when the current user is the owner who can pay for ``operator_id``."""
    if (current_user.is_authenticated and current_user.is_operator_owner
            and current_user.operator_id == operator_id):
        return url_for("subscription.index")
    return None


def refuse_writes(operator_id):
    """None, or the read-only page (HTTP 402) when this request would write to a base or an operator page
    of an operator whose bases are read-only. Reading (GET, HEAD, OPTIONS) is always let through."""
    if request.method in SAFE_METHODS or operator_id is None:
        return None
    access = current_access(operator_id)
    if not access.read_only:
        return None
    log.info("Write refused: operator %s is read-only (%s) — %s %s", operator_id, access.status,
             request.method, request.path)
    return render_template("billing/subscription_read_only.html", access=access,
                           billing_url=billing_url_for(operator_id)), 402


def _banner_context(base):
    return {"access": current_access(base.operator_id), "billing_url": billing_url_for(base.operator_id),
            "trial_banner_days": TRIAL_BANNER_DAYS}


# Managers see the grace period, the trial's last week and read-only; staff and mentors see read-only, so that
# they know why a form is refused before they fill it in.
register_panel("billing/_billing_banner.html", _banner_context, (c.ROLE_MANAGER, c.ROLE_STAFF, c.ROLE_MENTOR),
               order=5, place="banner")
