"""Regressions of the operator's subscription found in review (issue 9): a failed first payment keeps the trial
and can be paid with another card, signature headers and signed payloads of the wrong shape never give a 500,
the replay check cannot be switched off, joining a read-only base writes nothing, a double click subscribes once,
a concurrent change is a 409, and a plan without a label has a readable name."""
import json
import time
from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select, update

from billing import stripe_views
from billing.access import FULL, READ_ONLY, access_for
from billing.models import OperatorInvoice, StripeEvent, Subscription
from billing.plans import Plan
from billing.webhooks import InvalidWebhook, verify_signature
from operator_app.accounts.models import Membership, Operator
from operator_app.db import unscoped
from operator_app.extensions import db
from operator_app.timeutil import as_utc

from .stripe_server import set_subscription
from .stripe_server import (WEBHOOK_SECRET, WEBHOOK_URL, deliver, event, localstripe,  # noqa: F401
                            payload_of, signature, stripe_billing)

BILLING = "/operator/billing"
DECLINED_ON_CHARGE = "4000000000000341"  # attaches, then every charge is declined


def _row(app, operator_id):
    with app.app_context():
        row = db.session.scalar(select(Subscription).where(Subscription.operator_id == operator_id))
        if row is not None:
            db.session.expunge(row)
        return row


def _post_raw(client, body, header):
    """POST a raw body to the webhook; an exception escaping the view (TESTING propagates it) is a 500."""
    try:
        return client.post(WEBHOOK_URL, data=body, headers={"Stripe-Signature": header,
                                                             "Content-Type": "application/json"}).status_code
    except Exception as error:  # noqa: BLE001 - the assertion shows what escaped
        return f"500 ({type(error).__name__}: {error})"


def _counts(app):
    with app.app_context():
        return (db.session.scalar(select(func.count(StripeEvent.id))),
                db.session.scalar(select(func.count(OperatorInvoice.id))))


# --- a failed first payment -------------------------------------------------------------------------------


def test_incomplete_expired_within_the_trial_keeps_the_trial(app, factory, stripe_billing):
    """Stripe expires an unpaid first invoice after 23 hours (incomplete_expired): the trial still decides, as
    for an operator who never tried to subscribe."""
    base = factory.base()
    with app.app_context():
        created = as_utc(db.session.get(Operator, base.operator_id).created_at)
    set_subscription(app, base.operator_id, status="incomplete_expired")
    with app.app_context():
        trial = access_for(base.operator_id, created + timedelta(days=2))
        over = access_for(base.operator_id, created + timedelta(days=31))
    assert (trial.mode, trial.reason) == (FULL, "trial")
    assert (over.mode, over.reason) == (READ_ONLY, "trial_over")


def _incomplete(app, factory, browser, stripe_billing, plan="starter"):
    base = factory.base("alpha")
    browser.login(base.owner)
    browser.get("/lang/en")
    first = browser.post(f"{BILLING}/subscribe", {"plan": plan,
                                                  "payment_method": stripe_billing.card(DECLINED_ON_CHARGE)},
                         form_page=BILLING)
    assert first.status_code == 302
    assert _row(app, base.operator_id).status == "incomplete"
    return base


def test_a_failed_first_payment_is_paid_with_another_card_on_the_page(app, factory, browser, stripe_billing):
    base = _incomplete(app, factory, browser, stripe_billing)
    page = browser.get(BILLING).get_data(as_text=True)
    assert 'id="payment-retry"' in page and 'name="payment_method"' in page

    declined = browser.post(f"{BILLING}/subscribe", {"plan": "starter",
                                                     "payment_method": stripe_billing.card(DECLINED_ON_CHARGE)},
                            form_page=BILLING)
    assert declined.status_code == 400
    assert "The card was declined. Use another card and try again." in declined.get_data(as_text=True)
    assert _row(app, base.operator_id).status == "incomplete"

    paid = browser.post(f"{BILLING}/subscribe", {"plan": "starter", "payment_method": stripe_billing.card()},
                        form_page=BILLING)
    assert paid.status_code == 302
    row = _row(app, base.operator_id)
    assert (row.status, row.plan) == ("active", "starter")
    subscriptions = stripe_billing.use().Subscription.list(customer=row.stripe_customer_id).data
    assert [(s.id, s.status) for s in subscriptions] == [(row.stripe_subscription_id, "active")]
    assert 'id="payment-retry"' not in browser.get(BILLING).get_data(as_text=True)


