"""Stripe payment links on a base's connected account, and the connected account's events.

Stripe Checkout is not available locally: localstripe (the suite's local Stripe server) has no Checkout
Sessions and no Prices. Creating a session is therefore tested against ``CheckoutStripe``, a small real HTTP
server on a loopback port that answers POST /v1/checkout/sessions (and …/expire) as Stripe's API documents
them, keeping every request: what we send (mode, amount, currency, payment methods, the Stripe-Account
header, the idempotency key) is asserted on the wire. The events (checkout.session.completed, …expired) are
tested by calling ``handle_connected_event`` with event dicts shaped as Stripe sends them; the webhook's
signature and once-only handling are the webhook's tests.
"""
import json
import threading
import urllib.parse
from datetime import date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from billing import payment_links
from billing.models import BillingSettings, Payment, PaymentLink
from operator_app.accounts.models import User
from operator_app.audit import AuditEntry
from operator_app.db import current_base_id, scoped_to
from operator_app.extensions import db

from ..helpers import field_errors
from .test_payments_support import balance, count, make_bill, money, owed, pay, text_of, zh  # noqa: F401

ACCOUNT = "acct_1PaymentLinksTest"
SECRET = "sk_test_payment_links"


class CheckoutStripe:
    """Stripe's Checkout Sessions API on a free loopback port: creates sessions (the same one again for a
    repeated idempotency key, as Stripe does), expires them, or refuses with ``refuse`` (status, message)."""

    def __init__(self):
        self.requests, self.sessions, self.by_key = [], {}, {}
        self.refuse = None
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                params = dict(urllib.parse.parse_qsl(body))
                server.requests.append({"path": self.path, "headers": dict(self.headers), "params": params})
                status, answer = server.answer(self.path, self.headers, params)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, path, headers, params):
        if self.refuse:
            status, message = self.refuse
            return status, {"error": {"type": "invalid_request_error", "message": message}}
        if path == "/v1/checkout/sessions":
            key = headers.get("Idempotency-Key")
            if key in self.by_key:
                return 200, self.by_key[key]
            number = len(self.sessions) + 1
            session = {"id": f"cs_test_{number:04d}", "object": "checkout.session", "mode": params["mode"],
                       "url": f"https://checkout.stripe.com/c/pay/cs_test_{number:04d}",
                       "amount_total": int(params["line_items[0][price_data][unit_amount]"]),
                       "currency": params["line_items[0][price_data][currency]"], "status": "open",
                       "payment_status": "unpaid", "client_reference_id": params.get("client_reference_id")}
            self.sessions[session["id"]] = session
            self.by_key[key] = session
            return 200, session
        if path.startswith("/v1/checkout/sessions/") and path.endswith("/expire"):
            session = self.sessions.get(path.split("/")[4])
            if session is None:
                return 404, {"error": {"type": "invalid_request_error", "message": "No such checkout.session"}}
            session["status"] = "expired"
            return 200, session
        return 404, {"error": {"type": "invalid_request_error", "message": "Unrecognized request URL"}}

    def created(self):
        return [request for request in self.requests if request["path"] == "/v1/checkout/sessions"]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def checkout(app, monkeypatch):
    """Stripe configured for this installation, its API answered by the loopback server."""
    with CheckoutStripe() as server:
        monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", SECRET)
        monkeypatch.setitem(app.config, "STRIPE_API_BASE", server.url)
        yield server


def connect(app, base, account=ACCOUNT):
    with app.test_request_context(), scoped_to(base.id):
        payment_links.set_connected_account(account, by=db.session.get(User, base.owner.id))
        db.session.commit()


def links(app, base):
    with app.app_context(), scoped_to(base.id):
        return [(link.invoice_id, link.stripe_session_id, link.amount_fen, link.status, link.payment_id)
                for link in db.session.scalars(select(PaymentLink).order_by(PaymentLink.id))]


def _link_url(base, bill):
    return f"/b/{base.slug}/billing/invoices/{bill}/payment-link"


def _pay_url(base, bill):
    return f"/b/{base.slug}/billing/invoices/{bill}/pay-online"


