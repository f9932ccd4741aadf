"""The operator's subscription page and its lifecycle through a real localstripe: subscribe, renew, a failed
payment, the grace period, read-only, recovery; billing off."""
from datetime import timedelta

from sqlalchemy import func, select, update

from billing.models import OperatorInvoice, Subscription
from operator_app.audit import AuditEntry
from operator_app.db import unscoped
from operator_app.extensions import db
from operator_app.timeutil import as_utc, utcnow
from tenants.models import Milestone

from .stripe_server import PRICES, deliver, event, localstripe, stripe_billing  # noqa: F401

BILLING = "/operator/billing"


def _english(browser):
    """Text assertions read the English interface (the Chinese comes from the catalogue, checked elsewhere)."""
    browser.get("/lang/en")


def _row(app, operator_id):
    with app.app_context():
        row = db.session.scalar(select(Subscription).where(Subscription.operator_id == operator_id))
        if row is not None:
            db.session.expunge(row)
        return row


def _milestones(app, base_id):
    with app.app_context(), unscoped("the test counts what was written"):
        return db.session.scalar(select(func.count(Milestone.id)).where(Milestone.base_id == base_id))


def _add_milestone(browser, base, company_id, title):
    detail = f"/b/{base.slug}/tenants/{company_id}"
    return browser.post(f"{detail}/milestones", {"occurred_on": "2026-06-30", "kind": "high_tech", "title": title},
                        form_page=detail)


def test_billing_off_says_so_and_everything_is_available(app, factory, browser):
    base = factory.base("alpha")
    company_id = factory.company(base)
    browser.login(base.owner)
    _english(browser)
    page = browser.get(BILLING)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'id="billing-off"' in text
    assert "Billing is not enabled on this installation: everything is available." in text
    assert "<form" not in text.split('id="billing-off"')[1]  # no way to subscribe without Stripe
    assert _add_milestone(browser, base, company_id, "高新技术企业").status_code == 302
    assert _milestones(app, base.id) == 1
    assert 'id="billing-banner"' not in browser.get(f"/b/{base.slug}/").get_data(as_text=True)
    response = browser.post(f"{BILLING}/subscribe", {"plan": "starter"}, form_page=BILLING)
    assert response.status_code == 302 and _row(app, base.operator_id) is None


def test_only_an_operator_owner_uses_the_billing_pages(app, factory, browser, new_browser):
    base = factory.base("alpha")
    assert browser.get(BILLING).status_code == 302  # anonymous → login
    assert "/login" in browser.get(BILLING).headers["Location"]
    staff = new_browser()
    staff.login(base.users["staff"])
    assert staff.get(BILLING).status_code == 403
    token = staff.csrf_token(f"/b/{base.slug}/")
    for path in (f"{BILLING}/subscribe", f"{BILLING}/portal"):
        assert staff.client.post(path, data={"csrf_token": token, "plan": "starter"}).status_code == 403
    assert staff.client.get(f"{BILLING}/subscribe").status_code == 405


