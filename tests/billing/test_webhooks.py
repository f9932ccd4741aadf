"""The Stripe webhook: signatures on the raw body, once-only processing, order, mapping by the customer we stored,
connected-account events, the only CSRF exemption, and localstripe delivering its own signed events."""
import json
import logging
import threading
import time

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from billing.models import OperatorInvoice, StripeEvent, Subscription
from operator_app.accounts.models import Operator
from operator_app.extensions import csrf, db
from operator_app.timeutil import as_utc

from .stripe_server import (WEBHOOK_SECRET, WEBHOOK_URL, deliver, event, localstripe,  # noqa: F401
                            payload_of, signature, stripe_billing)


def _subscribed(app, factory, server, card="4242424242424242"):
    """An operator with a customer at localstripe (stored on its row, as the billing page stores it) and an
    active subscription; returns (base, customer id, subscription as Stripe has it)."""
    api = server.use()
    base = factory.base()
    customer = api.Customer.create(name="运营单位", metadata={"operator_id": str(base.operator_id)})
    server.make_default_card(customer.id, card)
    subscription = api.Subscription.create(customer=customer.id, items=[{"plan": "plan_test_starter"}]).to_dict()
    with app.app_context():
        db.session.add(Subscription(operator_id=base.operator_id, stripe_customer_id=customer.id, status="none"))
        db.session.commit()
    return base, customer.id, subscription


def _state(app):
    """Everything the webhook may change, to compare before and after a refused delivery."""
    with app.app_context():
        rows = db.session.scalars(select(Subscription).order_by(Subscription.id)).all()
        return ([(r.operator_id, r.stripe_customer_id, r.stripe_subscription_id, r.plan, r.status,
                  r.current_period_end, r.past_due_since, r.state_at, r.lock_version) for r in rows],
                db.session.scalar(select(func.count(StripeEvent.id))),
                db.session.scalar(select(func.count(OperatorInvoice.id))))


def _row(app, operator_id):
    with app.app_context():
        row = db.session.scalar(select(Subscription).where(Subscription.operator_id == operator_id))
        db.session.expunge(row)
        return row


def _stored_event(app, event_id):
    with app.app_context():
        stored = db.session.get(StripeEvent, event_id)
        if stored is not None:
            db.session.expunge(stored)
        return stored


def test_the_webhook_is_the_only_csrf_exemption(app):
    assert csrf._exempt_blueprints == set()
    exempt = sorted(endpoint for endpoint, view in app.view_functions.items()
                    if f"{view.__module__}.{view.__name__}" in csrf._exempt_views)
    assert exempt == ["stripe_webhook.receive"]
    assert csrf._exempt_views == {"billing.stripe_views.receive"}
    rule = next(rule for rule in app.url_map.iter_rules() if rule.endpoint == "stripe_webhook.receive")
    assert rule.rule == WEBHOOK_URL and rule.methods - {"OPTIONS"} == {"POST"}


def test_unsigned_forged_stale_and_reserialised_bodies_are_refused_and_change_nothing(
        app, factory, browser, stripe_billing):
    base, customer_id, subscription = _subscribed(app, factory, stripe_billing)
    canceled = stripe_billing.use().Subscription.delete(subscription["id"]).to_dict()
    genuine = event("customer.subscription.deleted", canceled)
    body = payload_of(genuine)
    before = _state(app)
    now = int(time.time())
    forgeries = {
        "no signature": dict(header=""),
        "wrong secret": dict(secret="whsec_someone_else"),
        "stale timestamp": dict(timestamp=now - 301),
        "far future timestamp": dict(timestamp=now + 3600),
        "re-serialised body": dict(body=json.dumps(json.loads(body), separators=(",", ":")),
                                   header=signature(body)),
        "re-serialised with other spacing": dict(body=json.dumps(json.loads(body), indent=4),
                                                 header=signature(body)),
        "tampered body": dict(body=body.replace('"canceled"', '"active"'), header=signature(body)),
        "malformed header": dict(header="t=abc,v1=00"),
        "no timestamp": dict(header="v1=" + signature(body).split("v1=")[1]),
        "signature of another time": dict(header=signature(body, timestamp=now - 5).replace(
            f"t={now - 5}", f"t={now}")),
        "signed, not JSON": dict(body="not json", header=signature("not json")),
        "signed, not an event": dict(body="[1, 2]", header=signature("[1, 2]")),
        "signed, event without data": dict(body='{"id": "evt_1", "type": "x", "created": 1}',
                                           header=signature('{"id": "evt_1", "type": "x", "created": 1}')),
    }
    for name, forgery in forgeries.items():
        response = deliver(browser.client, genuine, **forgery)
        assert response.status_code == 400, name
        assert _state(app) == before, name
    assert browser.client.get(WEBHOOK_URL).status_code == 405
    app.config["STRIPE_WEBHOOK_SECRET"] = None  # a webhook without a configured secret is never believed
    assert deliver(browser.client, genuine).status_code == 400
    app.config["STRIPE_WEBHOOK_SECRET"] = WEBHOOK_SECRET
    assert _state(app) == before

    response = deliver(browser.client, genuine)  # the genuine delivery, once
    assert response.status_code == 200 and response.get_json()["outcome"] == "applied"
    row = _row(app, base.operator_id)
    assert (row.status, row.stripe_subscription_id) == ("canceled", subscription["id"])