def _statement(base, company):
    return f"/b/{base.slug}/billing/companies/{company}/statement"


# --- Creating links ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["manager", "staff"])
def test_staff_make_a_link_for_what_the_bill_still_owes_on_the_bases_account(app, browser, checkout, money, role):
    base, company, _ = money
    connect(app, base)
    bill = make_bill(app, base, company, 100_000)
    pay(app, base, company, 30_000)
    browser.login(base.users[role])
    response = browser.post(_link_url(base, bill), form_page=_statement(base, company))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/statement#bill-{bill}")
    page = text_of(browser.get(response.headers["Location"]))
    assert "https://checkout.stripe.com/c/pay/cs_test_0001" in page and "700.00" in page
    assert links(app, base) == [(bill, "cs_test_0001", 70_000, "open", None)]
    [request] = checkout.created()
    headers, params = request["headers"], request["params"]
    assert headers["Stripe-Account"] == ACCOUNT and headers["Authorization"] == f"Bearer {SECRET}"
    assert headers["Idempotency-Key"].startswith(f"bill-link-{base.id}-{bill}-70000-0-")
    assert params["mode"] == "payment"
    assert params["line_items[0][price_data][currency]"] == "cny"
    assert params["line_items[0][price_data][unit_amount]"] == "70000"
    assert params["line_items[0][quantity]"] == "1"
    assert [params[f"payment_method_types[{i}]"] for i in range(3)] == ["card", "alipay", "wechat_pay"]
    assert params["payment_method_options[wechat_pay][client]"] == "web"
    assert params["client_reference_id"] == str(bill) and params["metadata[invoice_id]"] == str(bill)
    assert params["success_url"] == f"http://localhost{_statement(base, company)}"
    assert "甲科技有限公司" in params["line_items[0][price_data][product_data][name]"]
    # Asked again, the open link is handed out again: no second session.
    browser.post(_link_url(base, bill), form_page=_statement(base, company))
    assert len(checkout.created()) == 1 and len(links(app, base)) == 1
    with app.app_context(), scoped_to(base.id):
        assert db.session.scalar(select(AuditEntry.user_id).where(AuditEntry.action == "payment_link.create")) == \
            base.users[role].id


def test_a_new_amount_owed_gets_a_new_link_and_the_old_one_is_closed_at_stripe(app, browser, checkout, money):
    base, company, _ = money
    connect(app, base)
    bill = make_bill(app, base, company, 100_000)
    browser.login(base.users["staff"])
    browser.post(_link_url(base, bill), form_page=_statement(base, company))
    pay(app, base, company, 40_000)  # paid in part by hand meanwhile
    browser.post(_link_url(base, bill), form_page=_statement(base, company))
    assert links(app, base) == [(bill, "cs_test_0001", 100_000, "expired", None),
                                (bill, "cs_test_0002", 60_000, "open", None)]
    assert [request["path"] for request in checkout.requests] == [
        "/v1/checkout/sessions", "/v1/checkout/sessions", "/v1/checkout/sessions/cs_test_0001/expire"]
    assert checkout.requests[2]["headers"]["Stripe-Account"] == ACCOUNT


def test_an_old_link_is_made_anew_before_stripe_would_close_it(app, checkout, money):
    base, company, _ = money
    connect(app, base)
    bill = make_bill(app, base, company, 100_000)
    now = datetime.now(timezone.utc)
    with app.test_request_context(), scoped_to(base.id):
        from billing.models import RentInvoice

        invoice = db.session.get(RentInvoice, bill)
        first = payment_links.link_for(invoice, by=None, success_url="http://x/s", cancel_url="http://x/c", now=now)
        db.session.commit()
        again = payment_links.link_for(invoice, by=None, success_url="http://x/s", cancel_url="http://x/c",
                                       now=now + timedelta(hours=22))
        assert again.id == first.id
        later = payment_links.link_for(invoice, by=None, success_url="http://x/s", cancel_url="http://x/c",
                                       now=now + timedelta(hours=23, minutes=1))
        db.session.commit()
        assert later.id != first.id and later.amount_fen == 100_000
    assert len(checkout.created()) == 2


