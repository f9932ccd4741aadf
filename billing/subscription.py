"""The operator's subscription: its Stripe customer, subscribing (through Checkout or the API), applying what
Stripe tells of a subscription or an invoice to our rows, and the usage a plan covers.

Services flush and never commit, except that the view commits the Stripe customer id on its own before anything
else is asked of Stripe, so that every webhook about that customer finds its operator.
"""
import logging
import time
from datetime import datetime, timezone

import stripe
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from operator_app import audit
from operator_app.accounts.models import Base
from operator_app.db import unscoped
from operator_app.extensions import db
from operator_app.timeutil import as_utc
from tenants.constants import HOUSED_STATUSES
from tenants.models import TenantCompany

from . import stripe_client
from .models import OperatorInvoice, Subscription
from .plans import plan_for_price

log = logging.getLogger(__name__)

ACTIVE_STATUSES = ("active", "trialing")
#: A subscription in one of these is over: a new one of the same customer may take its place.
ENDED_STATUSES = ("none", "canceled", "incomplete_expired")
#: Subscribing again is refused in these (the operator has a subscription that is still running or owed).
RUNNING_STATUSES = ("active", "trialing", "past_due", "unpaid", "incomplete", "paused")
#: The first payment failed: the owner may try again (another payment method) on the billing page.
RETRY_STATUSES = ("incomplete",)
#: Idempotency keys of a subscribe request hold for this many seconds: two clicks within it are one request.
IDEMPOTENCY_WINDOW = 3600
AUDITED_FIELDS = ["stripe_customer_id", "stripe_subscription_id", "plan", "status", "current_period_end",
                  "cancel_at_period_end"]
#: Invoices only move forward: draft → open → paid / void / uncollectible. Used to order two states of one
#: invoice stamped with the same second.
INVOICE_STATUS_RANK = {"draft": 0, "open": 1, "paid": 2, "void": 2, "uncollectible": 2}

audit.register_labels(
    actions={"subscription.customer": _l("Stripe customer created"),
             "subscription.checkout": _l("Subscription checkout started"),
             "subscription.subscribe": _l("Subscribed")},
    objects={"Subscription": _l("Subscription")},
    fields={"stripe_customer_id": _l("Stripe customer"), "stripe_subscription_id": _l("Stripe subscription"),
            "plan": _l("Plan"), "status": _l("Status"), "current_period_end": _l("Current period ends"),
            "cancel_at_period_end": _l("Cancels at the period's end")},
)


class BillingError(Exception):
    """Subscribing could not go on; ``message`` says why to the owner, in their language."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def from_timestamp(value):
    """A Stripe time (seconds since the epoch) as an aware UTC datetime; None for a missing one. Raises ValueError
    for one that is not a whole number of seconds or is out of a datetime's range."""
    if value in (None, ""):
        return None
    if isinstance(value, (bool, float)):
        raise ValueError(f"not a Stripe time: {value!r}")
    try:
        return datetime.fromtimestamp(int(value), tz=timezone.utc)
    except (OverflowError, OSError):
        raise ValueError(f"Stripe time out of range: {value!r}") from None


def subscription_of(operator_id, *, lock=False):
    """The operator's subscription row, or None. ``lock`` holds the row until the transaction ends."""
    statement = select(Subscription).where(Subscription.operator_id == operator_id)
    if lock:
        statement = statement.with_for_update()
    return db.session.scalar(statement)


def subscription_by_customer(customer_id, *, lock=False):
    """The subscription row of the Stripe customer we created for an operator, or None for a stranger."""
    if not customer_id or not isinstance(customer_id, str):
        return None
    statement = select(Subscription).where(Subscription.stripe_customer_id == customer_id)
    if lock:
        statement = statement.with_for_update()
    return db.session.scalar(statement)


