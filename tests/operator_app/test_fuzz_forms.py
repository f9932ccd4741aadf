"""Fuzzing every form (issue 10, item 10): any input → the form again with a message, or a valid record; never
a 500. Each POST route of a base is found in the url_map, its fields are read from the form on the pages that
post to it, and hypothesis fills them with hostile values (control characters, huge numbers, NaN, full-width
digits, impossible dates, very long text, nothing at all), the rest of the form keeping the page's own values so
that the validation goes past the first field. After every redirect the records written are checked: amounts
finite and not negative, no NUL characters in text."""
import math
import os
import re
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from operator_app.accounts import constants as c
from operator_app.db import BaseOwnedMixin, scoped_to
from operator_app.extensions import db

from ..helpers import Browser, field_errors
from .test_isolation import BASE_SCOPED, one_of_everything

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
# Derandomized so a run is repeatable; FUZZ_RANDOM=1 (and a larger FUZZ_EXAMPLES) explores new inputs.
FUZZ_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=not os.environ.get("FUZZ_RANDOM"),
                         database=None,
                         suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
ALLOWED = {200, 302, 303, 400, 409, 413, 422}

FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S)
INPUT = re.compile(r"<input\b([^>]*)>")
SELECT = re.compile(r"<select\b([^>]*)>(.*?)</select>", re.S)
OPTION = re.compile(r"<option\b([^>]*)>")
TEXTAREA = re.compile(r"<textarea\b([^>]*)>(.*?)</textarea>", re.S)
ATTRIBUTE = re.compile(r'([\w-]+)(?:="([^"]*)")?')

NASTY = ["", " ", "NaN", "nan", "-NaN", "Infinity", "-Infinity", "inf", "-0", "0", "-1", "-0.01", "1e309",
         "1e-400", "9" * 40, "-" + "9" * 40, "99999999999999999999.99", "１２３", "１２３．４５", "２０２６-０３-０１",
         "2026-02-30", "9999-12-31", "0001-01-01", "0000-00-00", "2026-13-01", "10000-01-01", "2026-02",
         "9999-99", "2026-02-30T25:61", "12:61", "1,000", "¥100", "12.345", "0x10", "1_000", "\x00", "a\x00b",
         "\u202e", "\ufeff", "🙂" * 3, "=HYPERLINK(\"http://x\")", "x" * 5000, "中" * 300, "true", "on", "None"]
VALUES = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=30),  # every code point but surrogates: control characters included
    st.integers(min_value=-(10 ** 30), max_value=10 ** 30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.dates().map(str),
)


def _attributes(text):
    return {name: value or "" for name, value in ATTRIBUTE.findall(text)}


def parse_forms(html, page_path):
    """The POST forms of a page: [(action path, {field: {"kind", "value", "options"}})]."""
    forms = []
    for form_attributes, body in FORM.findall(html):
        attributes = _attributes(form_attributes)
        if attributes.get("method", "get").lower() != "post":
            continue
        fields = {}
        for tag in INPUT.findall(body):
            field = _attributes(tag)
            name, kind = field.get("name"), field.get("type", "text")
            if not name or kind in ("file", "submit", "button"):
                continue
            if kind in ("checkbox", "radio"):
                entry = fields.setdefault(name, {"kind": kind, "value": None, "options": []})
                entry["options"].append(field.get("value", "y"))
                if "checked" in field:
                    entry["value"] = field.get("value", "y")
            else:
                fields.setdefault(name, {"kind": kind, "value": field.get("value", ""), "options": []})
        for select_attributes, options in SELECT.findall(body):
            name = _attributes(select_attributes).get("name")
            if not name:
                continue
            values = [_attributes(option) for option in OPTION.findall(options)]
            chosen = [option.get("value", "") for option in values if "selected" in option]
            fields[name] = {"kind": "select", "value": chosen[0] if chosen else (values[0].get("value", "")
                                                                                 if values else ""),
                            "options": [option.get("value", "") for option in values]}
        for textarea_attributes, content in TEXTAREA.findall(body):
            name = _attributes(textarea_attributes).get("name")
            if name:
                fields[name] = {"kind": "textarea", "value": content.strip(), "options": []}
        action = attributes.get("action") or page_path
        forms.append((action.replace("&amp;", "&").split("?")[0], fields))
    return forms


