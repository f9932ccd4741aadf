"""What the subscription allows: the access modes at a clock the test sets, read-only enforced on base, public
and operator pages (reading and exports still open), the pages that stay writable, and the banners."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from billing.access import FULL, GRACE, OFF, READ_ONLY, access_for
from operator_app.accounts.models import Base, Operator
from operator_app.db import unscoped
from operator_app.extensions import db
from operator_app.timeutil import as_utc, utcnow
from tenants.models import Milestone, TenantCompany

from .stripe_server import set_subscription
from .stripe_server import localstripe, stripe_billing  # noqa: F401


def _created_at(app, operator_id):
    with app.app_context():
        return as_utc(db.session.get(Operator, operator_id).created_at)


def _access(app, operator_id, now):
    with app.app_context():
        return access_for(operator_id, now)


def test_without_a_stripe_key_billing_is_off_whatever_the_rows_say(app, factory):
    base = factory.base()
    set_subscription(app, base.operator_id, status="canceled")
    assert _access(app, base.operator_id, utcnow() + timedelta(days=400)).mode == OFF


def test_access_modes_at_a_clock_the_test_sets(app, factory, stripe_billing):
    base = factory.base()
    created = _created_at(app, base.operator_id)

    trial = _access(app, base.operator_id, created + timedelta(days=1))
    assert (trial.mode, trial.reason, trial.days_left) == (FULL, "trial", 29)
    assert _access(app, base.operator_id, created + timedelta(days=30)).mode == READ_ONLY  # trial over
    set_subscription(app, base.operator_id, status="incomplete")  # first payment pending: still the trial's
    assert _access(app, base.operator_id, created + timedelta(days=2)).mode == FULL
    assert _access(app, base.operator_id, created + timedelta(days=31)).reason == "trial_over"

    for status in ("active", "trialing"):
        set_subscription(app, base.operator_id, status=status)
        assert _access(app, base.operator_id, created + timedelta(days=400)).mode == FULL

    since = created + timedelta(days=100)
    set_subscription(app, base.operator_id, status="past_due", past_due_since=since)
    grace = _access(app, base.operator_id, since + timedelta(days=13, hours=1))
    assert (grace.mode, grace.days_left, as_utc(grace.until)) == (GRACE, 1, since + timedelta(days=14))
    assert _access(app, base.operator_id, since + timedelta(days=14)).mode == READ_ONLY
    app.config["BILLING_GRACE_DAYS"] = 3  # a setting (the fixture restores it)
    assert _access(app, base.operator_id, since + timedelta(days=4)).mode == READ_ONLY

    for status in ("unpaid", "canceled", "paused"):
        set_subscription(app, base.operator_id, status=status)
        assert _access(app, base.operator_id, created + timedelta(days=1)).mode == READ_ONLY, status
    set_subscription(app, base.operator_id, status="incomplete_expired")  # the first payment never made: the trial's
    assert _access(app, base.operator_id, created + timedelta(days=1)).mode == FULL
    assert _access(app, base.operator_id, created + timedelta(days=31)).reason == "trial_over"


@pytest.fixture
def read_only_base(app, factory, stripe_billing):
    """A base whose operator canceled, with a company; and a second operator in its trial."""
    base = factory.base("lapsed")
    company_id = factory.company(base)
    set_subscription(app, base.operator_id, status="canceled")
    return base, company_id


def _count(app, model, base_id):
    with app.app_context(), unscoped("the test counts what was written"):
        return db.session.scalar(select(func.count(model.id)).where(model.base_id == base_id))


def test_read_only_refuses_every_write_and_keeps_every_page_and_export(app, factory, browser, new_browser,
                                                                         read_only_base):
    base, company_id = read_only_base
    browser.login(base.owner)
    detail = f"/b/{base.slug}/tenants/{company_id}"
    milestones = _count(app, Milestone, base.id)
    refused = browser.post(f"{detail}/milestones", {"occurred_on": "2026-06-30", "kind": "high_tech",
                                                    "title": "认定"}, form_page=detail)
    assert refused.status_code == 402 and 'id="read-only"' in refused.get_data(as_text=True)
    assert _count(app, Milestone, base.id) == milestones
    companies = _count(app, TenantCompany, base.id)
    new = f"/b/{base.slug}/tenants/new"
    assert browser.post(new, {"name": "新公司"}, form_page=new).status_code == 402
    assert _count(app, TenantCompany, base.id) == companies
    with app.app_context():
        name = db.session.get(Base, base.id).name
    profile = f"/b/{base.slug}/profile"
    assert browser.post(profile, {"name": "改了名字"}, form_page=profile).status_code == 402
    with app.app_context():
        assert db.session.get(Base, base.id).name == name

    for page in (f"/b/{base.slug}/", f"/b/{base.slug}/tenants/", detail, f"/b/{base.slug}/ledger/",
                 f"/b/{base.slug}/profile", f"/b/{base.slug}/audit"):
        assert browser.get(page).status_code == 200, page
    for export in (f"/b/{base.slug}/tenants/export.xlsx", f"/b/{base.slug}/ledger/export.xlsx"):
        response = browser.get(export)
        assert response.status_code == 200 and response.data[:2] == b"PK", export
        assert browser.client.head(export).status_code == 200

    staff = new_browser()
    staff.login(base.users["staff"])
    agency = f"/b/{base.slug}/ledger/agencies/new"
    assert staff.post(agency, {"name": "某机构", "category": "financing"}, form_page=agency).status_code == 402
    tenant = new_browser()
    tenant.login(base.users["tenant"])
    assert tenant.get(f"/b/{base.slug}/").status_code == 200
    page = staff.post(agency, {"name": "某机构"}, form_page=agency).get_data(as_text=True)
    assert 'href="/operator/billing"' not in page  # only the owner is sent to the billing page


def test_read_only_reaches_public_and_operator_pages_but_not_billing_or_the_account(
        app, factory, browser, new_browser, read_only_base):
    base, company_id = read_only_base
    visitor = new_browser()
    apply = f"/p/{base.slug}/apply"
    assert visitor.get(apply).status_code != 402
    assert visitor.client.post(apply, data={"csrf_token": visitor.csrf_token("/login"), "name": "申请公司"}) \
        .status_code == 402

    browser.login(base.owner)
    assert browser.get("/operator/bases").status_code == 200
    new_base = "/operator/bases/new"
    assert browser.post(new_base, {"base_name": "二号基地", "base_slug": "second", "base_type": "university"},
                        form_page=new_base).status_code == 402
    with app.app_context():
        assert db.session.scalar(select(func.count(Base.id)).where(Base.operator_id == base.operator_id)) == 1

    # Still open: the billing pages (to pay), the webhook, the password, logging out and in.
    assert browser.get("/operator/billing").status_code == 200
    assert browser.post("/operator/billing/subscribe", {"plan": "nothing"},
                        form_page="/operator/billing").status_code == 400  # reached the form, not refused
    assert browser.client.post("/billing/stripe/webhook", data=b"{}").status_code == 400
    password = browser.post("/account/password", {"current_password": base.owner.password,
                                                  "new_password": "Another-horse-battery-77",
                                                  "confirm_password": "Another-horse-battery-77"})
    assert password.status_code != 402
    assert browser.logout().status_code == 302


def test_another_operators_bases_are_not_affected(app, factory, browser, read_only_base):
    other = factory.base("active")
    company_id = factory.company(other)
    set_subscription(app, other.operator_id, status="active")
    browser.login(other.owner)
    detail = f"/b/{other.slug}/tenants/{company_id}"
    assert browser.post(f"{detail}/milestones", {"occurred_on": "2026-06-30", "kind": "high_tech",
                                                 "title": "认定"}, form_page=detail).status_code == 302


def test_banners_by_mode_and_role(app, factory, browser, new_browser, stripe_billing):
    base = factory.base()
    browsers = {}
    for role, user in (("manager", base.owner), ("staff", base.users["staff"]), ("tenant", base.users["tenant"])):
        browsers[role] = new_browser()
        browsers[role].login(user)
        browsers[role].get("/lang/en")
    dashboard = f"/b/{base.slug}/"

    def banner(role):
        page = browsers[role].get(dashboard).get_data(as_text=True)
        return page.split('id="billing-banner"')[1].split("</div>")[0] if 'id="billing-banner"' in page else None

    assert banner("manager") is None  # the trial's first weeks: no reminder
    with app.app_context():
        db.session.execute(update(Operator).where(Operator.id == base.operator_id)
                           .values(created_at=utcnow() - timedelta(days=25, hours=1)))
        db.session.commit()
    assert "The trial ends in 5 days." in banner("manager") and banner("staff") is None

    set_subscription(app, base.operator_id, status="past_due", past_due_since=utcnow() - timedelta(days=13, hours=1))
    assert "the bases become read-only in 1 day." in banner("manager")
    assert 'href="/operator/billing"' in banner("manager")
    assert banner("staff") is None and banner("tenant") is None
    billing = browsers["manager"].get("/operator/billing").get_data(as_text=True)
    assert "the bases become read-only in 1 day." in billing  # the owner sees it where they pay

    set_subscription(app, base.operator_id, past_due_since=utcnow() - timedelta(days=15))
    assert "its bases are read-only" in banner("manager")
    assert "its bases are read-only" in banner("staff") and 'href="/operator/billing"' not in banner("staff")
    assert banner("tenant") is None
