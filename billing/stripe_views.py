"""The operator's subscription page (/operator/billing) and the Stripe webhook (/billing/stripe/webhook)."""
import logging
import re

import stripe
from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from wtforms import RadioField, StringField
from wtforms.validators import Optional, StopValidation, ValidationError

from operator_app.extensions import csrf, db
from operator_app.forms import AppForm
from operator_app.operators.views import _require_owner
from operator_app.timeutil import utcnow

from . import stripe_client
from .access import access_for
from .plans import INVOICE_STATUS_LABELS, STATUS_LABELS, offered_plans, plan_by_key
from .subscription import (RETRY_STATUSES, RUNNING_STATUSES, BillingError, ensure_customer, invoices_of, portal_url,
                           start_checkout, subscribe_via_api, subscription_of, usage)
from .webhooks import InvalidWebhook, parse_event, process, verify_signature

log = logging.getLogger(__name__)

subscription_bp = Blueprint("subscription", __name__, url_prefix="/operator/billing")
webhook_bp = Blueprint("stripe_webhook", __name__)

PAYMENT_METHOD_ID = re.compile(r"^pm_[A-Za-z0-9_]{1,100}$")


class PlanField(RadioField):
    """One of the offered plans, with one message for a missing and a foreign one."""

    def pre_validate(self, form):
        if self.data not in {key for key, _label in self.choices}:
            raise StopValidation(_l("Choose one of the plans."))


def _payment_method_id(form, field):
    if field.data and not PAYMENT_METHOD_ID.match(field.data.strip()):
        raise ValidationError(_l("A Stripe payment method id starts with pm_ and has only letters, digits and "
                                 "underscores."))