def ensure_customer(operator, *, by):
    """The operator's subscription row with its Stripe customer, creating both on first use.

    Raises BillingError when Stripe cannot be reached. The caller commits at once: the customer id must be
    stored before anything else is asked of Stripe.
    """
    row = subscription_of(operator.id, lock=True)
    if row is None:
        row = Subscription(operator_id=operator.id, status="none")
        db.session.add(row)
        db.session.flush()
    if row.stripe_customer_id:
        return row
    try:
        # The idempotency key makes a retried or doubled first click give back the same customer.
        customer = stripe_client.api().Customer.create(
            name=operator.name, email=by.email, metadata={"operator_id": str(operator.id)},
            idempotency_key=f"operator-{operator.id}-customer-{row.id}")
    except stripe.StripeError as error:
        log.warning("Stripe customer for operator %s not created: %s", operator.id, error)
        raise BillingError(_("Stripe could not be reached. Nothing was charged; try again in a moment.")) from None
    row.stripe_customer_id = customer.id
    audit.record("subscription.customer", row, {"stripe_customer_id": None},
                 {"stripe_customer_id": customer.id}, user=by, operator_id=operator.id)
    db.session.flush()
    return row


def subscribe_idempotency_key(row, plan, what, now=None):
    """The Stripe idempotency key of subscribing ``row``'s operator to ``plan`` (``what``: checkout or
    subscription) within the current IDEMPOTENCY_WINDOW: a double click gets back the same Checkout Session or
    subscription. It names the subscription the row holds, so subscribing again after one ended is a new
    request."""
    window = int((time.time() if now is None else now) // IDEMPOTENCY_WINDOW)
    return (f"operator-{row.operator_id}-{what}-{plan.key}-after-{row.stripe_subscription_id or 'none'}"
            f"-{window}")[:255]


def _payment_method_of(customer):
    settings = customer.get("invoice_settings") or {}
    return settings.get("default_payment_method") or customer.get("default_source")


def subscribe_via_api(row, plan, *, by, payment_method_id=None):
    """Subscribe the operator to ``plan`` through the Stripe API, paid with the customer's default payment
    method (``payment_method_id`` is attached and made the default first). Stores what Stripe answers at once;
    the webhooks that follow stay the source of truth.

    An operator whose first payment failed (``incomplete``) retries instead: see ``retry_first_payment``.

    Raises BillingError when the operator already has a running subscription, has no payment method, the card
    is declined or Stripe refuses.
    """
    if row.status in RETRY_STATUSES and row.stripe_subscription_id:
        return retry_first_payment(row, plan, by=by, payment_method_id=payment_method_id)
    if row.status in RUNNING_STATUSES:
        raise BillingError(_("The operator already has a subscription. Change or cancel it in the customer "
                             "portal."))
    api = stripe_client.api()
    customer_id = row.stripe_customer_id
    try:
        _set_default_payment_method(api, customer_id, payment_method_id)
        # Items by "plan": localstripe speaks only the Plans API, and Stripe accepts a price id there too.
        created = api.Subscription.create(customer=customer_id, items=[{"plan": plan.price_id}],
                                          metadata={"operator_id": str(row.operator_id)},
                                          idempotency_key=subscribe_idempotency_key(row, plan, "subscription")
                                          ).to_dict()
    except stripe.CardError:
        raise BillingError(_("The card was declined. Use another card and try again.")) from None
    except stripe.InvalidRequestError as error:
        log.warning("Stripe refused the subscription of operator %s: %s", row.operator_id, error)
        raise BillingError(_("Stripe refused the request: the payment method or the plan was not found.")) from None
    except stripe.StripeError as error:
        log.warning("Stripe subscription of operator %s not created: %s", row.operator_id, error)
        raise BillingError(_("Stripe could not be reached. Nothing was charged; try again in a moment.")) from None
    before = audit.snapshot(row, AUDITED_FIELDS)
    apply_subscription(row, created, from_timestamp(created.get("created")))
    audit.record("subscription.subscribe", row, before, audit.snapshot(row, AUDITED_FIELDS), user=by,
                 operator_id=row.operator_id)
    db.session.flush()
    return row


def _set_default_payment_method(api, customer_id, payment_method_id):
    """Attach ``payment_method_id`` to the customer and make it the default of its invoices (when given); raise
    BillingError when the customer then has no default payment method."""
    if payment_method_id:
        api.PaymentMethod.attach(payment_method_id, customer=customer_id)
        api.Customer.modify(customer_id, invoice_settings={"default_payment_method": payment_method_id})
    if not _payment_method_of(api.Customer.retrieve(customer_id).to_dict()):
        raise BillingError(_("The operator has no default payment method at Stripe yet. Add a card in Stripe "
                             "(or through the customer portal), then subscribe again."))


def _latest_invoice_id(subscription):
    invoice = subscription.get("latest_invoice")
    if isinstance(invoice, dict):
        invoice = invoice.get("id")
    return invoice if isinstance(invoice, str) else None


def retry_first_payment(row, plan, *, by, payment_method_id=None):
    """Try the first payment of the operator's ``incomplete`` subscription again: ``payment_method_id`` (when
    given) becomes the customer's default payment method, then the subscription's open first invoice is paid with
    it (Stripe and localstripe both pay with the customer's default). For another plan than the incomplete
    subscription's, that subscription is canceled (nothing was paid on it) and a new one created.

    Raises BillingError when the card is declined again or Stripe refuses.
    """
    api = stripe_client.api()
    try:
        _set_default_payment_method(api, row.stripe_customer_id, payment_method_id)
        current = api.Subscription.retrieve(row.stripe_subscription_id).to_dict()
        if current.get("status") not in RETRY_STATUSES:
            # Stripe moved on meanwhile (paid elsewhere, or expired): hold its state and let the owner see it.
            apply_subscription(row, current, as_utc(row.state_at) or from_timestamp(current.get("created")))
            db.session.flush()
            if current.get("status") in ENDED_STATUSES:
                return subscribe_via_api(row, plan, by=by)
            return row
        if plan_for_price(_price_id(current)) not in (None, plan):
            api.Subscription.cancel(row.stripe_subscription_id)
            row.status = "canceled"  # the audit entry of the new subscription shows the canceled one before it
            db.session.flush()
            return subscribe_via_api(row, plan, by=by)
        invoice_id = _latest_invoice_id(current)
        if invoice_id is None:
            raise BillingError(_("Stripe refused the request: the payment method or the plan was not found."))
        invoice = api.Invoice.pay(invoice_id).to_dict()
        current = api.Subscription.retrieve(row.stripe_subscription_id).to_dict()
    except stripe.CardError:
        raise BillingError(_("The card was declined. Use another card and try again.")) from None
    except stripe.InvalidRequestError as error:
        log.warning("Stripe refused the payment retry of operator %s: %s", row.operator_id, error)
        raise BillingError(_("Stripe refused the request: the payment method or the plan was not found.")) from None
    except stripe.StripeError as error:
        log.warning("Stripe payment retry of operator %s failed: %s", row.operator_id, error)
        raise BillingError(_("Stripe could not be reached. Nothing was charged; try again in a moment.")) from None
    if invoice.get("status") != "paid":  # localstripe answers a decline with the invoice still open
        raise BillingError(_("The card was declined. Use another card and try again."))
    before = audit.snapshot(row, AUDITED_FIELDS)
    # The stamp does not move: Stripe's own later events stay newer than what was fetched here.
    apply_subscription(row, current, as_utc(row.state_at) or from_timestamp(current.get("created")))
    audit.record("subscription.subscribe", row, before, audit.snapshot(row, AUDITED_FIELDS), user=by,
                 operator_id=row.operator_id)
    db.session.flush()
    return row


def start_checkout(row, plan, *, success_url, cancel_url, by):
    """A Stripe Checkout page where the owner subscribes to ``plan``; returns its address. The subscription
    is stored when the signed ``checkout.session.completed`` webhook arrives. After a failed first payment
    (``incomplete``) it is instead the address of Stripe's page of the unpaid first invoice, where another payment
    method can pay it. Raises BillingError."""
    if row.status in RETRY_STATUSES and row.stripe_subscription_id:
        return _hosted_first_invoice(row)
    if row.status in RUNNING_STATUSES:
        raise BillingError(_("The operator already has a subscription. Change or cancel it in the customer "
                             "portal."))
    try:
        # The idempotency key makes a double click within the hour give back the same Checkout Session.
        session = stripe_client.api().checkout.Session.create(
            mode="subscription", customer=row.stripe_customer_id, client_reference_id=str(row.operator_id),
            line_items=[{"price": plan.price_id, "quantity": 1}], success_url=success_url, cancel_url=cancel_url,
            subscription_data={"metadata": {"operator_id": str(row.operator_id)}},
            idempotency_key=subscribe_idempotency_key(row, plan, "checkout"))
    except stripe.StripeError as error:
        log.warning("Stripe Checkout for operator %s not started: %s", row.operator_id, error)
        raise BillingError(_("Stripe could not be reached. Nothing was charged; try again in a moment.")) from None
    audit.record("subscription.checkout", row, None, {"plan": plan.key}, user=by, operator_id=row.operator_id)
    db.session.flush()
    return session.url


def _hosted_first_invoice(row):
    try:
        api = stripe_client.api()
        invoice_id = _latest_invoice_id(api.Subscription.retrieve(row.stripe_subscription_id).to_dict())
        url = api.Invoice.retrieve(invoice_id).to_dict().get("hosted_invoice_url") if invoice_id else None
    except stripe.StripeError as error:
        log.warning("First invoice of operator %s not found at Stripe: %s", row.operator_id, error)
        url = None
    if not (isinstance(url, str) and url.startswith("https://")):
        raise BillingError(_("Stripe could not be reached. Nothing was charged; try again in a moment."))
    return url


def portal_url(row, *, return_url):
    """The address of Stripe's customer portal for the operator. Raises BillingError."""
    try:
        session = stripe_client.api().billing_portal.Session.create(customer=row.stripe_customer_id,
                                                                    return_url=return_url)
    except stripe.StripeError as error:
        log.warning("Stripe customer portal for operator %s not opened: %s", row.operator_id, error)
        raise BillingError(_("Stripe's customer portal could not be opened. Try again in a moment.")) from None
    return session.url


def fetch_subscription(subscription_id):
    """Stripe's current state of a subscription, as a plain dict. Raises stripe.StripeError."""
    return stripe_client.api().Subscription.retrieve(subscription_id).to_dict()


def may_follow(row, subscription_id):
    """True when ``subscription_id`` is the row's subscription, or may become it: the row has none, or its
    subscription has ended (a new subscription of the same customer after a cancellation). False for anything
    that is not an id (a signed payload with a list or a number there must not be stored as the subscription)."""
    if not subscription_id or not isinstance(subscription_id, str):
        return False
    return row.stripe_subscription_id in (None, subscription_id) or row.status in ENDED_STATUSES


def _first_item(subscription):
    items = subscription.get("items")
    data = items.get("data") if isinstance(items, dict) else None
    return data[0] if data else {}


def _price_id(subscription):
    item = _first_item(subscription)
    for source in (item.get("price"), item.get("plan"), subscription.get("plan")):
        if isinstance(source, dict) and source.get("id"):
            return source["id"]
    return None


def apply_subscription(row, subscription, state_at):
    """Hold ``subscription`` (Stripe's object as a dict) as the operator's state, stamped ``state_at`` (a Stripe
    time; the row's stamp never goes back). Sets when it fell past due (the earliest) and clears it once paid."""
    status = str(subscription.get("status") or "none")
    row.stripe_subscription_id = subscription.get("id") or row.stripe_subscription_id
    row.status = status
    plan = plan_for_price(_price_id(subscription))
    if plan is not None:
        row.plan = plan.key
    period_end = subscription.get("current_period_end") or _first_item(subscription).get("current_period_end")
    row.current_period_end = from_timestamp(period_end)
    row.cancel_at_period_end = bool(subscription.get("cancel_at_period_end"))
    if status == "past_due":
        if row.past_due_since is None:
            row.past_due_since = state_at
    elif status in ACTIVE_STATUSES:
        row.past_due_since = None
    if state_at is not None and (row.state_at is None or as_utc(row.state_at) < state_at):
        row.state_at = state_at


def invoice_subscription_id(invoice):
    """The subscription an invoice bills: ``subscription`` in older API versions, ``parent`` in newer ones."""
    value = invoice.get("subscription")
    if not value:
        parent = invoice.get("parent")
        details = parent.get("subscription_details") if isinstance(parent, dict) else None
        value = details.get("subscription") if isinstance(details, dict) else None
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else None


def record_invoice(row, invoice, state_at):
    """Keep a Stripe invoice of the operator for the billing page. An older state never overwrites a newer
    one; for two of the same second the one further along (draft → open → paid) wins. Returns True when
    stored."""
    stored = db.session.scalar(select(OperatorInvoice).where(OperatorInvoice.stripe_invoice_id == invoice["id"]))
    status = str(invoice.get("status") or "open")
    if stored is not None and stored.state_at is not None:
        held_at = as_utc(stored.state_at)
        if state_at < held_at or (state_at == held_at and INVOICE_STATUS_RANK.get(status, 0)
                                  < INVOICE_STATUS_RANK.get(stored.status, 0)):
            return False
    if stored is None:
        stored = OperatorInvoice(operator_id=row.operator_id, stripe_invoice_id=invoice["id"])
        db.session.add(stored)
    lines = invoice.get("lines")
    lines = lines.get("data") if isinstance(lines, dict) else None
    first = lines[0] if isinstance(lines, list) and lines else None
    period = first.get("period") if isinstance(first, dict) else None
    period = period if isinstance(period, dict) else {}
    stored.number = str(invoice.get("number") or "")[:64]
    stored.status = status[:24]
    stored.amount_due = int(invoice.get("amount_due") or 0)
    stored.amount_paid = int(invoice.get("amount_paid") or 0)
    stored.currency = str(invoice.get("currency") or "cny")[:8]
    stored.period_start = from_timestamp(period.get("start") or invoice.get("period_start"))
    stored.period_end = from_timestamp(period.get("end") or invoice.get("period_end"))
    hosted = str(invoice.get("hosted_invoice_url") or "")
    stored.hosted_invoice_url = hosted[:500] if hosted.startswith("https://") else ""
    stored.created_at = from_timestamp(invoice.get("created")) or state_at
    stored.state_at = state_at
    db.session.flush()
    return True


def invoices_of(operator_id, limit=24):
    """The operator's Stripe invoices we were told of, newest first."""
    return db.session.scalars(select(OperatorInvoice).where(OperatorInvoice.operator_id == operator_id)
                              .order_by(OperatorInvoice.created_at.desc(), OperatorInvoice.id.desc())
                              .limit(limit)).all()


def usage(operator):
    """What the plan covers, as used now: {"bases": n, "companies": housed companies in all bases}."""
    base_ids = select(Base.id).where(Base.operator_id == operator.id)
    with unscoped("the billing page counts the housed companies of the operator's own bases"):
        companies = db.session.scalar(
            select(func.count(TenantCompany.id)).where(TenantCompany.base_id.in_(base_ids),
                                                       TenantCompany.status.in_(HOUSED_STATUSES),
                                                       TenantCompany.deleted_at.is_(None)))
    bases = db.session.scalar(select(func.count(Base.id)).where(Base.operator_id == operator.id))
    return {"bases": bases or 0, "companies": companies or 0}
