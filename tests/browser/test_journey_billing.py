"""Journey 7 (issue 12), billing through a real localstripe, driven in Chromium as the operator's owner uses it:
the owner subscribes on the billing page (a declined card first, then a good one); the card fails on the next
invoice and the bases keep full access with a banner during the grace period; after the grace a write is refused
with the read-only page and nothing is written, while the pages still open; the billing page offers the button that
pays the overdue invoice; it is paid and the base can be changed again.

The app is served with billing on (the session's app has no Stripe key): a second app on the run's database,
billing through localstripe without Checkout, so the billing page takes a Stripe payment method id, as on a test
installation (there is no Stripe.js to collect a card). localstripe does not send webhooks here: the test signs
Stripe's events itself and posts them to the served app, as the billing tests do. Every page visited is checked
for untranslated English."""
import json
import urllib.request
from copy import deepcopy
from datetime import timedelta

import pytest
import stripe
from playwright.sync_api import expect
from sqlalchemy import func, select, update

from billing.models import Subscription
from operator_app.db import unscoped
from operator_app.extensions import db
from operator_app.timeutil import utcnow
from tenants.models import Milestone

from ..billing.stripe_server import (PRICES, SECRET_KEY, WEBHOOK_SECRET, WEBHOOK_URL, event,  # noqa: F401
                                     localstripe, payload_of, signature)
from ..conftest import make_app
from .conftest import Screens, log_in, serve, untranslated

BILLING = "/operator/billing"
GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"  # declined when attached and charged
FAILS_ON_CHARGE = "4000000000000341"  # attaches, then every charge is declined
SCREENSHOTS = "/tmp/journey-billing"


@pytest.fixture
def billing_server(app, localstripe):
    """The app billing through localstripe, on the run's database, served on a free loopback port."""
    plans = deepcopy(app.config["BILLING_PLANS"])
    for key, plan in plans.items():
        plan["price_id"] = PRICES.get(key)
    billing_app = make_app(
        app.config["SQLALCHEMY_DATABASE_URI"], MIGRATION_DATABASE_URL=app.config.get("MIGRATION_DATABASE_URL"),
        STRIPE_SECRET_KEY=SECRET_KEY, STRIPE_API_BASE=localstripe.url, STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        STRIPE_CHECKOUT=False, STRIPE_CUSTOMER_PORTAL=False, STRIPE_WEBHOOK_TOLERANCE=300, BILLING_PLANS=plans,
        BILLING_GRACE_DAYS=14, BILLING_TRIAL_DAYS=30)
    try:
        with serve(billing_app) as url:
            yield url
    finally:
        with billing_app.app_context():
            db.session.remove()
            db.engine.dispose()  # no connection of this app outlives the test (the tables are emptied next)
        stripe.api_key, stripe.api_base = None, "https://api.stripe.com"


@pytest.fixture
def owner_window(chromium, billing_server, request):
    """A desktop window on the billing app; a failure keeps its screenshot as the other journeys do."""
    made = Screens(chromium, billing_server)
    yield made.open()
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        made.keep_failure(request.node.name.replace("/", "_"))
    made.close()


def seen(page, name=None):
    """Every page: loaded and all in Chinese; ``name`` keeps a screenshot of it for a look."""
    page.wait_for_load_state()
    assert untranslated(page) == [], page.url
    if name:
        page.screenshot(path=f"{SCREENSHOTS}/{name}.png", full_page=True)
    return page


def deliver(server_url, evt):
    """POST ``evt`` to the served app's webhook, signed as Stripe signs it; returns the JSON answer."""
    body = payload_of(evt).encode("utf-8")
    request = urllib.request.Request(server_url + WEBHOOK_URL, data=body, method="POST",
                                     headers={"Content-Type": "application/json", "Stripe-Signature": signature(body)})
    with urllib.request.urlopen(request, timeout=15) as response:
        assert response.status == 200
        return json.loads(response.read())


def subscription_row(app, operator_id):
    with app.app_context():
        row = db.session.scalar(select(Subscription).where(Subscription.operator_id == operator_id))
        db.session.expunge(row)
        return row


def milestones(app, base_id):
    with app.app_context(), unscoped("the test counts what was written"):
        return db.session.scalar(select(func.count(Milestone.id)).where(Milestone.base_id == base_id))