def test_a_failed_first_payment_retried_on_another_plan_replaces_the_unpaid_subscription(app, factory, browser,
                                                                                       stripe_billing):
    base = _incomplete(app, factory, browser, stripe_billing)
    unpaid = _row(app, base.operator_id).stripe_subscription_id
    paid = browser.post(f"{BILLING}/subscribe", {"plan": "standard", "payment_method": stripe_billing.card()},
                        form_page=BILLING)
    assert paid.status_code == 302
    row = _row(app, base.operator_id)
    assert (row.status, row.plan) == ("active", "standard") and row.stripe_subscription_id != unpaid
    assert stripe_billing.use().Subscription.retrieve(unpaid).status == "canceled"


# --- the webhook: signature headers and signed payloads of the wrong shape --------------------------------


@pytest.mark.parametrize("header", [
    f"t={int(time.time())},v1=\u00e9\u00e9",  # non-ASCII: compare_digest raised TypeError
    "t=\u00b2,v1=" + "0" * 64,  # a Unicode digit: isdigit() took it, int() raised ValueError
    "t=" + "9" * 400 + ",v1=" + "0" * 64,
    "t=,v1=",
    ",,,=,=",
])
def test_a_malformed_signature_header_is_refused_not_a_500(app, browser, stripe_billing, header):
    assert _post_raw(browser.client, b'{"id": "evt_x"}', header) == 400


def test_only_lowercase_hex_v1_signatures_count(app):
    body, now = b"{}", int(time.time())
    good = signature(body, timestamp=now).split("v1=")[1]
    verify_signature(body, f"t={now},v1=\u00e9,v0=abc,v1={good}", WEBHOOK_SECRET, 300, now=now)
    with pytest.raises(InvalidWebhook):
        verify_signature(body, f"t={now},v1={good.upper()}", WEBHOOK_SECRET, 300, now=now)


@pytest.mark.parametrize("tolerance", [0, -5, None])
def test_a_tolerance_below_one_second_keeps_the_replay_check(app, tolerance):
    """STRIPE_WEBHOOK_TOLERANCE=0 used to switch the check off: a signed body could be replayed for ever."""
    body, now = b"{}", int(time.time())
    verify_signature(body, signature(body, timestamp=now - 299), WEBHOOK_SECRET, tolerance, now=now)
    with pytest.raises(InvalidWebhook):
        verify_signature(body, signature(body, timestamp=now - 86400), WEBHOOK_SECRET, tolerance, now=now)


def test_the_webhook_with_tolerance_zero_refuses_a_day_old_signature(app, factory, browser, stripe_billing):
    app.config["STRIPE_WEBHOOK_TOLERANCE"] = 0  # the fixture restores it
    evt = event("customer.subscription.updated", {"id": "sub_x", "customer": "cus_nobody"})
    assert deliver(browser.client, evt, timestamp=int(time.time()) - 86400).status_code == 400
    assert _counts(app) == (0, 0)


def test_a_signed_event_with_an_out_of_range_time_is_refused(app, browser, stripe_billing):
    body = json.dumps({"id": "evt_far", "type": "customer.subscription.updated", "created": 10 ** 13,
                       "data": {"object": {"id": "sub_x", "customer": "cus_nobody"}}})
    assert _post_raw(browser.client, body.encode(), signature(body)) == 400
    assert _counts(app) == (0, 0)