def test_a_repeated_event_is_processed_once(app, factory, browser, stripe_billing):
    base, customer_id, subscription = _subscribed(app, factory, stripe_billing)
    created = event("customer.subscription.created", subscription)
    first = deliver(browser.client, created)
    again = deliver(browser.client, created)
    assert (first.status_code, first.get_json()["outcome"]) == (200, "applied")
    assert (again.status_code, again.get_json()["outcome"]) == (200, "duplicate")
    version = _row(app, base.operator_id).lock_version
    assert deliver(browser.client, created, timestamp=int(time.time()) + 1).get_json()["outcome"] == "duplicate"
    assert _row(app, base.operator_id).lock_version == version  # the repeat changed nothing
    with app.app_context():
        assert db.session.scalar(select(func.count(StripeEvent.id))) == 1
    stored = _stored_event(app, created["id"])
    assert (stored.type, stored.operator_id, stored.outcome) == ("customer.subscription.created",
                                                                 base.operator_id, "applied")


def test_events_out_of_order_leave_the_newest_state(app, factory, browser, stripe_billing):
    base, customer_id, subscription = _subscribed(app, factory, stripe_billing)
    now = int(time.time())
    newer = event("customer.subscription.updated", subscription, created=now)
    older = event("customer.subscription.updated", {**subscription, "status": "past_due"}, created=now - 60)
    assert deliver(browser.client, newer).get_json()["outcome"] == "applied"
    assert deliver(browser.client, older).get_json()["outcome"] == "stale"
    row = _row(app, base.operator_id)
    assert (row.status, row.past_due_since) == ("active", None)
    assert as_utc(row.state_at).timestamp() == now

    # Invoices too: the paid state stays when its draft arrives after it.
    api = stripe_billing.use()
    invoice = api.Invoice.create(customer=customer_id, subscription=subscription["id"]).to_dict()
    paid = api.Invoice.pay(invoice["id"]).to_dict()
    assert deliver(browser.client, event("invoice.paid", paid, created=now)).status_code == 200
    assert deliver(browser.client, event("invoice.created", invoice, created=now - 30)).get_json()["outcome"] \
        == "stale"
    with app.app_context():
        stored = db.session.scalar(select(OperatorInvoice).where(OperatorInvoice.stripe_invoice_id == paid["id"]))
        assert (stored.status, stored.amount_paid) == ("paid", 99_000)


def test_an_event_of_the_same_second_as_the_state_is_settled_by_fetching_the_subscription(
        app, factory, browser, stripe_billing):
    base, customer_id, subscription = _subscribed(app, factory, stripe_billing)
    now = int(time.time())
    assert deliver(browser.client, event("customer.subscription.created", subscription, created=now)).status_code \
        == 200
    # Same second, a payload saying past_due (Stripe's order within a second is unknown): Stripe is asked.
    same_second = event("customer.subscription.updated", {**subscription, "status": "past_due"}, created=now)
    assert deliver(browser.client, same_second).get_json()["outcome"] == "applied"
    row = _row(app, base.operator_id)
    assert (row.status, row.past_due_since) == ("active", None)


