"""Paying what is overdue (issue 12): when the subscription is past due, the owner's billing page starts with the
overdue invoice and one button to pay it, on Stripe's page of that invoice, or in the customer portal when the
invoice has no page of its own; with neither, it says where the link to pay comes from. An active subscription
shows none of it."""
import re
from datetime import datetime, timezone

from billing.models import OperatorInvoice
from operator_app.extensions import db

from .stripe_server import localstripe, set_subscription, stripe_billing  # noqa: F401

BILLING = "/operator/billing"
PAY_AREA = re.compile(r'<div class="card border-danger[^"]*" id="pay-overdue">(.*?)</div></div>', re.S)


def invoice(app, operator_id, status, *, day=1, hosted=True, amount_due=9900, amount_paid=0, number=None):
    with app.app_context():
        db.session.add(OperatorInvoice(
            operator_id=operator_id, stripe_invoice_id=f"in_{status}_{day}", number=number or f"N-{day}",
            status=status, amount_due=amount_due, amount_paid=amount_paid, currency="cny",
            hosted_invoice_url=f"https://invoice.stripe.com/i/{status}_{day}" if hosted else "",
            created_at=datetime(2026, 11, day, tzinfo=timezone.utc)))
        db.session.commit()


def pay_area(browser):
    found = PAY_AREA.search(browser.get(BILLING).get_data(as_text=True))
    return found.group(1) if found else None


def test_past_due_the_page_starts_with_the_button_to_pay_the_open_invoice_at_stripe(app, factory, browser,
                                                                                     stripe_billing):  # noqa: F811
    base = factory.base()
    set_subscription(app, base.operator_id, status="past_due", stripe_subscription_id="sub_overdue")
    invoice(app, base.operator_id, "paid", day=1)
    invoice(app, base.operator_id, "open", day=2, number="INV-0002", amount_due=29900, amount_paid=10000)
    browser.login(base.owner)
    area = pay_area(browser)
    assert area is not None
    assert "订阅账单 INV-0002（199.00 CNY）已逾期未付" in area
    assert ('<a class="btn btn-danger" href="https://invoice.stripe.com/i/open_2" rel="noopener noreferrer">'
            "支付逾期账单</a>") in area


def test_an_invoice_without_its_own_page_is_paid_in_the_customer_portal(app, factory, browser,
                                                                       stripe_billing):  # noqa: F811
    app.config["STRIPE_CUSTOMER_PORTAL"] = True  # stripe_billing restores it
    base = factory.base()
    set_subscription(app, base.operator_id, status="unpaid", stripe_subscription_id="sub_unpaid")
    invoice(app, base.operator_id, "open", day=3, hosted=False)
    browser.login(base.owner)
    area = pay_area(browser)
    assert 'action="/operator/billing/portal"' in area and ">支付逾期账单</button>" in area


def test_with_no_page_and_no_portal_the_owner_is_told_where_the_link_comes_from(app, factory, browser,
                                                                               stripe_billing):  # noqa: F811
    base = factory.base()
    set_subscription(app, base.operator_id, status="past_due", stripe_subscription_id="sub_no_link")
    browser.login(base.owner)
    area = pay_area(browser)
    assert "订阅付款已逾期。" in area and "Stripe 会通过电子邮件发送该账单及付款链接。" in area
    assert "支付逾期账单" not in area


def test_an_active_subscription_has_nothing_overdue(app, factory, browser, stripe_billing):  # noqa: F811
    base = factory.base()
    set_subscription(app, base.operator_id, status="active", stripe_subscription_id="sub_fine")
    invoice(app, base.operator_id, "open", day=4)  # open but not overdue: the subscription is in good standing
    browser.login(base.owner)
    assert pay_area(browser) is None