def test_subscription_lifecycle_through_localstripe(app, factory, browser, new_browser, stripe_billing):
    server = stripe_billing
    api = server.use()
    base = factory.base("alpha")
    company_id = factory.company(base)
    browser.login(base.owner)
    _english(browser)
    page = browser.get(BILLING).get_data(as_text=True)
    assert "Starter: one base" in page and 'data-status="none"' in page

    # No payment method yet: a clear message, and the Stripe customer is already ours (webhooks can map it).
    refused = browser.post(f"{BILLING}/subscribe", {"plan": "starter"}, form_page=BILLING)
    assert refused.status_code == 400
    assert "The operator has no default payment method at Stripe yet." in refused.get_data(as_text=True)
    row = _row(app, base.operator_id)
    assert row.stripe_customer_id.startswith("cus_") and row.status == "none"
    customer_id = row.stripe_customer_id
    assert api.Customer.retrieve(customer_id).name == "运营单位1"

    # Subscribe through the page with a card: active at once from the API's answer.
    subscribed = browser.post(f"{BILLING}/subscribe", {"plan": "starter", "payment_method": server.card()},
                              form_page=BILLING)
    assert subscribed.status_code == 302, subscribed.get_data(as_text=True)
    row = _row(app, base.operator_id)
    assert (row.status, row.plan, row.stripe_customer_id) == ("active", "starter", customer_id)
    assert row.stripe_subscription_id.startswith("sub_") and row.current_period_end is not None
    subscription_id = row.stripe_subscription_id
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "Subscription")
                                     .order_by(AuditEntry.id)).all()
        assert actions == ["subscription.customer", "subscription.subscribe"]
    page = browser.get(BILLING).get_data(as_text=True)
    assert 'data-status="active"' in page and 'id="next-invoice"' in page
    assert "Subscribe</button>" not in page  # one subscription at a time

    # Renewal: the next invoice is paid at localstripe, and its signed invoice.paid arrives.
    renewal = api.Invoice.create(customer=customer_id, subscription=subscription_id)
    paid = api.Invoice.pay(renewal.id).to_dict()
    assert paid["status"] == "paid"
    response = deliver(browser.client, event("invoice.paid", paid))
    assert response.status_code == 200 and response.get_json()["outcome"] == "applied"
    with app.app_context():
        stored = db.session.scalar(select(OperatorInvoice).where(OperatorInvoice.stripe_invoice_id == paid["id"]))
        assert (stored.status, stored.amount_paid, stored.operator_id) == ("paid", 99_000, base.operator_id)
    assert _row(app, base.operator_id).status == "active"
    assert paid["id"] in browser.get(BILLING).get_data(as_text=True)

    # The card starts failing (4000000000000341 attaches but every charge is declined); moving to the yearly
    # plan invoices at once, the charge fails and localstripe sets the subscription past_due.
    server.make_default_card(customer_id, "4000000000000341")
    item = api.Subscription.retrieve(subscription_id).to_dict()["items"]["data"][0]
    api.Subscription.modify(subscription_id, items=[{"id": item["id"], "plan": PRICES["network"]}])
    failing = api.Subscription.retrieve(subscription_id).to_dict()
    assert failing["status"] == "past_due"
    failed_invoice = api.Invoice.retrieve(failing["latest_invoice"]).to_dict()
    assert failed_invoice["status"] == "open"
    response = deliver(browser.client, event("invoice.payment_failed", failed_invoice))
    assert response.status_code == 200
    row = _row(app, base.operator_id)
    assert (row.status, row.plan) == ("past_due", "network") and row.past_due_since is not None

    # Grace: everything still works, with a banner for the manager naming the days left.
    assert _add_milestone(browser, base, company_id, "专精特新").status_code == 302
    dashboard = browser.get(f"/b/{base.slug}/").get_data(as_text=True)
    assert "the bases become read-only in 14 days" in dashboard
    staff = new_browser()
    staff.login(base.users["staff"])
    assert 'id="billing-banner"' not in staff.get(f"/b/{base.slug}/").get_data(as_text=True)

    # Beyond the grace period: read-only. Writes are refused and nothing is written; pages and exports open.
    with app.app_context():
        db.session.execute(update(Subscription).where(Subscription.operator_id == base.operator_id)
                           .values(past_due_since=utcnow() - timedelta(days=15)))
        db.session.commit()
    before = _milestones(app, base.id)
    refused = _add_milestone(browser, base, company_id, "不应写入")
    assert refused.status_code == 402
    text = refused.get_data(as_text=True)
    assert "subscription is suspended: this base is read-only." in text, text
    assert f'href="{BILLING}"' in text  # the owner is sent to pay
    assert _milestones(app, base.id) == before
    assert browser.get(f"/b/{base.slug}/tenants/{company_id}").status_code == 200
    export = browser.get(f"/b/{base.slug}/tenants/export.xlsx")
    assert export.status_code == 200 and export.data[:2] == b"PK"
    assert 'id="billing-banner"' in staff.get(f"/b/{base.slug}/").get_data(as_text=True)
    assert browser.get(BILLING).status_code == 200

    # Recovery: a working card pays the open invoice; its invoice.paid brings the subscription back.
    server.make_default_card(customer_id, "4242424242424242")
    recovered = api.Invoice.pay(failed_invoice["id"]).to_dict()
    assert recovered["status"] == "paid"
    response = deliver(browser.client, event("invoice.paid", recovered))
    assert response.status_code == 200
    row = _row(app, base.operator_id)
    assert row.status == "active" and row.past_due_since is None
    assert _add_milestone(browser, base, company_id, "恢复后写入").status_code == 302
    assert _milestones(app, base.id) == before + 1
    assert 'id="billing-banner"' not in browser.get(f"/b/{base.slug}/").get_data(as_text=True)