def test_a_newer_past_due_then_canceled_subscription_keeps_the_earliest_past_due_time(
        app, factory, browser, stripe_billing):
    base, customer_id, subscription = _subscribed(app, factory, stripe_billing)
    now = int(time.time())
    for offset, status in ((-300, "past_due"), (-200, "past_due"), (-100, "unpaid")):
        deliver(browser.client, event("customer.subscription.updated", {**subscription, "status": status},
                                      created=now + offset))
    row = _row(app, base.operator_id)
    assert row.status == "unpaid" and as_utc(row.past_due_since).timestamp() == now - 300


def test_an_unknown_customer_is_logged_recorded_and_changes_nothing(app, factory, browser, stripe_billing,
                                                                    caplog):
    base, customer_id, subscription = _subscribed(app, factory, stripe_billing)
    before = _state(app)
    # The payload names our operator in its metadata: never enough to map an event.
    stranger = {**subscription, "customer": "cus_stranger", "status": "canceled",
                "metadata": {"operator_id": str(base.operator_id)}}
    foreign = event("customer.subscription.deleted", stranger)
    with caplog.at_level(logging.WARNING):
        response = deliver(browser.client, foreign)
    assert response.status_code == 200 and response.get_json()["outcome"] == "unknown_customer"
    assert "unknown customer 'cus_stranger'" in caplog.text
    after = _state(app)
    assert after[0] == before[0] and after[2] == before[2]  # subscriptions and invoices untouched
    stored = _stored_event(app, foreign["id"])
    assert (stored.outcome, stored.operator_id) == ("unknown_customer", None)
    invoice = event("invoice.paid", {"id": "in_stranger", "object": "invoice", "customer": "cus_stranger",
                                     "status": "paid", "subscription": subscription["id"]})
    assert deliver(browser.client, invoice).get_json()["outcome"] == "unknown_customer"
    assert _state(app)[0] == before[0]


def test_checkout_session_completed_stores_the_subscription_of_our_customer(app, factory, browser,
                                                                            stripe_billing):
    base, customer_id, subscription = _subscribed(app, factory, stripe_billing)
    session = {"id": "cs_test_1", "object": "checkout.session", "mode": "subscription", "customer": customer_id,
               "subscription": subscription["id"], "client_reference_id": str(base.operator_id),
               "payment_status": "paid", "status": "complete"}
    response = deliver(browser.client, event("checkout.session.completed", session))
    assert response.status_code == 200 and response.get_json()["outcome"] == "applied"
    row = _row(app, base.operator_id)
    assert (row.stripe_subscription_id, row.status, row.plan) == (subscription["id"], "active", "starter")
    assert row.current_period_end is not None
    # A payment-mode session, and a session of a stranger, change nothing.
    other, _customer, _subscription = _subscribed(app, factory, stripe_billing)
    payment = {**session, "id": "cs_test_2", "mode": "payment", "customer": _customer}
    assert deliver(browser.client, event("checkout.session.completed", payment)).get_json()["outcome"] == "ignored"
    stranger = {**session, "id": "cs_test_3", "customer": "cus_nobody", "client_reference_id": str(other.operator_id)}
    assert deliver(browser.client, event("checkout.session.completed", stranger)).get_json()["outcome"] \
        == "unknown_customer"
    # A session of the other operator's customer naming the first operator's subscription: Stripe, asked, says
    # whose it is.
    crossed = {**session, "id": "cs_test_4", "customer": _customer, "client_reference_id": str(other.operator_id)}
    assert deliver(browser.client, event("checkout.session.completed", crossed)).get_json()["outcome"] == "ignored"
    assert _row(app, other.operator_id).stripe_subscription_id is None


def test_a_connected_accounts_event_is_handed_to_the_rent_half_and_recorded(app, factory, browser,
                                                                            stripe_billing):
    base, customer_id, subscription = _subscribed(app, factory, stripe_billing)
    before = _state(app)
    tenant_payment = event("checkout.session.completed",
                           {"id": "cs_rent_1", "object": "checkout.session", "mode": "payment",
                            "customer": customer_id, "payment_status": "paid"}, account="acct_not_connected")
    response = deliver(browser.client, tenant_payment)
    assert response.status_code == 200
    stored = _stored_event(app, tenant_payment["id"])
    assert stored.account == "acct_not_connected" and stored.operator_id is None and stored.base_id is None
    assert stored.outcome in ("unknown_account", "ignored")
    assert _state(app)[0] == before[0]  # never read as the operator's own subscription