def build_world(factory):
    """A base with one of every record and the route ids (tests/operator_app/test_isolation.py)."""
    return one_of_everything(factory)


def _path(rule, ids):
    return rule.build({key: value for key, value in ids.items() if key in rule.arguments})[1]


def collect_forms(app, browser, ids, endpoints):
    """{POST path: (page that shows the form, fields)} for the forms on every GET page of ``endpoints``."""
    found = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint not in endpoints or "GET" not in rule.methods or rule.arguments - set(ids):
            continue
        page = _path(rule, ids)
        response = browser.get(page)
        if response.status_code != 200 or "html" not in response.content_type:
            continue
        for action, fields in parse_forms(response.get_data(as_text=True), page):
            fuzzable = {name: field for name, field in fields.items() if name != "csrf_token"}
            if fuzzable and (action not in found or len(fuzzable) > len(found[action][1])):
                found[action] = (page, fuzzable)
    return found


def _baseline(fields):
    data = {}
    for name, field in fields.items():
        if field["kind"] in ("checkbox", "radio"):
            if field["value"] is not None:
                data[name] = field["value"]
        else:
            data[name] = field["value"]
    return data


def fuzzed_values(data, fields):
    """The page's values with some fields replaced by hostile ones (or by another of their options, or left out)."""
    values = _baseline(fields)
    names = sorted(fields)
    chosen = data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=len(names), unique=True), label="fields")
    for name in chosen:
        options = [option for option in fields[name]["options"] if option]
        strategy = st.one_of(VALUES, st.sampled_from(options), st.none()) if options else st.one_of(VALUES, st.none())
        value = data.draw(strategy, label=name)
        if value is None:
            values.pop(name, None)
        else:
            values[name] = value
    return values


NON_NEGATIVE = re.compile(r"(_fen|_m2|_months|_count|^seats|^employees|^new_ip|^expected_companies|^sheet_\w+)$")


def invalid_records(app, base_id):
    """What is wrong with the records of the base: a non-finite or negative amount, a NUL in text."""
    problems = []
    models = [mapper.class_ for mapper in db.Model.registry.mappers if issubclass(mapper.class_, BaseOwnedMixin)]
    with app.app_context(), scoped_to(base_id):
        for model in models:
            for row in db.session.scalars(db.select(model)):
                for column in model.__table__.columns:
                    value = getattr(row, column.key, None)
                    where = f"{model.__tablename__}.{column.key} #{row.id}"
                    if isinstance(value, (Decimal, float)) and not (value.is_finite() if isinstance(value, Decimal)
                                                                    else math.isfinite(value)):
                        problems.append(f"{where} = {value!r}")
                    elif (isinstance(value, (int, Decimal)) and not isinstance(value, bool)
                          and NON_NEGATIVE.search(column.key) and value < 0):
                        problems.append(f"{where} = {value!r} (negative)")
                    elif isinstance(value, str) and "\x00" in value:
                        problems.append(f"{where} contains NUL")
        db.session.remove()
    return problems


# The forms whose records are checked after each redirect (the key forms of the issue), and every other form.
KEY_FORMS = {"tenants.company_create", "tenants.lease_create", "billing.payment_new", "tenants.report_form",
             "ledger.request_create"}


def _fuzz_test(app, browser, base, token, path, page, fields, endpoint):
    """The property test of one route: fuzzed values in, never a 500 out; a redirect leaves valid records."""

    @FUZZ_SETTINGS
    @given(data=st.data())
    def post_fuzzed(data):
        values = fuzzed_values(data, fields)
        hidden = browser.hidden_fields(page) if any(f["kind"] == "hidden" for f in fields.values()) else {}
        values = {**{k: v for k, v in hidden.items() if k not in values or k == "csrf_token"}, **values}
        values["csrf_token"] = hidden.get("csrf_token") or token or values.get("csrf_token", "")
        response = browser.client.post(path, data=values)
        assert response.status_code in ALLOWED, (endpoint, response.status_code)
        if response.status_code in (302, 303) and endpoint in KEY_FORMS:
            problems = invalid_records(app, base.id)
            assert not problems, (endpoint, problems)

    return post_fuzzed