def test_a_declined_card_and_a_foreign_plan_get_messages_not_errors(app, factory, browser, stripe_billing):
    base = factory.base("alpha")
    browser.login(base.owner)
    _english(browser)
    declined = browser.post(f"{BILLING}/subscribe", {"plan": "starter",
                                                     "payment_method": stripe_billing.card("4000000000000002")},
                            form_page=BILLING)
    assert declined.status_code == 400
    assert "The card was declined. Use another card and try again." in declined.get_data(as_text=True)
    for plan, payment_method in (("gold", ""), ("", ""), ("starter", "not-a-pm"), ("starter", "pm_x\x00")):
        response = browser.post(f"{BILLING}/subscribe", {"plan": plan, "payment_method": payment_method},
                                form_page=BILLING)
        assert response.status_code == 400, (plan, payment_method)
        assert 'class="invalid-feedback' in response.get_data(as_text=True)
    missing = browser.post(f"{BILLING}/subscribe", {"plan": "starter", "payment_method": "pm_does_not_exist"},
                           form_page=BILLING)
    assert missing.status_code == 400
    assert "Stripe refused the request" in missing.get_data(as_text=True)
    assert _row(app, base.operator_id).status == "none"


def test_checkout_and_portal_failures_at_stripe_are_messages(app, factory, browser, stripe_billing):
    """localstripe has neither Checkout nor the customer portal: Stripe refusing them gives a message, never a
    500 (the Checkout path is otherwise tested through its signed checkout.session.completed webhook)."""
    base = factory.base("alpha")
    browser.login(base.owner)
    _english(browser)
    assert browser.post(f"{BILLING}/portal", form_page=BILLING).status_code == 404  # portal not configured
    app.config.update(STRIPE_CHECKOUT=True, STRIPE_CUSTOMER_PORTAL=True)
    page = browser.get(BILLING).get_data(as_text=True)
    assert "Continue to payment" in page and "payment_method" not in page
    response = browser.post(f"{BILLING}/subscribe", {"plan": "standard"}, form_page=BILLING)
    assert response.status_code == 400
    assert "Stripe could not be reached" in response.get_data(as_text=True)
    assert _row(app, base.operator_id).stripe_customer_id.startswith("cus_")
    portal = browser.post(f"{BILLING}/portal", form_page=BILLING)
    assert portal.status_code == 302
    assert "customer portal could not be opened" in browser.get(BILLING).get_data(as_text=True)


def test_usage_counts_bases_and_housed_companies_against_the_plan(app, factory, browser, stripe_billing):
    base = factory.base("alpha")
    factory.another_base_of(base, "beta")
    factory.company(base)
    factory.company(base)
    factory.company(base, status="applicant")
    browser.login(base.owner)
    browser.post(f"{BILLING}/subscribe", {"plan": "starter", "payment_method": stripe_billing.card()},
                 form_page=BILLING)
    _english(browser)
    page = browser.get(BILLING).get_data(as_text=True)
    usage = page.split('id="usage"')[1].split("</table>")[0]
    assert '<td>Bases</td><td class="text-end">2</td><td class="text-end">1</td>' in usage
    assert '<td>Housed companies</td><td class="text-end">2</td><td class="text-end">60</td>' in usage
    assert 'id="over-limit"' in page
    with app.app_context():
        assert as_utc(db.session.scalar(select(Subscription.state_at))) is not None
