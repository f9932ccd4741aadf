"""The subscription plans (their limits and Stripe price ids are in the configuration, BILLING_PLANS), their
labels, and the labels of Stripe's subscription and invoice statuses."""
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l

PLAN_LABELS = {
    "starter": _l("Starter: one base"),
    "standard": _l("Standard: up to three bases"),
    "network": _l("Network: up to ten bases"),
}

#: Stripe's subscription statuses, and "none" before an operator subscribes.
STATUS_LABELS = {
    "none": _l("Not subscribed"),
    "incomplete": _l("Awaiting the first payment"),
    "incomplete_expired": _l("First payment not made"),
    "trialing": _l("Trial"),
    "active": _l("Active"),
    "past_due": _l("Payment overdue"),
    "unpaid": _l("Unpaid"),
    "canceled": _l("Canceled"),
    "paused": _l("Paused"),
}

INVOICE_STATUS_LABELS = {
    "draft": _l("Draft"),
    "open": _l("Awaiting payment"),
    "paid": _l("Paid"),
    "uncollectible": _l("Uncollectible"),
    "void": _l("Void"),
}


@dataclass(frozen=True)
class Plan:
    key: str
    max_bases: int
    max_companies: int
    price_id: str | None

    @property
    def label(self):
        """The plan's label; a plan configured without one is named by its key, in the reader's language."""
        if self.key in PLAN_LABELS:
            return PLAN_LABELS[self.key]
        return _l("Plan %(key)s", key=self.key)


def all_plans():
    """Every configured plan, in the order of the configuration."""
    return [Plan(key, int(spec["max_bases"]), int(spec["max_companies"]), spec.get("price_id") or None)
            for key, spec in current_app.config.get("BILLING_PLANS", {}).items()]


def offered_plans():
    """The plans an operator can subscribe to: those with a Stripe price id."""
    return [plan for plan in all_plans() if plan.price_id]


def plan_by_key(key):
    """The plan called ``key``, or None."""
    return next((plan for plan in all_plans() if plan.key == key), None)


def plan_for_price(price_id):
    """The plan whose Stripe price id is ``price_id``, or None (a price set up in Stripe but not here)."""
    if not price_id:
        return None
    return next((plan for plan in all_plans() if plan.price_id == price_id), None)