def fuzz_routes(app, browser, base, ids, endpoints, label):
    """Post fuzzed values to every POST route of ``endpoints`` that has a form; returns the failures found."""
    forms = collect_forms(app, browser, ids, endpoints)
    token = browser.csrf_token("/account/password") if label != "public" else None
    failures, fuzzed = [], []
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.endpoint):
        if rule.endpoint not in endpoints or "POST" not in rule.methods or rule.arguments - set(ids):
            continue
        path = _path(rule, ids)
        if path not in forms:
            continue
        page, fields = forms[path]
        fuzzed.append(rule.endpoint)

        post_fuzzed = _fuzz_test(app, browser, base, token, path, page, fields, rule.endpoint)
        try:
            post_fuzzed()
        except Exception as error:  # noqa: BLE001 - collected so that one run shows every route's failure
            notes = "\n".join(getattr(error, "__notes__", []))
            failures.append(f"{rule.endpoint}: {error!r}\n{notes}")
    return fuzzed, failures


def test_every_base_form_as_the_manager(app, factory, browser):
    base, ids = build_world(factory)
    browser.login(base.owner)
    fuzzed, failures = fuzz_routes(app, browser, base, ids, BASE_SCOPED, "manager")
    assert {"tenants.company_create", "tenants.lease_create", "billing.payment_new",
            "ledger.request_create"} <= set(fuzzed), fuzzed
    assert len(fuzzed) >= 35, fuzzed
    assert not failures, "\n\n".join(failures)
    assert not invalid_records(app, base.id)


def test_every_tenant_form_as_the_tenant_contact(app, factory, browser):
    base, ids = build_world(factory)
    browser.login(base.users[c.ROLE_TENANT])
    tenant_routes = {endpoint for endpoint in BASE_SCOPED
                     if c.ROLE_TENANT in app.view_functions[endpoint].allowed_roles}
    fuzzed, failures = fuzz_routes(app, browser, base, ids, tenant_routes, "tenant")
    assert "tenants.report_form" in fuzzed, fuzzed
    assert not failures, "\n\n".join(failures)
    assert not invalid_records(app, base.id)



# Plain regressions of what the fuzzing found.

def test_a_huge_amount_is_refused_with_a_message_not_a_500(app, factory, browser):
    """'1E26' yuan passed Decimal() and crashed rounding it to fen (decimal.InvalidOperation → 500)."""
    base, ids = build_world(factory)
    browser.login(base.owner)
    charges = f"/b/{base.slug}/billing/charges"
    response = browser.post(charges, {"lease_id": str(ids["lease_id"]), "month": "2026-05", "kind": "utilities",
                                      "description": "电费", "amount_yuan": "1E26"})
    assert response.status_code in (200, 422)
    assert "amount_yuan" in field_errors(response)
    report = f"/b/{base.slug}/tenants/{ids['company_id']}/reports/2026-10"
    response = browser.post(report, {"revenue_yuan": "100000000000000000000000000", "tax_yuan": "1",
                                     "employees": "3"})
    assert response.status_code in (200, 422)
    assert "revenue_yuan" in field_errors(response)
    with app.app_context(), scoped_to(base.id):
        from tenants.models import MonthlyReport
        assert db.session.scalar(db.select(db.func.count()).select_from(MonthlyReport)) == 0


# --- The public forms: no login -----------------------------------------------------------------------------
# Every POST route of PUBLIC and PUBLIC_BASE (tests/operator_app/test_isolation.py) is fuzzed below: the forms
# with a fresh browser for each example (a visitor: no cookie, its own CSRF token, the login counters emptied so
# that throttling does not hide the form), the page's fields filled with valid values first so that the
# validation goes past the first field; the Stripe webhook (no form: a signed body) has its own test.

WEBHOOK = "stripe_webhook.receive"
PUBLIC_ALLOWED = ALLOWED | {429}  # a throttled visitor is answered with a page saying so


