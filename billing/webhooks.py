"""Stripe's webhooks: the signature check on the raw body, and each event applied once, in the transaction
that stores its id.

Mapping: an event reaches an operator only through the Stripe customer id we stored on its subscription row,
never through ids in the payload's metadata. Order: an event carries Stripe's ``created`` second; the
subscription row keeps the Stripe time of the state it holds (``state_at``). A subscription in an event's payload
is applied only when the event is newer than that state; when it is of the same second (Stripe sends several
events in one second, and their order is then unknown) the subscription is fetched again from Stripe instead.
Invoice events do not carry the subscription's status: after one that moves money (paid, payment failed) the
subscription is always fetched again, so a late or repeated invoice event applies Stripe's current state and
never an old one.
"""
import hashlib
import hmac
import json
import logging
import re
import time

from sqlalchemy.exc import IntegrityError

from operator_app.extensions import db
from operator_app.timeutil import as_utc

from .models import StripeEvent
from .subscription import (apply_subscription, fetch_subscription, from_timestamp, invoice_subscription_id,
                           may_follow, record_invoice, subscription_by_customer)

log = logging.getLogger(__name__)

APPLIED, STALE, IGNORED, UNKNOWN_CUSTOMER, DUPLICATE = "applied", "stale", "ignored", "unknown_customer", "duplicate"
SUBSCRIPTION_EVENTS = ("customer.subscription.created", "customer.subscription.updated",
                       "customer.subscription.deleted")
INVOICE_EVENTS = ("invoice.created", "invoice.finalized", "invoice.paid", "invoice.payment_succeeded",
                  "invoice.payment_failed")
#: Invoice events after which the subscription's status may have changed.
MONEY_EVENTS = ("invoice.paid", "invoice.payment_succeeded", "invoice.payment_failed")
MALFORMED = "malformed"
MAX_SIGNATURE_HEADER = 2000
#: Seconds a signed timestamp may be away from our clock when the setting is missing or not positive: a tolerance
#: of 0 would otherwise switch the replay check off (a signed body could be replayed for ever).
DEFAULT_TOLERANCE = 300
#: The latest ``created`` second an event may carry (9999-12-31T23:59:59Z; a datetime cannot hold later ones).
MAX_EVENT_TIME = 253_402_300_799
TIMESTAMP = re.compile(r"[0-9]{1,12}")
V1_SIGNATURE = re.compile(r"[0-9a-f]{64}")
#: What an effect raises on a signed payload whose values have the wrong type or range (Stripe will send the same
#: body again, so retrying cannot help): the event is stored as MALFORMED, its effect rolled back.
MALFORMED_ERRORS = (ValueError, TypeError, AttributeError, OverflowError, KeyError)


class InvalidWebhook(ValueError):
    """The request is not a genuine, fresh, well-formed Stripe event."""


def verify_signature(body, header, secret, tolerance, now=None):
    """Check Stripe's ``Stripe-Signature`` header (``t=<seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">``)
    against the raw ``body`` bytes. Raises InvalidWebhook for a missing secret or header, a signature that does
    not match, or a timestamp further than ``tolerance`` seconds from ``now``. A ``tolerance`` below one second
    (0 or negative, a misconfiguration) means DEFAULT_TOLERANCE, never "no replay check"."""
    if not secret:
        raise InvalidWebhook("no webhook secret is configured")
    if not header or len(header) > MAX_SIGNATURE_HEADER:
        raise InvalidWebhook("no signature")
    timestamp, signatures = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        # ASCII digits and lowercase hex only: str.isdigit() takes "²", and compare_digest refuses non-ASCII str.
        if key == "t" and TIMESTAMP.fullmatch(value):
            timestamp = int(value)
        elif key == "v1" and V1_SIGNATURE.fullmatch(value):
            signatures.append(value.encode("ascii"))
    if timestamp is None or not signatures:
        raise InvalidWebhook("malformed signature header")
    expected = hmac.new(secret.encode("utf-8"), str(timestamp).encode("ascii") + b"." + body,
                        hashlib.sha256).hexdigest().encode("ascii")
    if not any(hmac.compare_digest(expected, signature) for signature in signatures):
        raise InvalidWebhook("signature does not match")
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or tolerance < 1:
        log.warning("STRIPE_WEBHOOK_TOLERANCE %r is not a positive number of seconds: %s used", tolerance,
                    DEFAULT_TOLERANCE)
        tolerance = DEFAULT_TOLERANCE
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise InvalidWebhook("timestamp outside the tolerance")


def parse_event(body):
    """The event of a verified body as a dict. Raises InvalidWebhook when it is not a Stripe event."""
    try:
        event = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidWebhook("body is not JSON") from None
    if not isinstance(event, dict):
        raise InvalidWebhook("not an event")
    event_id, kind, created = event.get("id"), event.get("type"), event.get("created")
    data = event.get("data")
    if not (isinstance(event_id, str) and 0 < len(event_id) <= 255 and isinstance(kind, str) and len(kind) <= 100
            and isinstance(created, int) and not isinstance(created, bool) and 0 < created <= MAX_EVENT_TIME
            and isinstance(data, dict) and isinstance(data.get("object"), dict)):
        raise InvalidWebhook("not an event")
    account = event.get("account")
    if account is not None and not (isinstance(account, str) and len(account) <= 64):
        raise InvalidWebhook("not an event")
    return event