def test_the_tenant_pays_its_own_bill_online_and_nobody_elses(app, browser, new_browser, checkout, money):
    base, company, other = money
    connect(app, base)
    bill = make_bill(app, base, company, 88_800)
    theirs = make_bill(app, base, other, 10_000)
    browser.login(base.users["tenant"])
    page = text_of(browser.get(_statement(base, company)))
    assert f'data-pay-online="{bill}"' in page and zh(app, "Pay online") in page
    response = browser.post(_pay_url(base, bill), form_page=_statement(base, company))
    assert response.status_code == 303
    assert response.headers["Location"] == "https://checkout.stripe.com/c/pay/cs_test_0001"
    assert browser.post(_pay_url(base, theirs), form_page=_statement(base, company)).status_code == 404
    assert links(app, base) == [(bill, "cs_test_0001", 88_800, "open", None)]
    # Staff may open the page for a company at the desk (the open link again); a mentor has no billing.
    for role, status in (("staff", 303), ("manager", 303), ("mentor", 403)):
        other_browser = new_browser()
        other_browser.login(base.users[role])
        assert other_browser.post(_pay_url(base, bill), form_page="/account/password").status_code == status
    mentor = new_browser()
    mentor.login(base.users["mentor"])
    assert mentor.post(_link_url(base, bill), form_page="/account/password").status_code == 403
    tenant_link = browser.post(_link_url(base, bill), form_page=_statement(base, company))
    assert tenant_link.status_code == 403


@pytest.mark.parametrize("setup", ["no_account", "no_stripe_key"])
def test_without_an_account_or_a_stripe_key_there_is_no_online_payment(app, browser, checkout, money, monkeypatch,
                                                                         setup):
    base, company, _ = money
    if setup == "no_stripe_key":
        connect(app, base)
        monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", None)
    bill = make_bill(app, base, company, 10_000)
    browser.login(base.users["tenant"])
    assert "data-pay-online" not in text_of(browser.get(_statement(base, company)))
    response = browser.post(_pay_url(base, bill), form_page=_statement(base, company))
    assert response.status_code == 302 and response.headers["Location"].endswith(_statement(base, company))
    assert zh(app, "Online payment is not set up for this base.") in text_of(browser.get(_statement(base, company)))
    assert checkout.requests == [] and links(app, base) == []


def test_a_paid_bill_gets_no_link_and_a_refusal_by_stripe_is_said_plainly(app, browser, checkout, money):
    base, company, _ = money
    connect(app, base)
    paid = make_bill(app, base, company, 10_000)
    pay(app, base, company, 10_000)
    browser.login(base.users["staff"])
    response = browser.post(_link_url(base, paid), form_page=_statement(base, company))
    assert zh(app, "Nothing is owed on this bill.") in text_of(browser.get(response.headers["Location"]))
    assert checkout.requests == []
    bill = make_bill(app, base, company, 20_000)
    checkout.refuse = (400, "The payment method type provided: wechat_pay is invalid.")
    response = browser.post(_link_url(base, bill), form_page=_statement(base, company))
    assert response.status_code == 302
    assert zh(app, "Stripe could not make the payment page just now. Try again later.") in \
        text_of(browser.get(response.headers["Location"]))
    assert links(app, base) == []


# --- The base's Stripe account ---------------------------------------------------------------------------------