def public_world(app, factory):
    """one_of_everything's base with its rules published and open to applications, a workstation person with
    a known phone, an activity whose sign-in is open now; returns (base, ids, forms): forms maps each public
    form's endpoint to (the page showing it, its valid values), both callables (an invitation is used up)."""
    from datetime import timedelta

    from ledger.models import Activity
    from operator_app.accounts.models import Base
    from operator_app.timeutil import today_in, utcnow
    from tenants import attendance_services
    from tenants.models import CheckInPoint
    from tenants.rules import rules_of

    from ..helpers import PASSWORD, company_values

    base, ids = one_of_everything(factory)
    phone = "13988887777"
    _person_id, pin = factory.person(base, ids["company_id"], name="扫码人员", phone=phone)
    activity_id = factory.activity(base, starts_at=utcnow() + timedelta(minutes=30), title="正在签到的活动")
    with app.app_context(), scoped_to(base.id):
        rules = rules_of(base)
        rules.is_published = rules.accepts_applications = True
        rules.required_documents = ["licence"]
        point = db.session.get(CheckInPoint, ids["point_id"])
        code = attendance_services.point_code(point, today_in(db.session.get(Base, base.id).timezone))
        signin_code = db.session.get(Activity, activity_id).signin_code
        db.session.commit()
    company = {key: ("y" if value is True else None if value is False else str(value))
               for key, value in company_values(90).items() if value is not None}
    counter = iter(range(1, 10_000))

    def signup_values():
        n = next(counter)
        return {"operator_name": f"模糊测试运营单位{n}", "base_name": f"模糊测试基地{n}", "base_slug": f"fuzz-{n}",
                "base_type": "industrial", "user_name": f"模糊{n}", "email": f"fuzz-signup{n}@example.com",
                "password": PASSWORD, "confirm": PASSWORD}

    def path(endpoint, **values):
        rule = next(rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint)
        return _path(rule, {"base_slug": base.slug, **values})

    def invitation_page():
        _id, token = factory.invitation(base, email=f"fuzz-invitee{next(counter)}@example.com")
        return path("auth.accept_invite", token=token)

    apply_page = path("tenants_public.public_apply")
    checkin_page = path("tenants_public.public_checkin", point_id=ids["point_id"], code=code)
    signin_page = path("ledger_public.signin", activity_id=activity_id, code=signin_code)
    forms = {
        "auth.login": (lambda: path("auth.login"), lambda: {"email": base.owner.email, "password": PASSWORD}),
        "auth.signup": (lambda: path("auth.signup"), signup_values),
        "auth.accept_invite": (invitation_page, lambda: {"name": "受邀的人", "phone": "13900001111",
                                                         "password": PASSWORD, "confirm": PASSWORD}),
        "tenants_public.public_apply": (lambda: apply_page, lambda: dict(company)),
        "tenants_public.public_checkin": (lambda: checkin_page, lambda: {"phone": phone, "pin": pin}),
        "ledger_public.signin": (lambda: signin_page,
                                 lambda: {"name": "来签到的人", "phone": "13700001234", "company_name": "某公司"}),
    }
    return base, ids, forms


def public_form(browser, page):
    """The POST form of ``page`` a visitor fills in: (action, fields)."""
    response = browser.get(page)
    assert response.status_code == 200, (page, response.status_code)
    forms = parse_forms(response.get_data(as_text=True), page)
    assert forms, f"no form on {page}"
    return max(forms, key=lambda form: len(form[1]))


def _public_fuzz_test(app, base, endpoint, page_of, valid_values):
    """The property test of one public form: fuzzed values in, never a 5xx out; the base's records stay valid."""

    @FUZZ_SETTINGS
    @given(data=st.data())
    def post_fuzzed(data):
        app.extensions["login_counter"].__init__()
        browser = Browser(app.test_client())
        action, fields = public_form(browser, page_of())
        token = fields.pop("csrf_token", {}).get("value", "")
        for name, value in valid_values().items():
            if name in fields:
                fields[name] = {**fields[name], "value": value}
        values = fuzzed_values(data, fields)
        values["csrf_token"] = token
        response = browser.client.post(action, data=values)
        assert response.status_code in PUBLIC_ALLOWED, (endpoint, response.status_code)
        if endpoint.startswith(("tenants_public.", "ledger_public.")):
            problems = invalid_records(app, base.id)
            assert not problems, (endpoint, problems)

    return post_fuzzed