@pytest.mark.parametrize("obj", [
    {"amount_due": "abc"},
    {"created": "yesterday"},
    {"period_end": 10 ** 13},
    {"lines": []},
    {"lines": {"data": ["x"]}},
    {"lines": {"data": [{"period": "x"}]}},
    {"parent": "not-a-dict"},
    {"parent": {"subscription_details": "x"}},
])
def test_a_signed_invoice_of_the_wrong_shape_is_never_a_500(app, factory, browser, stripe_billing, obj):
    """A body Stripe signed fails the same way each time it is sent: answered 200 and stored once (as malformed
    when its effect raised, rolled back), never a 500 that Stripe would retry for three days."""
    base = factory.base()
    set_subscription(app, base.operator_id, stripe_customer_id="cus_test_shape", status="active")
    evt = event("invoice.created", {"id": "in_shape", "customer": "cus_test_shape", **obj})
    body = payload_of(evt)
    assert _post_raw(browser.client, body.encode(), signature(body)) == 200
    with app.app_context():
        stored = db.session.get(StripeEvent, evt["id"])
        assert stored is not None and stored.outcome in ("malformed", "applied")
        invoices = db.session.scalar(select(func.count(OperatorInvoice.id)))
        assert invoices == (0 if stored.outcome == "malformed" else 1)
    assert deliver(browser.client, evt).get_json()["outcome"] == "duplicate"


def test_a_malformed_invoice_changes_nothing_and_is_stored_once(app, factory, browser, stripe_billing):
    base = factory.base()
    set_subscription(app, base.operator_id, stripe_customer_id="cus_test_shape", status="active")
    evt = event("invoice.created", {"id": "in_shape", "customer": "cus_test_shape", "amount_due": "abc"})
    response = deliver(browser.client, evt)
    assert (response.status_code, response.get_json()["outcome"]) == (200, "malformed")
    with app.app_context():
        stored = db.session.get(StripeEvent, evt["id"])
        assert (stored.type, stored.outcome, stored.operator_id) == ("invoice.created", "malformed", None)
    assert _counts(app) == (1, 0)


# --- joining a read-only base -------------------------------------------------------------------------------


def _members(app, base_id):
    with app.app_context(), unscoped("the test counts what was written"):
        return db.session.scalar(select(func.count(Membership.id)).where(Membership.base_id == base_id))


def test_accepting_an_invitation_into_a_read_only_base_writes_nothing(app, factory, browser, new_browser,
                                                                      stripe_billing):
    base = factory.base("lapsed")
    _id, token = factory.invitation(base, email="joiner@example.com")
    set_subscription(app, base.operator_id, status="canceled")
    before = _members(app, base.id)
    assert browser.get(f"/invite/{token}").status_code == 200  # reading the invitation stays open
    refused = browser.post(f"/invite/{token}", {"name": "新人", "password": "Correct-horse-battery-91",
                                                "confirm": "Correct-horse-battery-91"})
    assert refused.status_code == 402 and 'id="read-only"' in refused.get_data(as_text=True)
    assert _members(app, base.id) == before

    member = factory.member(factory.base("elsewhere"), "staff", email="member@example.com")
    _id, token = factory.invitation(base, email="member@example.com")
    other = new_browser()
    other.login(member)
    assert other.post(f"/invite/{token}", {}, form_page=f"/invite/{token}").status_code == 402
    assert _members(app, base.id) == before


# --- double submit and concurrent changes -----------------------------------------------------------------


def test_subscribe_idempotency_keys_are_per_operator_plan_previous_subscription_and_hour(app):
    from billing.subscription import subscribe_idempotency_key

    starter, standard = Plan("starter", 1, 10, "price_a"), Plan("standard", 3, 30, "price_b")
    row = Subscription(operator_id=7, stripe_subscription_id=None)
    hour = 1_800_000_000 // 3600 * 3600
    key = subscribe_idempotency_key(row, starter, "checkout", now=hour + 10)
    assert subscribe_idempotency_key(row, starter, "checkout", now=hour + 3500) == key
    assert subscribe_idempotency_key(row, starter, "checkout", now=hour + 3600) != key
    assert subscribe_idempotency_key(row, standard, "checkout", now=hour + 10) != key
    assert subscribe_idempotency_key(row, starter, "subscription", now=hour + 10) != key
    assert subscribe_idempotency_key(Subscription(operator_id=8), starter, "checkout", now=hour + 10) != key
    ended = Subscription(operator_id=7, stripe_subscription_id="sub_canceled")
    assert subscribe_idempotency_key(ended, starter, "checkout", now=hour + 10) != key