def test_the_manager_connects_the_bases_stripe_account(app, browser, new_browser, factory, checkout, money):
    base, *_ = money
    page = f"/b/{base.slug}/billing/stripe-account"
    browser.login(base.owner)
    assert 'id="stripe-off"' not in text_of(browser.get(page))
    for value in ("acct 123", "sk_live_abc", "acct_", "acct_12345", "acct_" + "x" * 60, "acct_abc!defgh"):
        response = browser.post(page, {"stripe_account_id": value})
        assert list(field_errors(response)) == ["stripe_account_id"], value
    assert field_errors(browser.post(page, {"stripe_account_id": "acct 123"}))["stripe_account_id"] == [
        zh(app, "Enter the account id as Stripe shows it: acct_ followed by letters and digits.")]
    with app.app_context(), scoped_to(base.id):
        assert db.session.scalar(select(BillingSettings.stripe_account_id)) is None
    assert browser.post(page, {"stripe_account_id": f"  {ACCOUNT} "}).status_code == 302
    with app.app_context(), scoped_to(base.id):
        assert db.session.scalar(select(BillingSettings.stripe_account_id)) == ACCOUNT
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "billing.stripe_account"))
        assert entry.before == {"stripe_account_id": None} and entry.after == {"stripe_account_id": ACCOUNT}
    # An account pays one base.
    other = factory.base("bravo")
    other_browser = new_browser()
    other_browser.login(other.owner)
    taken = other_browser.post(f"/b/{other.slug}/billing/stripe-account", {"stripe_account_id": ACCOUNT})
    assert field_errors(taken)["stripe_account_id"] == [
        zh(app, "This Stripe account is already connected to another base.")]
    # Emptied, online payment is off.
    assert browser.post(page, {"stripe_account_id": ""}).status_code == 302
    with app.app_context(), scoped_to(base.id):
        assert db.session.scalar(select(BillingSettings.stripe_account_id)) is None
    staff = new_browser()
    staff.login(base.users["staff"])
    assert staff.get(page).status_code == 403


def test_the_account_page_says_when_this_installation_has_no_stripe_key(app, browser, money):
    base, *_ = money
    browser.login(base.owner)
    assert 'id="stripe-off"' in text_of(browser.get(f"/b/{base.slug}/billing/stripe-account"))


# --- The connected account's events ------------------------------------------------------------------------------

def _link(app, base, bill):
    """A payment link stored for ``bill`` as link_for stores it (the session as Stripe made it)."""
    with app.app_context(), scoped_to(base.id):
        link = PaymentLink(invoice_id=bill, stripe_session_id=f"cs_test_{bill:04d}",
                           url=f"https://checkout.stripe.com/c/pay/cs_test_{bill:04d}",
                           amount_fen=owed_in_scope(bill))
        db.session.add(link)
        db.session.commit()
        return link.stripe_session_id


def owed_in_scope(bill):
    from billing import settlement
    from billing.models import RentInvoice

    return settlement.outstanding(db.session.get(RentInvoice, bill))


def event(session_id, *, kind="checkout.session.completed", account=ACCOUNT, amount=70_000, status="paid",
          created=datetime(2026, 3, 31, 16, 30, tzinfo=timezone.utc), event_id="evt_1", **extra):
    session = {"id": session_id, "object": "checkout.session", "mode": "payment", "amount_total": amount,
               "currency": "cny", "payment_status": status, "payment_intent": "pi_3PaidByWeChat",
               "status": "complete" if kind.endswith("completed") else "expired", **extra}
    return {"id": event_id, "object": "event", "type": kind, "account": account,
            "created": int(created.timestamp()), "livemode": False, "data": {"object": session}}


def deliver(app, payload):
    """As the webhook view does: inside a request, then commit."""
    with app.test_request_context("/billing/stripe/webhook", method="POST"):
        assert current_base_id() is None
        result = payment_links.handle_connected_event(payload)
        assert current_base_id() is None  # the base it scoped to is not left behind
        db.session.commit()
        return result


def test_a_completed_paid_session_records_the_payment_once_and_settles_the_bill(app, money):
    base, company, _ = money
    connect(app, base)
    bill = make_bill(app, base, company, 100_000)
    pay(app, base, company, 30_000)
    session_id = _link(app, base, bill)
    assert deliver(app, event(session_id)) == ("applied", base.id)
    assert owed(app, base, bill) == 0
    with app.app_context(), scoped_to(base.id):
        payment = db.session.scalar(select(Payment).where(Payment.method == "stripe"))
        # Paid at 00:30 on 1 April in Shanghai (16:30 UTC on 31 March): the base's day.
        assert (payment.amount_fen, payment.reference, payment.received_on, payment.recorded_by_id,
                payment.company_id) == (70_000, "pi_3PaidByWeChat", date(2026, 4, 1), None, company)
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "payment.stripe"))
        assert entry.user_id is None and entry.base_id == base.id
    assert links(app, base) == [(bill, session_id, 70_000, "paid", payment.id)]
    # Delivered again (another event id for the same session, or Stripe retrying): never recorded twice.
    assert deliver(app, event(session_id, event_id="evt_2")) == ("already_recorded", base.id)
    assert deliver(app, event(session_id, kind="checkout.session.async_payment_succeeded",
                              event_id="evt_3")) == ("already_recorded", base.id)
    assert count(app, base, Payment) == 2