def test_every_public_form_as_a_visitor(app, factory):
    from .test_isolation import PUBLIC, PUBLIC_BASE

    base, _ids, forms = public_world(app, factory)
    posting = {rule.endpoint for rule in app.url_map.iter_rules()
               if rule.endpoint in PUBLIC | PUBLIC_BASE and "POST" in rule.methods}
    assert posting - {WEBHOOK} == set(forms), "a public route that takes POST and is not fuzzed here"
    failures = []
    for endpoint, (page_of, valid_values) in sorted(forms.items()):
        app.extensions["login_counter"].__init__()
        visitor = Browser(app.test_client())  # the valid values first: they pass, so the fuzzing starts past them
        action, fields = public_form(visitor, page_of())
        response = visitor.client.post(action, data={**_baseline(fields), **valid_values()})
        assert response.status_code in (200, 302) and not field_errors(response), (endpoint, field_errors(response))
        try:
            _public_fuzz_test(app, base, endpoint, page_of, valid_values)()
        except Exception as error:  # noqa: BLE001 - collected so that one run shows every route's failure
            notes = "\n".join(getattr(error, "__notes__", []))
            failures.append(f"{endpoint}: {error!r}\n{notes}")
    assert not failures, "\n\n".join(failures)
    assert not invalid_records(app, base.id)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2 ** 70), max_value=2 ** 70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=3),
    max_leaves=8)
# The ids the world below knows (a subscribed customer, a connected account, a payment link) and words Stripe uses.
KNOWN = ["cus_fuzz", "sub_fuzz", "acct_fuzz", "cs_fuzz", "", "active", "past_due", "canceled", "unpaid", "paid",
         "subscription", "payment", "cny", "usd", "plan_test_starter"]
OBJECT_KEYS = ["id", "customer", "subscription", "status", "mode", "payment_status", "amount_total", "amount_paid",
               "amount_due", "currency", "created", "current_period_end", "cancel_at_period_end", "items", "plan",
               "lines", "period_end", "number", "hosted_invoice_url", "payment_intent", "client_reference_id",
               "metadata", "latest_invoice", "parent", "subscription_details"]
EVENT_TYPES = ["customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted",
               "invoice.created", "invoice.finalized", "invoice.paid", "invoice.payment_succeeded",
               "invoice.payment_failed", "checkout.session.completed", "checkout.session.async_payment_succeeded",
               "checkout.session.expired", "charge.refunded", ""]
FIELD_VALUES = st.one_of(st.sampled_from(KNOWN), JSON_VALUES)


@st.composite
def stripe_events(draw):
    """An event as Stripe would send it, with any values; ``created`` is seconds from now (or any integer)."""
    known = {"customer": st.sampled_from(["cus_fuzz", {"id": "cus_fuzz"}]),
             "id": st.sampled_from(["sub_fuzz", "cs_fuzz", "in_fuzz"]), "subscription": st.just("sub_fuzz")}
    obj = draw(st.fixed_dictionaries({key: st.one_of(value, FIELD_VALUES) for key, value in known.items()},
                                     optional={key: FIELD_VALUES for key in OBJECT_KEYS if key not in known}))
    event = {"id": draw(st.one_of(st.just("evt_fuzz"), st.text(min_size=1, max_size=30))),
             "type": draw(st.one_of(st.sampled_from(EVENT_TYPES), st.text(max_size=40))),
             "created": draw(st.one_of(st.integers(min_value=-10 ** 6, max_value=10 ** 6).map(lambda s: ("now", s)),
                                       st.integers(min_value=-(2 ** 40), max_value=2 ** 64))),
             "data": {"object": obj}}
    account = draw(st.sampled_from(["platform", "platform", "connected", "any"]))
    if account != "platform":
        event["account"] = "acct_fuzz" if account == "connected" else draw(FIELD_VALUES)
    return event