def test_two_clicks_on_checkout_ask_stripe_with_one_idempotency_key(app, factory, browser, stripe_billing,
                                                                     monkeypatch):
    """localstripe has no Checkout: the call is recorded on its way out (the customer is real)."""
    app.config["STRIPE_CHECKOUT"] = True
    calls = []

    class Session:
        url = "https://checkout.stripe.com/c/pay/cs_test_1"

    def create(**kwargs):
        calls.append(kwargs)
        return Session()

    monkeypatch.setattr(stripe_billing.use().checkout.Session, "create", create)
    base = factory.base("alpha")
    browser.login(base.owner)
    for _click in range(2):
        response = browser.post(f"{BILLING}/subscribe", {"plan": "starter"}, form_page=BILLING)
        assert (response.status_code, response.headers["Location"]) == (303, Session.url)
    assert len(calls) == 2 and calls[0]["idempotency_key"] == calls[1]["idempotency_key"]
    assert str(base.operator_id) in calls[0]["idempotency_key"]


def test_a_concurrent_change_of_the_row_while_subscribing_is_a_409(app, factory, browser, stripe_billing,
                                                                     monkeypatch):
    """SQLite has no row locks: a second click that changed the row meanwhile shows as StaleDataError on
    commit (the row's version counter): the billing page again with a message and a 409, never a 500."""
    real = stripe_views.subscribe_via_api

    def subscribe_then_changed_elsewhere(row, plan, **kwargs):
        real(row, plan, **kwargs)
        db.session.execute(update(Subscription).where(Subscription.id == row.id)
                           .values(lock_version=Subscription.lock_version + 1)
                           .execution_options(synchronize_session=False))  # as another connection would
        row.cancel_at_period_end = not row.cancel_at_period_end  # our change, now of a stale version
        return row

    monkeypatch.setattr(stripe_views, "subscribe_via_api", subscribe_then_changed_elsewhere)
    base = factory.base("alpha")
    browser.login(base.owner)
    response = browser.post(f"{BILLING}/subscribe", {"plan": "starter", "payment_method": stripe_billing.card()},
                            form_page=BILLING)
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and 'id="billing-error"' in page  # the billing page, with the form
    assert "其他人刚刚修改了同一内容" in page


# --- plans ----------------------------------------------------------------------------------------------------


def test_a_plan_without_a_label_is_named_by_its_key_in_the_readers_language(app):
    with app.test_request_context("/"), force_locale("en"):
        assert str(Plan("enterprise", 50, 500, "price_x").label) == "Plan enterprise"
        assert str(Plan("starter", 1, 10, "price_y").label) == "Starter: one base"


def test_an_open_invoice_links_to_paying_it_at_stripe(app, factory, browser, stripe_billing):
    """An overdue invoice is paid on Stripe's hosted invoice page: its link says so; a paid one's only shows it."""
    from datetime import datetime, timezone

    base = factory.base()
    set_subscription(app, base.operator_id, status="past_due", stripe_subscription_id="sub_open")
    with app.app_context():
        for n, status in enumerate(("open", "paid")):
            db.session.add(OperatorInvoice(operator_id=base.operator_id, stripe_invoice_id=f"in_{status}",
                                           number=f"N-{n}", status=status, amount_due=9900,
                                           hosted_invoice_url=f"https://invoice.stripe.com/i/{status}",
                                           created_at=datetime(2026, 11, 1 + n, tzinfo=timezone.utc)))
        db.session.commit()
    browser.login(base.owner)
    html = browser.get("/operator/billing").get_data(as_text=True)
    assert '<a href="https://invoice.stripe.com/i/open" rel="noopener noreferrer">在 Stripe 付款</a>' in html
    assert '<a href="https://invoice.stripe.com/i/paid" rel="noopener noreferrer">在 Stripe 查看</a>' in html