def test_a_deleted_subscription_makes_the_bases_read_only_and_a_new_one_takes_its_place(
        app, factory, browser, stripe_billing):
    base, customer_id, subscription = _subscribed(app, factory, stripe_billing)
    api = stripe_billing.use()
    deliver(browser.client, event("customer.subscription.created", subscription, created=int(time.time()) - 10))
    canceled = api.Subscription.delete(subscription["id"]).to_dict()
    deliver(browser.client, event("customer.subscription.deleted", canceled, created=int(time.time()) - 5))
    assert _row(app, base.operator_id).status == "canceled"
    browser.login(base.owner)
    detail = f"/b/{base.slug}/profile"
    assert browser.post(detail, {"name": "改名"}, form_page=detail).status_code == 402
    renewed = api.Subscription.create(customer=customer_id, items=[{"plan": "plan_test_standard"}]).to_dict()
    deliver(browser.client, event("customer.subscription.created", renewed))
    row = _row(app, base.operator_id)
    assert (row.stripe_subscription_id, row.status, row.plan) == (renewed["id"], "active", "standard")
    # An event of the old, ended subscription no longer moves the operator's state.
    late = deliver(browser.client, event("customer.subscription.updated", canceled, created=int(time.time()) + 5))
    assert late.get_json()["outcome"] == "ignored"
    assert _row(app, base.operator_id).status == "active"


class _ServedApp:
    """The app served on a loopback port in a thread, one request at a time, for localstripe to call."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=False)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(10)


def _wait_for(check, seconds=20):
    """Poll ``check`` until true: localstripe delivers its webhooks a second after the event, asynchronously."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def test_localstripe_delivers_its_own_signed_webhooks_end_to_end(app, factory, browser, stripe_billing):
    server = stripe_billing
    base = factory.base()
    browser.login(base.owner)
    events = ["customer.subscription.created", "invoice.payment_succeeded"]
    with _ServedApp(app) as served:
        server.raw("POST", "/_config/webhooks/billing-e2e", {"url": served.url + WEBHOOK_URL,
                                                              "secret": WEBHOOK_SECRET, "events[]": events})
        try:
            response = browser.post("/operator/billing/subscribe", {"plan": "starter",
                                                                    "payment_method": server.card()},
                                    form_page="/operator/billing")
            assert response.status_code == 302

            def delivered():
                with app.app_context():
                    return db.session.scalars(select(StripeEvent.type).where(
                        StripeEvent.operator_id == base.operator_id)).all()
            assert _wait_for(lambda: sorted(delivered()) == sorted(events)), delivered()
        finally:
            # localstripe keeps its webhooks for the session: this one now listens to nothing.
            server.raw("POST", "/_config/webhooks/billing-e2e", {"url": served.url + WEBHOOK_URL,
                                                                  "secret": WEBHOOK_SECRET,
                                                                  "events[]": ["none.none"]})
    with app.app_context():
        # (localstripe also sends this test the events of earlier tests' customers: strangers here.)
        outcomes = db.session.scalars(select(StripeEvent.outcome)
                                      .where(StripeEvent.operator_id == base.operator_id)).all()
        assert outcomes == ["applied", "applied"]
        invoice = db.session.scalar(select(OperatorInvoice))
        assert (invoice.operator_id, invoice.status, invoice.amount_paid) == (base.operator_id, "paid", 99_000)
        assert db.session.scalar(select(Subscription.status)) == "active"
        assert db.session.get(Operator, base.operator_id) is not None


@pytest.mark.parametrize("secret", [None, ""])
def test_billing_off_refuses_every_webhook(app, browser, secret):
    saved = app.config["STRIPE_WEBHOOK_SECRET"]
    app.config["STRIPE_WEBHOOK_SECRET"] = secret
    try:
        response = deliver(browser.client, event("customer.subscription.updated", {"id": "sub_1"}))
    finally:
        app.config["STRIPE_WEBHOOK_SECRET"] = saved
    assert response.status_code == 400
