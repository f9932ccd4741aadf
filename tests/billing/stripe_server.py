"""A real localstripe server for the billing tests (no Stripe call is mocked), the app configured to bill through
it, and webhooks signed in the test exactly as Stripe signs them.

Test modules import the fixtures: ``from .stripe_server import localstripe, stripe_billing  # noqa: F401``.
"""
import hashlib
import hmac
import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from copy import deepcopy

import pytest
import stripe

SECRET_KEY = "sk_test_localstripe_billing"
WEBHOOK_SECRET = "whsec_test_billing_webhooks"
#: The Stripe plan ids of the configured plans in localstripe (it speaks the Plans API; Stripe takes them as
#: price ids too). The network plan is yearly: moving to it makes localstripe invoice at once.
PRICES = {"starter": "plan_test_starter", "standard": "plan_test_standard", "network": "plan_test_network"}
WEBHOOK_URL = "/billing/stripe/webhook"
CONFIG_KEYS = ("STRIPE_SECRET_KEY", "STRIPE_API_BASE", "STRIPE_WEBHOOK_SECRET", "STRIPE_CHECKOUT",
               "STRIPE_CUSTOMER_PORTAL", "STRIPE_WEBHOOK_TOLERANCE", "BILLING_PLANS", "BILLING_GRACE_DAYS",
               "BILLING_TRIAL_DAYS")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LocalStripe:
    """A localstripe process on a loopback port."""

    def __init__(self, port, process):
        self.port = port
        self.process = process
        self.url = f"http://127.0.0.1:{port}"

    def use(self):
        """Point the stripe library at this server (the app does the same from its configuration)."""
        stripe.api_key = SECRET_KEY
        stripe.api_base = self.url
        return stripe

    def raw(self, method, path, data=None):
        """A plain HTTP call (for localstripe's own /_config routes and test-only actions)."""
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        request = urllib.request.Request(self.url + path, data=body, method=method,
                                         headers={"Authorization": f"Bearer {SECRET_KEY}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read().decode()
            return json.loads(text) if text.strip().startswith("{") else text

    def card(self, number="4242424242424242"):
        """A card payment method, not attached to anyone yet; returns its id."""
        return self.use().PaymentMethod.create(
            type="card", card={"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"}).id

    def make_default_card(self, customer_id, number):
        """Attach a card to the customer and make it the default payment method of its invoices."""
        api = self.use()
        payment_method = self.card(number)
        api.PaymentMethod.attach(payment_method, customer=customer_id)
        api.Customer.modify(customer_id, invoice_settings={"default_payment_method": payment_method})
        return payment_method

    def events(self, type=None):
        """localstripe's own events, newest first, as plain dicts."""
        params = {"limit": 100, **({"type": type} if type else {})}
        return [event.to_dict() for event in self.use().Event.list(**params).data]

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def _wait_until_answering(server, deadline_seconds=30):
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"localstripe exited with {server.process.returncode}")
        try:
            server.raw("GET", "/v1/customers")
            return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.1)  # the server is starting: poll, not a fixed wait
    raise RuntimeError("localstripe did not answer")


@pytest.fixture(scope="session")
def localstripe():
    """``python -m localstripe`` on a free loopback port for the session, with the plans' product and plans."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "localstripe", "--port", str(port), "--from-scratch"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               cwd=tempfile.mkdtemp(prefix="localstripe-"))
    server = LocalStripe(port, process)
    try:
        _wait_until_answering(server)
        api = server.use()
        product = api.Product.create(name="双创基地运营平台订阅")
        for key, plan_id in PRICES.items():
            api.Plan.create(id=plan_id, product=product.id, currency="cny",
                            amount={"starter": 99_000, "standard": 249_000, "network": 5_990_000}[key],
                            interval="year" if key == "network" else "month")
        yield server
    finally:
        server.stop()
        stripe.api_key, stripe.api_base = None, "https://api.stripe.com"


@pytest.fixture
def stripe_billing(app, localstripe):
    """The app billing through localstripe (no Checkout, no portal) for one test; its configuration restored
    afterwards (the app is the session's)."""
    saved = {key: deepcopy(app.config.get(key)) for key in CONFIG_KEYS}
    plans = deepcopy(app.config["BILLING_PLANS"])
    for key, plan in plans.items():
        plan["price_id"] = PRICES.get(key)
    app.config.update(STRIPE_SECRET_KEY=SECRET_KEY, STRIPE_API_BASE=localstripe.url,
                      STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET, STRIPE_CHECKOUT=False, STRIPE_CUSTOMER_PORTAL=False,
                      STRIPE_WEBHOOK_TOLERANCE=300, BILLING_PLANS=plans, BILLING_GRACE_DAYS=14,
                      BILLING_TRIAL_DAYS=30)
    try:
        yield localstripe
    finally:
        app.config.update(saved)
        stripe.api_key, stripe.api_base = None, "https://api.stripe.com"


# ---------------------------------------------------------------------------------------------------------
# Webhooks signed as Stripe signs them
# ---------------------------------------------------------------------------------------------------------


def signature(payload, secret=WEBHOOK_SECRET, timestamp=None):
    """The ``Stripe-Signature`` header: ``t=<ts>,v1=<hex HMAC-SHA256(secret, "<ts>.<payload>")>``."""
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def event(type, obj, created=None, event_id=None, **extra):
    """A Stripe event around ``obj`` (a real object fetched from localstripe, as a dict)."""
    return {"id": event_id or f"evt_test_{uuid.uuid4().hex[:20]}", "object": "event", "api_version": "2024-06-20",
            "type": type, "created": int(time.time()) if created is None else int(created), "livemode": False,
            "data": {"object": obj}, **extra}


def payload_of(evt):
    """The body as Stripe sends it (pretty-printed JSON)."""
    return json.dumps(evt, indent=2, ensure_ascii=False)


def deliver(client, evt, *, secret=WEBHOOK_SECRET, timestamp=None, body=None, header=None):
    """POST ``evt`` to the webhook signed with ``secret`` at ``timestamp`` (or send ``body``/``header`` as
    given, for forgeries); returns the response."""
    body = payload_of(evt) if body is None else body
    headers = {"Content-Type": "application/json"}
    header = signature(body, secret, timestamp) if header is None else header
    if header:
        headers["Stripe-Signature"] = header
    return client.post(WEBHOOK_URL, data=body.encode("utf-8") if isinstance(body, str) else body,
                       headers=headers)


def set_subscription(app, operator_id, **values):
    """The operator's subscription row as Stripe would have left it."""
    from sqlalchemy import select

    from billing.models import Subscription
    from operator_app.extensions import db

    with app.app_context():
        row = db.session.scalar(select(Subscription).where(Subscription.operator_id == operator_id))
        if row is None:
            row = Subscription(operator_id=operator_id, stripe_customer_id=f"cus_test_{operator_id}")
            db.session.add(row)
        for key, value in values.items():
            setattr(row, key, value)
        db.session.commit()
