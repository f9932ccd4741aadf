"""CSRF by walking the url_map: every state-changing route refuses a request without a token (the Stripe webhook
is the one exemption), and no GET request changes a row of any table."""
import hashlib

import pytest
from sqlalchemy import select

from operator_app.accounts import constants as c
from operator_app.db import scoped_to
from operator_app.extensions import db

from ..conftest import make_app
from ..helpers import Browser
from .test_isolation import BASE_SCOPED, PUBLIC_BASE, one_of_everything

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
# The only route a request without a CSRF token may reach: Stripe cannot hold a token, it signs the body instead
# (billing/stripe_views.py checks the signature).
CSRF_EXEMPT = {"stripe_webhook.receive"}
CSRF_PAGE_TEXT = "表单已过期"  # the Chinese CSRF error page (operator_app/errors.py)
# Bookkeeping that a GET may change and that is not data: when a login was last used (written at most every
# few minutes by accounts.services.load_session_user so idle sessions can end).
GET_MAY_CHANGE = {("user_sessions", "last_seen_at")}
# GET routes that change data on purpose, each with why. Not reached by the walk below (it needs the phone's
# remembered-person cookie), listed so the exception is explicit:
# - tenants_public.public_checkin: scanning the check-in point's QR code with a phone that has already given
#   its PIN *is* the check-in (one record per person and day, idempotent); the code changes daily.
GET_WRITES_BY_DESIGN = {"tenants_public.public_checkin"}


@pytest.fixture
def strict_app(databases, app):
    """An app on the suite's database with CSRF protection explicitly on (as in every real deployment)."""
    return make_app(app.config["SQLALCHEMY_DATABASE_URI"], WTF_CSRF_ENABLED=True)


@pytest.fixture
def one_base(factory):
    """A base with one of every record the routes name, its tenant contact linked to a company, and the ids."""
    base, ids = one_of_everything(factory)
    ids["filename"] = "css/none.css"
    return base, ids


def _path(rule, ids, app, base):
    values = {key: value for key, value in ids.items() if key in rule.arguments}
    if rule.endpoint == "tenants_public.public_checkin":
        values["code"] = _todays_point_code(app, base, ids["point_id"])
    elif rule.endpoint in PUBLIC_BASE and "code" in rule.arguments:
        values["code"] = ids["activity_code"]
    missing = rule.arguments - set(values)
    assert not missing, f"no value for {missing} in {rule.rule}"
    return rule.build(values)[1]


def _todays_point_code(app, base, point_id):
    from operator_app.accounts.models import Base
    from operator_app.timeutil import today_in
    from tenants import attendance_services
    from tenants.models import CheckInPoint

    with app.app_context(), scoped_to(base.id):
        point = db.session.get(CheckInPoint, point_id)
        return attendance_services.point_code(point, today_in(db.session.get(Base, base.id).timezone))


def _snapshot(app):
    """Every row of every table (minus GET_MAY_CHANGE), read past the ORM's base scoping: {table: [rows]}."""
    with app.app_context():
        db.session.remove()
        tables = {}
        with db.engine.connect() as connection:
            for table in db.metadata.sorted_tables:
                columns = [column for column in table.columns if (table.name, column.name) not in GET_MAY_CHANGE]
                rows = connection.execute(select(*columns).order_by(*table.primary_key.columns)).all()
                tables[table.name] = [tuple(row) for row in rows]
        return tables


def _digest(snapshot):
    return {name: (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()) for name, rows in snapshot.items()}


def _changed_tables(before, after):
    return sorted(name for name in before if before[name] != after[name])


def test_every_state_changing_route_refuses_a_request_without_token(strict_app, app, one_base):
    assert strict_app.config["WTF_CSRF_ENABLED"] is True
    base, ids = one_base
    ids["activity_code"] = ids["code"]
    browser = Browser(strict_app.test_client())
    browser.login(base.owner)  # the manager of the base, so a refused request is refused for its missing token
    before = _snapshot(app)
    accepted, checked = set(), 0
    for rule in strict_app.url_map.iter_rules():
        for method in sorted(rule.methods & STATE_CHANGING):
            response = browser.client.open(_path(rule, ids, strict_app, base), method=method,
                                           data={"name": "改名", "email": "x@example.com", "role": "staff"})
            checked += 1
            refused = response.status_code == 400 and CSRF_PAGE_TEXT in response.get_data(as_text=True)
            if not refused:
                accepted.add(rule.endpoint)
    assert checked > 80
    assert accepted == CSRF_EXEMPT
    assert _changed_tables(before, _snapshot(app)) == []


def test_the_webhook_is_reachable_without_a_token_and_checks_its_signature_instead(strict_app):
    response = strict_app.test_client().post("/billing/stripe/webhook", data=b"{}",
                                             headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and CSRF_PAGE_TEXT not in response.get_data(as_text=True)


def test_no_get_request_changes_any_row(app, factory, one_base, new_browser):
    """Every GET route, opened by every role of the base and by a visitor, with the base's real ids."""
    base, ids = one_base
    ids["activity_code"] = ids["code"]
    browsers = {"anonymous": new_browser()}
    for role in (c.ROLE_MANAGER, c.ROLE_STAFF, c.ROLE_MENTOR, c.ROLE_TENANT):
        browsers[role] = new_browser()
        browsers[role].login(base.users[role])  # logging in writes (the session row): done before the snapshot
    before = _snapshot(app)
    assert sum(len(rows) for rows in before.values()) > 50  # the snapshot sees the base's rows
    rules = [rule for rule in app.url_map.iter_rules() if "GET" in rule.methods]
    # The language switch last: it only sets the cookie, but the pages after it would be in English.
    rules.sort(key=lambda rule: rule.endpoint == "auth.set_language")
    statuses = {}
    for label, browser in browsers.items():
        for rule in rules:
            path = _path(rule, ids, app, base)
            response = browser.get(path)
            assert response.status_code < 500, (label, path, response.status_code)
            statuses[(label, rule.endpoint)] = response.status_code
    after = _snapshot(app)
    assert _changed_tables(before, after) == [], {
        name: (_digest(before)[name], _digest(after)[name]) for name in _changed_tables(before, after)}
    # The walk really opened the pages: every base page answered 200 (or its redirect) to some role.
    opened = {endpoint for (_, endpoint), status in statuses.items() if status in (200, 302)}
    assert {rule.endpoint for rule in rules if rule.endpoint in BASE_SCOPED} - opened == set()
    assert GET_WRITES_BY_DESIGN <= {rule.endpoint for rule in rules}