def test_the_stripe_webhook_with_any_body_signed_or_not(app, factory, browser, monkeypatch):
    """The one public POST without a form: any body, unsigned or signed with the right secret, any values in a
    signed event (for a subscribed operator, a connected account and a payment link that exist): 200 (applied,
    ignored, recorded as malformed) or 400 (not a genuine event), never a 500. 503 only as the webhook's own
    "retry later" when it had to ask Stripe (pointed at a closed port here) and could not."""
    import json
    import time

    from billing import invoicing
    from billing.models import PaymentLink, Subscription

    from ..billing.stripe_server import WEBHOOK_SECRET, WEBHOOK_URL, signature

    base, ids = build_world(factory)
    with app.app_context():
        db.session.add(Subscription(operator_id=base.operator_id, stripe_customer_id="cus_fuzz",
                                    stripe_subscription_id="sub_fuzz", status="active"))
        with scoped_to(base.id):
            settings = invoicing.settings_of()
            settings.stripe_account_id = "acct_fuzz"
            db.session.add(settings)
            db.session.add(PaymentLink(invoice_id=ids["invoice_id"], stripe_session_id="cs_fuzz",
                                       url="https://checkout.stripe.com/c/pay/cs_fuzz", amount_fen=1_000))
            db.session.commit()
    for key, value in {"STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET, "STRIPE_SECRET_KEY": "sk_test_fuzz",
                       "STRIPE_API_BASE": "http://127.0.0.1:9"}.items():
        monkeypatch.setitem(app.config, key, value)

    sent = iter(range(1, 10_000))

    @FUZZ_SETTINGS
    @given(event=stripe_events(), how=st.sampled_from(["signed event"] * 3 + ["signed body", "forged"]),
           raw=st.one_of(st.binary(max_size=200), st.text(max_size=200)),
           header=st.one_of(st.text(st.characters(exclude_characters="\r\n"), max_size=120),
                            st.sampled_from(["t=1,v1=" + "0" * 64, "v1=x", ""])))
    def deliver_fuzzed(event, how, raw, header):
        event["id"] = f"{event['id']}-{next(sent)}"  # a new event each time (a repeat is answered "duplicate")
        if isinstance(event["created"], tuple):
            event["created"] = int(time.time()) + event["created"][1]
        body = json.dumps(event, ensure_ascii=False) if how != "signed body" else raw
        body = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
        headers = {"Content-Type": "application/json",
                   "Stripe-Signature": header if how == "forged" else signature(body)}
        response = browser.client.post(WEBHOOK_URL, data=body, headers=headers)
        if response.status_code == 503:
            assert response.get_json() == {"error": "retry later"}
        else:
            assert response.status_code in (200, 400), (response.status_code, event)
        if how == "forged":
            assert response.status_code == 400, "an unsigned or forged body is refused"

    deliver_fuzzed()
    assert not invalid_records(app, base.id)


def test_a_signed_subscription_event_whose_id_is_not_a_string_is_ignored_not_a_500(app, factory, browser,
                                                                                  monkeypatch):
    """Found by the webhook fuzzing: for a customer whose subscription had ended, an event with ``"id": [null]``
    passed ``may_follow`` and was stored as the subscription id (the database refused the list: a 500)."""
    import json
    import time

    from billing.models import Subscription

    from ..billing.stripe_server import WEBHOOK_SECRET, WEBHOOK_URL, signature

    base = factory.base()
    with app.app_context():
        db.session.add(Subscription(operator_id=base.operator_id, stripe_customer_id="cus_ended",
                                    stripe_subscription_id="sub_ended", status="canceled"))
        db.session.commit()
    monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    for subscription_id in ([None], 42, {"id": "sub_new"}):
        body = json.dumps({"id": f"evt_not_an_id_{subscription_id!r}", "type": "customer.subscription.updated",
                           "created": int(time.time()), "data": {"object": {"id": subscription_id,
                                                                            "customer": "cus_ended"}}}).encode()
        response = browser.client.post(WEBHOOK_URL, data=body, headers={"Content-Type": "application/json",
                                                                        "Stripe-Signature": signature(body)})
        assert response.status_code == 200 and response.get_json()["outcome"] == "ignored", subscription_id
    with app.app_context():
        row = db.session.scalar(db.select(Subscription).where(Subscription.operator_id == base.operator_id))
        assert (row.stripe_subscription_id, row.status) == ("sub_ended", "canceled")
