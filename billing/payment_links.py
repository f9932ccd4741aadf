"""Stripe payment links for bills, on the base's own Stripe account (Stripe Connect): a Checkout Session in
mode=payment for what a bill still owes (card, Alipay, WeChat Pay), and the connected account's events that
say it was paid or expired.

Links are on when this installation has a Stripe key (``stripe_client.enabled()``) and the base's manager has
entered the base's account id (BillingSettings.stripe_account_id, acct_…).

Checkout is not in localstripe, the local Stripe server the suite runs for the subscriptions: creating a
session is tested against a small HTTP server in the test that answers like Stripe's API, and the events by
calling ``handle_connected_event`` with event dicts as Stripe sends them.
"""
import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from operator_app import audit
from operator_app.accounts.models import Base
from operator_app.db import scoped_to, unscoped
from operator_app.extensions import db
from operator_app.timeutil import as_utc, utcnow

from . import invoicing, payments, settlement, stripe_client
from .models import BillingSettings, PaymentLink, RentInvoice

ACCOUNT_ID = re.compile(r"^acct_[A-Za-z0-9]{6,59}$")  # the column holds 64 characters
CURRENCY = "cny"
PAYMENT_METHOD_TYPES = ["card", "alipay", "wechat_pay"]
#: A Checkout Session expires 24 hours after it is made (Stripe's default); a link is handed out again for
#: somewhat less than that, so nobody is sent to a page about to close.
REUSE_FOR = timedelta(hours=23)
OPEN, PAID, EXPIRED = "open", "paid", "expired"
PAID_EVENTS = ("checkout.session.completed", "checkout.session.async_payment_succeeded")


class PaymentLinkError(Exception):
    """A link that cannot be made; ``message`` says why, for the person who asked."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def billing_settings():
    """The base's BillingSettings row, or None before anything was set."""
    return db.session.scalar(select(BillingSettings))


def connected_account():
    """The base's Stripe account id (acct_…), or None."""
    row = billing_settings()
    return row.stripe_account_id if row is not None else None


def links_enabled():
    """True when bills of the current base can be paid online."""
    return stripe_client.enabled() and bool(connected_account())


def account_taken(account_id, base_id):
    """True when another base has already connected ``account_id`` (an account pays one base)."""
    with unscoped("an account id is unique across bases: look for it in the others"):
        return db.session.scalar(select(BillingSettings.id).where(BillingSettings.stripe_account_id == account_id,
                                                                  BillingSettings.base_id != base_id)) is not None


def set_connected_account(account_id, *, by):
    """Save (or clear, with None) the base's Stripe account id. Returns the BillingSettings row."""
    row = billing_settings()
    if row is None:
        row = BillingSettings()
        db.session.add(row)
        db.session.flush()
    before = audit.snapshot(row, ["stripe_account_id"])
    row.stripe_account_id = account_id or None
    db.session.flush()
    if before["stripe_account_id"] != row.stripe_account_id:
        audit.record("billing.stripe_account", row, before=before, after=audit.snapshot(row, ["stripe_account_id"]),
                     user=by)
    return row


# --- Creating a link ------------------------------------------------------------------------------------------

def open_link(invoice, amount_fen, now=None):
    """A link of ``invoice`` still open for ``amount_fen`` and young enough to hand out again, or None."""
    now = now or utcnow()
    links = db.session.scalars(select(PaymentLink).where(PaymentLink.invoice_id == invoice.id,
                                                         PaymentLink.status == OPEN)
                               .order_by(PaymentLink.id.desc())).all()
    for link in links:
        if link.amount_fen == amount_fen and as_utc(link.created_at) > now - REUSE_FOR:
            return link
    return None


