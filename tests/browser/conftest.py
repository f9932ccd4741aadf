"""Browser journeys (issue 12): the real app served on loopback with the run's real database, driven in Debian's
Chromium by Playwright for Python. Never `playwright install`: the browser is the one `apt-get install chromium`
puts at /usr/bin/chromium (`CHROMIUM` overrides). A failed journey leaves a full-page screenshot of each open
page in `test-artifacts/` (kept out of git)."""
import os
import shutil
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from operator_app.config import PROJECT_ROOT
from operator_app.demo import DEMO_PASSWORD, DEMO_USERS

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def chromium_path():
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@contextmanager
def serve(app):
    """``app`` served on a free loopback port, one thread per request, as a browser reaches it; yields its URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(app):
    """The session's app served on a free loopback port."""
    with serve(app) as url:
        yield url


@pytest.fixture(scope="session")
def chromium():
    executable = chromium_path()
    if not Path(executable).exists():
        pytest.fail(f"Chromium not found at {executable}: apt-get install -y chromium fonts-noto-cjk "
                    "(.ci/run does this on a fresh machine)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


class Screens:
    """Opens browser windows (contexts) for a test and keeps them for the screenshot of a failure."""

    def __init__(self, chromium, base_url):
        self.chromium, self.base_url, self.contexts = chromium, base_url, []

    def open(self, viewport=DESKTOP, **options):
        if viewport == PHONE:
            options = {"is_mobile": True, "has_touch": True, "device_scale_factor": 2, **options}
        context = self.chromium.new_context(base_url=self.base_url, viewport=viewport, locale="zh-CN",
                                            timezone_id="Asia/Shanghai", accept_downloads=True, **options)
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        return context.new_page()

    def keep_failure(self, name):
        ARTIFACTS.mkdir(exist_ok=True)
        for n, context in enumerate(self.contexts):
            for m, page in enumerate(context.pages):
                try:
                    page.screenshot(path=str(ARTIFACTS / f"{name}-{n}-{m}.png"), full_page=True)
                except Exception:  # noqa: BLE001  (a closed page: the other screenshots still matter)
                    pass

    def close(self):
        for context in self.contexts:
            context.close()


@pytest.fixture
def screens(chromium, live_server, request):
    made = Screens(chromium, live_server)
    yield made
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        made.keep_failure(request.node.name.replace("/", "_"))
    made.close()


@pytest.fixture
def page(screens):
    """A desktop browser window on the live app, in Chinese."""
    return screens.open()


@pytest.fixture
def phone(screens):
    """A phone-sized window (390 x 844, touch) on the live app."""
    return screens.open(PHONE)


def _english_messages():
    path = PROJECT_ROOT / "operator_app" / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po_file:
        catalog = read_po(po_file)
    texts = set()
    for message in catalog:
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        # Whole sentences and labels of two words or more that contain no placeholder: such a text on a page
        # in Chinese means a string that missed translation.
        if msgid and "%" not in msgid and "{" not in msgid and " " in msgid.strip() and len(msgid) >= 8:
            texts.add(msgid)
    return texts


ENGLISH = _english_messages()


def untranslated(page):
    """The app's English source strings visible on ``page`` (an empty list when it is all in Chinese)."""
    text = page.inner_text("body")
    return sorted(message for message in ENGLISH if message in text)


def no_horizontal_scroll(page):
    """Whether nothing on ``page`` is wider than its window. The width is the layout's (clientWidth): on a phone
    Chromium zooms out to show content that is too wide, and window.innerWidth grows with it."""
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1")


def log_in(page, email, password):
    page.goto("/login")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


# --- The demo base, for the walks of every page and the accessibility check ---------------------------------

DEMO_EMAILS = {role: email for email, _name, role, _phone in DEMO_USERS}


def log_in_demo(page, role):
    """Log the demo's user of ``role`` in (manager, staff, mentor, tenant)."""
    log_in(page, DEMO_EMAILS[role], DEMO_PASSWORD)
    assert "/login" not in page.url, f"the demo's {role} could not log in"


@dataclass
class Site:
    url: str
    values: dict  # an address part (base_slug, company_id, …) -> its real value in the demo base
    by_endpoint: dict  # endpoint -> address parts whose value depends on the route (a day's check-in code, …)


@pytest.fixture(scope="module")
def demo_site(databases):
    """The demo (what `flask demo load` loads) on a database of the test module's own, served on a loopback port,
    with the records the demo lacks for an address (a tenant's document, a pending invitation)."""
    from operator_app.demo import load_demo
    from operator_app.extensions import db

    from ..conftest import migrated_app

    made = migrated_app(databases.new())
    application = next(made)
    try:
        with application.app_context():
            base = load_demo()
            db.session.commit()
            values, by_endpoint = _demo_values(application, base.id)
        with serve(application) as url:
            yield Site(url, values, by_endpoint)
    finally:
        next(made, None)


def _demo_values(application, base_id):
    """The real values of the demo's address parts: the tenant contact's company and its records, the first of
    the base's other records."""
    from io import BytesIO

    from sqlalchemy import select
    from werkzeug.datastructures import FileStorage

    from billing.models import CreditNote, Payment, RentInvoice
    from ledger.models import Activity, ActivityFile, PartnerAgency, ServicePerson, ServiceRequest, Visit
    from operator_app.accounts import constants as c
    from operator_app.accounts import services as account_services
    from operator_app.accounts.models import Base, Membership, User
    from operator_app.db import scoped_to
    from operator_app.extensions import db
    from operator_app.filings.models import AnnualSummary, InspectionDocument, QuarterlyFiling
    from operator_app.timeutil import today_in
    from tenants import services as tenant_services
    from tenants.attendance_services import point_code
    from tenants.followups import GraduateFollowUp
    from tenants.models import (CheckInPoint, CompanyDocument, Lease, MarketQuote, MonthlyReport, PreferentialPolicy,
                                TenantCompany)

    from ..helpers import PDF_BYTES

    with application.test_request_context(), scoped_to(base_id):
        base = db.session.get(Base, base_id)
        owner = db.session.scalar(select(User).where(User.email == DEMO_EMAILS[c.ROLE_MANAGER]))
        company = db.session.scalar(select(Membership.tenant_company_id).where(
            Membership.base_id == base_id, Membership.role == c.ROLE_TENANT))
        tenant_services.attach_document(db.session.get(TenantCompany, company), kind="licence", by=owner,
                                        upload=FileStorage(stream=BytesIO(PDF_BYTES), filename="营业执照.pdf"))
        _invitation, token = account_services.invite(base, email="new-staff@demo.example", role=c.ROLE_STAFF,
                                                     by=owner)
        db.session.commit()

        def first(model, *where):
            found = db.session.scalar(select(model).where(*where).order_by(model.id).limit(1))
            assert found is not None, f"the demo has no {model.__name__}"
            return found

        of_company = {model: first(model, model.company_id == company)
                      for model in (Lease, CompanyDocument, MonthlyReport, RentInvoice, Payment, CreditNote)}
        activity_file = first(ActivityFile)
        filing = first(QuarterlyFiling)
        point = first(CheckInPoint)
        activity = first(Activity, Activity.id == activity_file.activity_id)
        today = today_in(base.timezone)
        values = {
            "base_slug": base.slug, "company_id": company, "token": token,
            "lease_id": of_company[Lease].id, "document_id": of_company[CompanyDocument].id,
            "month": of_company[MonthlyReport].month_on.strftime("%Y-%m"), "invoice_id": of_company[RentInvoice].id,
            "payment_id": of_company[Payment].id, "credit_note_id": of_company[CreditNote].id,
            "activity_id": activity.id, "file_id": activity_file.id, "agency_id": first(PartnerAgency).id,
            "member_id": first(ServicePerson).id, "request_id": first(ServiceRequest).id,
            "visit_id": first(Visit).id, "filing_id": filing.id, "year": filing.year, "quarter": filing.quarter,
            "file_format": "xlsx", "inspection_document_id": first(InspectionDocument).id,
            "followup_id": first(GraduateFollowUp).id, "point_id": point.id,
            "policy_id": first(PreferentialPolicy).id, "quote_id": first(MarketQuote).id,
        }
        summary = first(AnnualSummary)
        by_endpoint = {
            "auth.set_language": {"code": "zh_CN"},
            "tenants_public.public_checkin": {"code": point_code(point, today)},
            "ledger_public.signin": {"code": activity.signin_code},
            "filings.annual_show": {"year": summary.year}, "filings.annual_docx": {"year": summary.year},
            "filings.annual_annex": {"year": summary.year},
        }
        return values, by_endpoint