class SubscribeForm(AppForm):
    plan = PlanField(_l("Plan"), choices=[])
    payment_method = StringField(_l("Stripe payment method id (test installations only)"),
                                 validators=[Optional(), _payment_method_id],
                                 description=_l("For example pm_card_visa. It is attached to the operator's Stripe "
                                                "customer and made its default payment method."))

    def __init__(self, *args, plans, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan.choices = [(plan.key, plan.label) for plan in plans]
        if not _takes_payment_method():
            del self.payment_method


def _takes_payment_method():
    """Without Checkout, a test installation may name a payment method on the page (there is no Stripe.js to
    collect a card); production adds cards through Stripe (Checkout or the customer portal) only."""
    config = current_app.config
    return not config["STRIPE_CHECKOUT"] and config.get("APP_ENV") != "production"


#: A subscription whose payment is overdue: the page puts paying it first.
OVERDUE_STATUSES = ("past_due", "unpaid")


def _overdue_invoice(invoices):
    """The newest invoice still open with something left to pay, or None."""
    return next((invoice for invoice in invoices
                 if invoice.status == "open" and invoice.amount_due > invoice.amount_paid), None)


def _render(operator, form, error=None, status=200):
    enabled = stripe_client.enabled()
    row = subscription_of(operator.id)
    status_code = row.status if row is not None else "none"
    plan = plan_by_key(row.plan) if row is not None and row.plan else None
    invoices = invoices_of(operator.id) if row is not None else []
    return render_template(
        "billing/subscription.html", operator=operator, enabled=enabled, row=row, plan=plan,
        status=status_code, status_label=STATUS_LABELS.get(status_code, status_code),
        invoice_status_labels=INVOICE_STATUS_LABELS, access=access_for(operator.id, utcnow()),
        invoices=invoices, usage=usage(operator), overdue=status_code in OVERDUE_STATUSES,
        overdue_invoice=_overdue_invoice(invoices) if status_code in OVERDUE_STATUSES else None,
        plans=offered_plans(), form=form, error=error,
        can_subscribe=status_code not in RUNNING_STATUSES or status_code in RETRY_STATUSES,
        retry=status_code in RETRY_STATUSES,
        checkout=current_app.config["STRIPE_CHECKOUT"],
        portal=enabled and current_app.config["STRIPE_CUSTOMER_PORTAL"] and bool(row and row.stripe_customer_id),
    ), status


@subscription_bp.route("")
@login_required
def index():
    """The operator's plan, status, next invoice, past invoices and usage, and the way to subscribe. Raises
    Forbidden for anyone but an operator owner."""
    operator = _require_owner()
    return _render(operator, SubscribeForm(plans=offered_plans()))


@subscription_bp.route("/subscribe", methods=["POST"])
@login_required
def subscribe():
    """Subscribe to a plan: through Stripe Checkout (a 303 to Stripe) or, without Checkout, through the API with
    the customer's default payment method. Raises Forbidden for anyone but an operator owner."""
    operator = _require_owner()
    if not stripe_client.enabled():
        flash(_("Billing is not enabled on this installation: everything is available."), "info")
        return redirect(url_for(".index"))
    form = SubscribeForm(plans=offered_plans())
    if not form.validate_on_submit():
        return _render(operator, form, status=400)
    plan = plan_by_key(form.plan.data)
    try:
        ensure_customer(operator, by=current_user)
        db.session.commit()  # the customer id first: every webhook about it must find the operator
        row = subscription_of(operator.id, lock=True)
        if current_app.config["STRIPE_CHECKOUT"]:
            url = start_checkout(row, plan, success_url=url_for(".index", checkout="done", _external=True),
                                 cancel_url=url_for(".index", _external=True), by=current_user)
            db.session.commit()
            return redirect(url, 303)
        payment_method = form.payment_method.data.strip() if "payment_method" in form and \
            form.payment_method.data else None
        subscribe_via_api(row, plan, by=current_user, payment_method_id=payment_method)
        db.session.commit()
    except BillingError as error:
        db.session.rollback()
        return _render(operator, form, error=error.message, status=400)
    except (IntegrityError, StaleDataError):
        # A second click created or changed the row at the same moment (IntegrityError on PostgreSQL, the row's
        # version counter on SQLite, which has no row locks). Whatever Stripe created meanwhile reaches the row
        # through its webhooks, and the idempotency keys give a repeated click the same subscription.
        db.session.rollback()
        log.info("Subscribe of operator %s collided with a concurrent change", operator.id)
        return _render(operator, form, error=_("Someone else changed this at the same moment. Reload the page "
                                               "and try again."), status=409)
    row = subscription_of(operator.id)
    if row.status in ("active", "trialing"):
        flash(_("Subscribed to %(plan)s.", plan=plan.label), "success")
    else:
        flash(_("The subscription was created but its first payment has not gone through yet (status: "
                "%(status)s).", status=STATUS_LABELS.get(row.status, row.status)), "warning")
    return redirect(url_for(".index"))


@subscription_bp.route("/portal", methods=["POST"])
@login_required
def portal():
    """Open Stripe's customer portal (a 303 to Stripe). Raises Forbidden for anyone but an operator owner and
    NotFound when the portal is not configured."""
    operator = _require_owner()
    if not (stripe_client.enabled() and current_app.config["STRIPE_CUSTOMER_PORTAL"]):
        abort(404)
    row = subscription_of(operator.id)
    if row is None or not row.stripe_customer_id:
        flash(_("Subscribe first: the customer portal shows an existing subscription."), "info")
        return redirect(url_for(".index"))
    try:
        url = portal_url(row, return_url=url_for(".index", _external=True))
    except BillingError as error:
        flash(error.message, "danger")
        return redirect(url_for(".index"))
    return redirect(url, 303)


@webhook_bp.route("/billing/stripe/webhook", methods=["POST"])
@csrf.exempt  # the one CSRF exemption of the app: Stripe signs the body instead (tests assert it is the only one)
def receive():
    """Stripe's events. Answers 400 (nothing changed) for a missing, forged, stale or re-serialised body, 200
    for an event applied, repeated or not ours, and 503 (nothing stored; Stripe sends it again) when Stripe or
    the database cannot answer now."""
    body = request.get_data(cache=True)
    config = current_app.config
    try:
        verify_signature(body, request.headers.get("Stripe-Signature"), config.get("STRIPE_WEBHOOK_SECRET"),
                         config.get("STRIPE_WEBHOOK_TOLERANCE", 300))
        event = parse_event(body)
    except InvalidWebhook as error:
        log.warning("Stripe webhook refused (%s) from %s", error, request.remote_addr)
        return jsonify(error="invalid webhook"), 400
    try:
        outcome = process(event)
    except stripe.StripeError as error:
        log.warning("Stripe event %s not processed, Stripe will retry: %s", event["id"], error)
        return jsonify(error="retry later"), 503
    except (StaleDataError, OperationalError) as error:
        db.session.rollback()
        log.warning("Stripe event %s not processed, Stripe will retry: %s", event["id"], error)
        return jsonify(error="retry later"), 503
    log.info("Stripe event %s (%s): %s", event["id"], event["type"], outcome)
    return jsonify(received=True, outcome=outcome)