def link_for(invoice, *, by, success_url, cancel_url, now=None):
    """A Stripe Checkout page for what ``invoice`` still owes: the open one when it asks that amount, else a new
    Checkout Session on the base's connected account. Returns the PaymentLink.

    Raises PaymentLinkError when links are off, nothing is owed, or Stripe refuses or cannot be reached.
    """
    account = connected_account()
    if not (stripe_client.enabled() and account):
        raise PaymentLinkError(_l("Online payment is not set up for this base."))
    owed = settlement.outstanding(invoice)
    if owed <= 0:
        raise PaymentLinkError(_l("Nothing is owed on this bill."))
    existing = open_link(invoice, owed, now)
    if existing is not None:
        return existing
    stripe = stripe_client.api()
    number = invoicing.display_number(invoice.number)
    title = _("Bill %(number)s · %(company)s", number=number, company=invoice.company.name)
    metadata = {"base_id": str(invoice.base_id), "invoice_id": str(invoice.id), "invoice_number": number}
    earlier = db.session.scalar(select(func.count(PaymentLink.id)).where(PaymentLink.invoice_id == invoice.id))
    hour = int((now or utcnow()).timestamp() // 3600)
    try:
        session = stripe.checkout.Session.create(
            mode="payment",
            line_items=[{"quantity": 1, "price_data": {"currency": CURRENCY, "unit_amount": owed,
                                                       "product_data": {"name": title}}}],
            payment_method_types=PAYMENT_METHOD_TYPES,
            payment_method_options={"wechat_pay": {"client": "web"}},
            client_reference_id=str(invoice.id), metadata=metadata,
            payment_intent_data={"description": title, "metadata": metadata},
            success_url=success_url, cancel_url=cancel_url,
            stripe_account=account,
            # Two clicks at once ask Stripe for the same session (same bill, amount, links so far, hour).
            idempotency_key=f"bill-link-{invoice.base_id}-{invoice.id}-{owed}-{earlier}-{hour}")
    except stripe.StripeError as error:
        current_app.logger.warning("Stripe Checkout session for bill %s failed: %s", invoice.id, error)
        raise PaymentLinkError(_l("Stripe could not make the payment page just now. Try again later.")) from error
    session = session.to_dict() if hasattr(session, "to_dict") else dict(session)
    session_id, url = session.get("id"), session.get("url")
    if not session_id or not url:
        current_app.logger.warning("Stripe answered without a session id or url for bill %s", invoice.id)
        raise PaymentLinkError(_l("Stripe could not make the payment page just now. Try again later."))
    link = PaymentLink(invoice_id=invoice.id, stripe_session_id=session_id, url=url, amount_fen=owed,
                       created_by_id=by.id if by is not None else None)
    try:
        with db.session.begin_nested():
            db.session.add(link)
    except IntegrityError:
        # The same session was stored by the other of two clicks (the idempotency key gave both the same one).
        return db.session.scalar(select(PaymentLink).where(PaymentLink.stripe_session_id == session_id))
    _expire_superseded(invoice, link, account)
    audit.record("payment_link.create", link, after=audit.snapshot(
        link, ["invoice_id", "stripe_session_id", "amount_fen"]), user=by)
    return link


def _expire_superseded(invoice, keep, account):
    """Close the bill's older open links on Stripe (they ask an amount no longer owed). Best effort: one still
    paid later is recorded all the same, and what it pays beyond the bills becomes the company's credit."""
    stripe = stripe_client.api()
    older = db.session.scalars(select(PaymentLink).where(PaymentLink.invoice_id == invoice.id,
                                                         PaymentLink.status == OPEN,
                                                         PaymentLink.id != keep.id)).all()
    for link in older:
        try:
            stripe.checkout.Session.expire(link.stripe_session_id, stripe_account=account)
        except stripe.StripeError as error:
            current_app.logger.info("Could not expire Checkout session %s: %s", link.stripe_session_id, error)
            continue
        link.status = EXPIRED
    db.session.flush()


# --- The connected account's events ---------------------------------------------------------------------------

def handle_connected_event(event):
    """Apply one event of a base's connected Stripe account; returns ``(outcome, base_id)``.

    ``event`` is the event as Stripe sends it (the parsed JSON body: a dict with ``id``, ``type``, ``account``,
    ``created`` and ``data.object``). The webhook view calls this inside its transaction, after it has checked
    the signature and that the event is new; it commits. The base is found by the account id stored in
    BillingSettings, never by the event's metadata; the bill by the Checkout Session id we stored.

    Outcomes: "unknown_account" (base_id None: no base has connected that account), "applied" (a payment was
    recorded and settled), "already_recorded" (that session's payment is in the books already), "expired"
    (the link was marked expired), "unpaid" (completed but not yet paid: an asynchronous payment method),
    "unknown_session" (not a link of that base), "ignored" (an event type we do not act on).
    """
    if hasattr(event, "to_dict"):  # a stripe.Event works too
        event = event.to_dict()
    account = event.get("account")
    if not account:
        return "unknown_account", None
    with unscoped("a connected account's event names its base only by the account id"):
        base_id = db.session.scalar(select(BillingSettings.base_id)
                                    .where(BillingSettings.stripe_account_id == account))
    if base_id is None:
        current_app.logger.warning("Stripe event %s for unknown account %s", event.get("id"), account)
        return "unknown_account", None
    kind = event.get("type")
    if kind not in PAID_EVENTS and kind != "checkout.session.expired":
        return "ignored", base_id
    session = (event.get("data") or {}).get("object") or {}
    session_id = session.get("id")
    with scoped_to(base_id):
        link = db.session.scalar(select(PaymentLink).where(PaymentLink.stripe_session_id == session_id)) \
            if isinstance(session_id, str) else None
        if link is None:
            current_app.logger.warning("Stripe event %s names session %s, not a link of base %s", event.get("id"),
                                       session_id, base_id)
            return "unknown_session", base_id
        if kind == "checkout.session.expired":
            if link.status == OPEN:
                link.status = EXPIRED
                db.session.flush()
            return "expired", base_id
        if session.get("payment_status") != "paid":
            return "unpaid", base_id
        return _record_link_payment(link, session, event, base_id), base_id


def _record_link_payment(link, session, event, base_id):
    invoice = db.session.get(RentInvoice, link.invoice_id)
    settlement.lock_company(invoice.company_id)  # a second delivery waits here, then finds the link paid
    db.session.refresh(link)
    if link.payment_id is not None or link.status == PAID:
        return "already_recorded"
    if (session.get("currency") or CURRENCY).lower() != CURRENCY:
        current_app.logger.error("Checkout session %s was paid in %s, not %s", link.stripe_session_id,
                                 session.get("currency"), CURRENCY)
        return "ignored"
    base = db.session.get(Base, base_id)
    paid_at = datetime.fromtimestamp(int(event.get("created") or utcnow().timestamp()), timezone.utc)
    intent = session.get("payment_intent")
    if isinstance(intent, dict):
        intent = intent.get("id")
    amount = session.get("amount_total")
    values = {"amount_fen": int(amount) if amount else link.amount_fen,
              "received_on": paid_at.astimezone(ZoneInfo(base.timezone)).date(),
              "method": payments.METHOD_STRIPE, "reference": (intent or link.stripe_session_id)[:120],
              "notes": link.stripe_session_id}
    payment = payments.record_payment(invoice.company, values, first=invoice, by=None, allow_duplicate=True)
    link.status, link.payment_id = PAID, payment.id
    db.session.flush()
    return "applied"