def test_a_link_paid_after_the_bill_was_settled_by_hand_becomes_credit(app, money):
    base, company, _ = money
    connect(app, base)
    bill = make_bill(app, base, company, 50_000)
    session_id = _link(app, base, bill)
    pay(app, base, company, 50_000)
    assert deliver(app, event(session_id, amount=50_000)) == ("applied", base.id)
    assert balance(app, base, company).credit_fen == 50_000


def test_an_asynchronous_payment_is_recorded_when_it_succeeds(app, money):
    base, company, _ = money
    connect(app, base)
    bill = make_bill(app, base, company, 10_000)
    session_id = _link(app, base, bill)
    assert deliver(app, event(session_id, status="unpaid", amount=10_000)) == ("unpaid", base.id)
    assert count(app, base, Payment) == 0
    assert deliver(app, event(session_id, kind="checkout.session.async_payment_succeeded", amount=10_000,
                              event_id="evt_2")) == ("applied", base.id)
    assert owed(app, base, bill) == 0


def test_an_expired_session_closes_its_link(app, money):
    base, company, _ = money
    connect(app, base)
    bill = make_bill(app, base, company, 10_000)
    session_id = _link(app, base, bill)
    assert deliver(app, event(session_id, kind="checkout.session.expired", status="unpaid")) == ("expired", base.id)
    assert links(app, base)[0][3] == "expired" and count(app, base, Payment) == 0


def test_events_of_unknown_accounts_other_sessions_and_other_types_change_nothing(app, factory, money):
    base, company, _ = money
    connect(app, base)
    bill = make_bill(app, base, company, 10_000)
    session_id = _link(app, base, bill)
    other = factory.base("bravo")
    connect(app, other, "acct_1OtherBaseAccount")
    assert deliver(app, event(session_id, account="acct_1NobodysAccount")) == ("unknown_account", None)
    assert deliver(app, event(session_id, account=None)) == ("unknown_account", None)
    # Base B's account cannot pay base A's link, whatever the metadata says.
    forged = event(session_id, account="acct_1OtherBaseAccount",
                   metadata={"base_id": str(base.id), "invoice_id": str(bill)})
    assert deliver(app, forged) == ("unknown_session", other.id)
    assert deliver(app, event("cs_test_unknown", metadata={"invoice_id": str(bill)})) == ("unknown_session", base.id)
    assert deliver(app, event(session_id, kind="payment_intent.succeeded")) == ("ignored", base.id)
    assert deliver(app, event(session_id, kind="charge.refunded")) == ("ignored", base.id)
    assert count(app, base, Payment) == 0 and count(app, other, Payment) == 0
    assert links(app, base)[0][3] == "open" and owed(app, base, bill) == 10_000


def test_two_deliveries_at_once_record_one_payment(app, money):
    base, company, _ = money
    connect(app, base)
    bill = make_bill(app, base, company, 10_000)
    session_id = _link(app, base, bill)
    barrier = threading.Barrier(2, timeout=10)
    outcomes = []

    def deliver_at_once(event_id):
        with app.test_request_context("/billing/stripe/webhook", method="POST"):
            try:
                barrier.wait()
                outcomes.append(payment_links.handle_connected_event(event(session_id, amount=10_000,
                                                                           event_id=event_id))[0])
                db.session.commit()
            except Exception as error:  # noqa: BLE001  (reported by the test)
                outcomes.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=deliver_at_once, args=(f"evt_{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["already_recorded", "applied"]
    assert count(app, base, Payment) == 1 and owed(app, base, bill) == 0