def process(event):
    """Apply ``event`` once and commit with its StripeEvent row; returns the outcome. A repeated event (its id
    already stored, or stored by a concurrent delivery) does nothing and answers DUPLICATE. Raises
    stripe.StripeError (nothing stored, Stripe will send it again) when a subscription cannot be fetched."""
    if db.session.get(StripeEvent, event["id"]) is not None:
        return DUPLICATE
    record = StripeEvent(id=event["id"], type=event["type"], account=event.get("account"),
                         created_at=from_timestamp(event["created"]), outcome="")
    db.session.add(record)
    try:
        # Claimed first: a concurrent delivery of the same event waits here and then finds it taken.
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return DUPLICATE
    try:
        if event.get("account"):
            outcome, record.base_id = _connected_event(event)
        else:
            outcome, record.operator_id = _platform_event(event)
        outcome = (outcome or IGNORED)[:32]
        record.outcome = outcome
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        if db.session.get(StripeEvent, event["id"]) is not None:
            return DUPLICATE
        raise
    except MALFORMED_ERRORS:
        db.session.rollback()
        log.exception("Stripe event %s (%s) has values of the wrong type or range: recorded as malformed, nothing "
                      "changed", event["id"], event["type"])
        return _record_malformed(event)
    except Exception:
        db.session.rollback()
        raise
    return outcome


def _record_malformed(event):
    """Store ``event`` with the outcome MALFORMED and nothing else (its effect was rolled back): Stripe would send
    the same signed body again for days and it would fail the same way, so it is answered 200 and kept once."""
    db.session.add(StripeEvent(id=event["id"], type=event["type"], account=event.get("account"),
                               created_at=from_timestamp(event["created"]), outcome=MALFORMED))
    try:
        db.session.commit()
    except IntegrityError:  # a concurrent delivery of the same event stored it first
        db.session.rollback()
        return DUPLICATE
    return MALFORMED


def _connected_event(event):
    """A connected account's event (a tenant paying its base's rent through a payment link)."""
    try:
        from billing.payment_links import handle_connected_event
    except ModuleNotFoundError as error:  # an installation without the rent half: nothing to do
        if error.name != "billing.payment_links":
            raise
        return IGNORED, None
    outcome, base_id = handle_connected_event(event)
    return outcome, base_id


def _platform_event(event):
    """An event of our own account: the operators' subscriptions and their invoices."""
    kind, obj = event["type"], event["data"]["object"]
    event_at = from_timestamp(event["created"])
    if kind == "checkout.session.completed":
        return _checkout_completed(obj, event_at)
    if kind in SUBSCRIPTION_EVENTS:
        return _subscription_changed(obj, event_at)
    if kind in INVOICE_EVENTS:
        return _invoice_changed(kind, obj, event_at)
    return IGNORED, None


def _row_for(obj, kind):
    customer = obj.get("customer")
    if isinstance(customer, dict):
        customer = customer.get("id")
    row = subscription_by_customer(customer, lock=True)
    if row is None:
        log.warning("Stripe %s for unknown customer %r: recorded, nothing changed", kind, customer)
    return row


def _refetch(row, subscription_id, event_at):
    """Apply Stripe's current state of the subscription (it is at least as new as any event); returns APPLIED,
    or IGNORED when Stripe says the subscription belongs to another customer."""
    current = fetch_subscription(subscription_id)
    customer = current.get("customer")
    if isinstance(customer, dict):
        customer = customer.get("id")
    if customer != row.stripe_customer_id:
        log.warning("Subscription %s belongs to customer %r, not operator %s's %r; ignored", subscription_id,
                    customer, row.operator_id, row.stripe_customer_id)
        return IGNORED
    held = as_utc(row.state_at)
    apply_subscription(row, current, max(event_at, held) if held else event_at)
    return APPLIED


def _checkout_completed(session, event_at):
    if session.get("mode") != "subscription":
        return IGNORED, None
    row = _row_for(session, "checkout.session.completed")
    if row is None:
        return UNKNOWN_CUSTOMER, None
    if session.get("client_reference_id") not in (None, str(row.operator_id)):
        log.warning("Checkout session %s names operator %r but its customer is operator %s's: the customer wins",
                    session.get("id"), session.get("client_reference_id"), row.operator_id)
    subscription_id = session.get("subscription")
    if isinstance(subscription_id, dict):
        subscription_id = subscription_id.get("id")
    if not may_follow(row, subscription_id):
        log.warning("Checkout session %s: subscription %r is not operator %s's current one; ignored",
                    session.get("id"), subscription_id, row.operator_id)
        return IGNORED, row.operator_id
    return _refetch(row, subscription_id, event_at), row.operator_id


def _subscription_changed(subscription, event_at):
    row = _row_for(subscription, "subscription event")
    if row is None:
        return UNKNOWN_CUSTOMER, None
    if not may_follow(row, subscription.get("id")):
        log.info("Subscription %s is not operator %s's current one; ignored", subscription.get("id"),
                 row.operator_id)
        return IGNORED, row.operator_id
    held = as_utc(row.state_at)
    if held is None or event_at > held:
        apply_subscription(row, subscription, event_at)
    elif event_at == held:
        return _refetch(row, subscription["id"], event_at), row.operator_id
    else:
        return STALE, row.operator_id
    return APPLIED, row.operator_id


def _invoice_changed(kind, invoice, event_at):
    if not isinstance(invoice.get("id"), str):
        return IGNORED, None
    row = _row_for(invoice, kind)
    if row is None:
        return UNKNOWN_CUSTOMER, None
    stored = record_invoice(row, invoice, event_at)
    subscription_id = invoice_subscription_id(invoice)
    if kind in MONEY_EVENTS and subscription_id and may_follow(row, subscription_id):
        return _refetch(row, subscription_id, event_at), row.operator_id
    return (APPLIED if stored else STALE), row.operator_id