def add_milestone(page, company_page, title):
    """Fill the company page's milestone form and send it; returns the response of the page it led to."""
    page.goto(company_page)
    seen(page)
    form = page.locator("#milestones form")
    form.get_by_label("日期").fill("2026-06-30")
    form.get_by_label("类型").select_option(label="高新技术企业")
    form.get_by_label("事项").fill(title)
    with page.expect_navigation() as navigation:
        form.get_by_role("button", name="添加发展动态").click()
    return navigation.value


def test_the_owner_subscribes_falls_past_due_turns_read_only_and_pays_back_to_full_access(
        app, factory, localstripe, billing_server, owner_window):
    api = localstripe.use()
    base = factory.base("jinyang")
    company = factory.company(base, name="晋阳云帆科技有限公司")
    company_page = f"/b/{base.slug}/tenants/{company}"
    page = owner_window
    log_in(page, base.owner.email, base.owner.password)

    # The billing page: not subscribed yet, within the trial; the plans and a payment method to enter.
    page.goto(BILLING)
    seen(page, "1-billing-unsubscribed")
    assert page.locator("#subscription-status").get_attribute("data-status") == "none"
    assert page.locator("#subscription-status").inner_text() == "未订阅"
    page.get_by_label("入门版：1 个基地").check()
    card_field = page.get_by_label("Stripe 付款方式 ID（仅限测试环境）")

    # A declined card: a message in Chinese, the plan and the payment method kept, nothing subscribed.
    declined = localstripe.card(DECLINED_CARD)
    card_field.fill(declined)
    page.get_by_role("button", name="订阅", exact=True).click()
    expect(page.locator("#billing-error")).to_have_text("银行卡被拒绝，请换一张卡后重试。")
    seen(page, "2-billing-declined")
    assert page.get_by_label("入门版：1 个基地").is_checked()
    assert card_field.input_value() == declined
    assert subscription_row(app, base.operator_id).status == "none"

    # A good card: subscribed and active at once.
    card_field.fill(localstripe.card(GOOD_CARD))
    page.get_by_role("button", name="订阅", exact=True).click()
    page.wait_for_url(f"**{BILLING}")
    expect(page.locator(".alert-success")).to_contain_text("已订阅入门版：1 个基地。")
    seen(page, "3-billing-active")
    assert page.locator("#subscription-status").get_attribute("data-status") == "active"
    assert page.locator("#subscription-status").inner_text() == "有效"
    assert page.locator("#next-invoice").count() == 1
    assert page.get_by_role("button", name="订阅", exact=True).count() == 0  # one subscription at a time
    row = subscription_row(app, base.operator_id)
    assert (row.status, row.plan) == ("active", "starter")
    customer_id, subscription_id = row.stripe_customer_id, row.stripe_subscription_id
    # Stripe then tells of the first invoice, paid: the billing page lists it.
    first_invoice = api.Invoice.retrieve(api.Subscription.retrieve(subscription_id).latest_invoice).to_dict()
    assert first_invoice["status"] == "paid"
    assert deliver(billing_server, event("invoice.paid", first_invoice))["outcome"] == "applied"
    page.reload()
    seen(page)
    assert "已付款" in page.locator("#invoices").inner_text()

    # The card starts failing. localstripe has no clock to renew by: moving to the yearly plan invoices at once
    # (as in the billing tests), the charge is declined, the subscription falls past_due, and Stripe's
    # invoice.payment_failed reaches the app, signed.
    localstripe.make_default_card(customer_id, FAILS_ON_CHARGE)
    item = api.Subscription.retrieve(subscription_id).to_dict()["items"]["data"][0]
    api.Subscription.modify(subscription_id, items=[{"id": item["id"], "plan": PRICES["network"]}])
    assert api.Subscription.retrieve(subscription_id).status == "past_due"
    failed_invoice = api.Invoice.retrieve(api.Subscription.retrieve(subscription_id).latest_invoice).to_dict()
    assert failed_invoice["status"] == "open"
    # Stripe's events carry the address of the invoice's own payment page, which localstripe does not make.
    failed_invoice["hosted_invoice_url"] = f"https://invoice.stripe.com/i/acct_test/{failed_invoice['id']}"
    assert deliver(billing_server, event("invoice.payment_failed", failed_invoice))["outcome"] == "applied"
    assert subscription_row(app, base.operator_id).status == "past_due"

    # Grace: the dashboard warns the owner with the days left, and the base can still be changed.
    page.goto(f"/b/{base.slug}/")
    seen(page, "4-dashboard-grace")
    banner = page.locator("#billing-banner")
    expect(banner).to_contain_text("订阅付款失败，如未付款，基地将在 14 天后变为只读。")
    before = milestones(app, base.id)
    assert add_milestone(page, company_page, "宽限期内写入").status == 200
    expect(page.get_by_text("发展动态已添加。")).to_be_visible()
    seen(page)
    assert milestones(app, base.id) == before + 1
    page.goto(f"/b/{base.slug}/")
    page.locator("#billing-banner").get_by_role("link", name="更新付款").click()
    page.wait_for_url(f"**{BILLING}")
    seen(page, "5-billing-past-due")
    assert page.locator("#subscription-status").inner_text() == "付款逾期"
    assert "只读开始日期" in page.locator("#subscription-state").inner_text()
    assert "待付款" in page.locator("#invoices").inner_text()
    # The page starts with the overdue invoice and the button that pays it on Stripe's page of it.
    overdue = page.locator("#pay-overdue")
    expect(overdue).to_contain_text("已逾期未付")
    pay = overdue.get_by_role("link", name="支付逾期账单")
    assert pay.get_attribute("href") == failed_invoice["hosted_invoice_url"]

    # Beyond the grace period (the clock moved: it fell past due 15 days ago): the write is refused with the
    # read-only page, nothing is written, and the pages still open.
    with app.app_context():
        db.session.execute(update(Subscription).where(Subscription.operator_id == base.operator_id)
                           .values(past_due_since=utcnow() - timedelta(days=15)))
        db.session.commit()
    before = milestones(app, base.id)
    refused = add_milestone(page, company_page, "只读期间不应写入")
    assert refused.status == 402
    seen(page, "6-read-only-refused")
    read_only = page.locator("#read-only")
    expect(read_only.get_by_role("heading")).to_have_text("该运营单位的订阅已暂停，基地处于只读状态。")
    assert "您刚才提交的内容未被保存" in read_only.inner_text()
    assert milestones(app, base.id) == before
    page.goto(company_page)
    seen(page, "7-company-read-only")
    expect(page.locator("#billing-banner")).to_contain_text("该运营单位的订阅已暂停，基地处于只读状态")
    assert page.get_by_text("宽限期内写入").count() == 1 and page.get_by_text("只读期间不应写入").count() == 0
    page.goto(f"/b/{base.slug}/tenants/")
    seen(page)
    assert page.get_by_role("link", name="晋阳云帆科技有限公司").count() >= 1
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 Excel").click()
    assert download.value.suggested_filename.endswith(".xlsx")

    # The read-only page sends the owner to the billing page, where the overdue invoice is shown.
    assert add_milestone(page, company_page, "只读期间不应写入").status == 402
    assert milestones(app, base.id) == before
    page.get_by_role("link", name="前往订阅页面").click()
    page.wait_for_url(f"**{BILLING}")
    seen(page, "8-billing-read-only")
    assert page.locator("#subscription-status").inner_text() == "付款逾期"
    assert "待付款" in page.locator("#invoices").inner_text()
    assert page.locator("#pay-overdue").get_by_role("link", name="支付逾期账单").is_visible()

    # The payment, on Stripe's page of the invoice (outside this test: localstripe has no such page), is made
    # through Stripe's API instead: a good card becomes the customer's default and pays the open invoice
    # (the subscribe form is for a first payment only); Stripe's invoice.paid arrives, signed, and the
    # subscription is active again.
    assert page.get_by_label("Stripe 付款方式 ID（仅限测试环境）").count() == 0
    localstripe.make_default_card(customer_id, GOOD_CARD)
    assert api.Invoice.pay(failed_invoice["id"]).status == "paid"
    paid = api.Invoice.retrieve(failed_invoice["id"]).to_dict()
    assert deliver(billing_server, event("invoice.paid", paid))["outcome"] == "applied"
    row = subscription_row(app, base.operator_id)
    assert (row.status, row.plan, row.past_due_since) == ("active", "network", None)
    page.reload()
    seen(page, "9-billing-paid")
    assert page.locator("#subscription-status").inner_text() == "有效"
    assert page.locator("#billing-banner").count() == 0
    assert page.locator("#pay-overdue").count() == 0
    assert "已付款" in page.locator("#invoices").inner_text()

    # Full access again: the write goes through, no banner.
    before = milestones(app, base.id)
    assert add_milestone(page, company_page, "恢复后写入").status == 200
    expect(page.get_by_text("发展动态已添加。")).to_be_visible()
    seen(page, "10-company-restored")
    assert page.locator("#billing-banner").count() == 0
    assert milestones(app, base.id) == before + 1
