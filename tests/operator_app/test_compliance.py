"""The compliance page (issue 8): each item of "8个有、6个要" met / not met / unknown with its evidence, on a base
that meets all of them and on a fresh one that meets none; the inspection documents; roles; the printable page;
the dashboard's score; a query count that does not grow with the companies."""
import re
from datetime import date, timedelta
from io import BytesIO

from PIL import Image
from sqlalchemy import event, func, select
from werkzeug.datastructures import FileStorage

from ledger import services as ledger_services
from ledger.models import Activity
from operator_app.accounts import constants as ac
from operator_app.accounts.models import Base, User
from operator_app.audit import AuditEntry
from operator_app.bases.checks import MET, NOT_MET, UNKNOWN
from operator_app.db import scoped_to, unscoped
from operator_app.extensions import db
from operator_app.filings import services as filing_services
from operator_app.filings.compliance import compliance_items, last_due_month, score
from operator_app.filings.models import InspectionDocument
from operator_app.storage import StoredFile
from operator_app.timeutil import add_months, month_of, today_in, utcnow
from operator_app.workcalendar import working_days
from tenants import attendance_services, report_services, reports
from tenants import services as tenant_services
from tenants.models import TenantCompany

from ..helpers import PDF_BYTES, field_errors

CHINESE = re.compile(r"[\u4e00-\u9fff]")
ZONE = "Asia/Shanghai"
ITEM_KEYS = ("staff", "site", "signage", "files", "rules", "policy", "ledger", "occupancy",
             "functions", "audit", "performance", "operating", "inspection", "guidance")


def png_bytes():
    buffer = BytesIO()
    Image.new("RGB", (16, 12), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def docs_url(slug):
    return f"/b/{slug}/filings/inspection-documents"


def upload(browser, slug, kind, title, dated_on, data=PDF_BYTES, filename="文件.pdf"):
    return browser.post(docs_url(slug), {"kind": kind, "title": title, "dated_on": dated_on.isoformat(),
                                         "file": (BytesIO(data), filename)}, content_type="multipart/form-data")


def _items(app, base_ref, today):
    with app.test_request_context(), scoped_to(base_ref.id):
        return compliance_items(db.session.get(Base, base_ref.id), today)


def _not_met(items):
    """What keeps items from being met, for a readable assertion message."""
    return {item.key: [(check.key, check.status, str(check.detail)) for check in item.checks if check.status != MET]
            for item in items if item.status != MET}


# --- A base that meets everything -------------------------------------------------------------------------------

PROFILE = {
    "name": "晋阳双创基地", "base_type": "producer_service", "address": "太原市晋源区晋阳街 88 号",
    "timezone": ZONE, "tenant_count_standard": "10", "total_area_m2": "9000",
    "site_ownership": "leased", "site_certificates": "租赁合同 017 号", "site_lease_start_on": "2022-01-01",
    "site_lease_end_on": "2032-01-01", "site_boundaries": "大厦 1-5 层",
    "service_functions": ["information", "coaching", "training", "financing"], "has_signage": "y",
    "zones-incubation-area_m2": "2000", "zones-incubation-description": "2 层",
    "zones-growth-area_m2": "5000", "zones-growth-description": "3-5 层",
    "zones-public_service-area_m2": "1500", "zones-public_service-description": "1 层大厅",
}
RULES = {"entry_conditions": "营业执照、人员和设备在基地内", "procedure": "申请、审核、签约、入驻",
         "management_rules": "按月报送经营数据", "exit_conditions": "孵化成功毕业、租期届满、违约退出",
         "is_published": True}


def _archived_activity(factory, base, organiser_id, company_id, ended_days_ago):
    """An activity that ended ``ended_days_ago`` days ago, archived (notice, photo, sign-in) an hour after its end."""
    start = utcnow().replace(microsecond=0) - timedelta(days=ended_days_ago, hours=2)
    activity_id = factory.activity(base, organiser_id=organiser_id, starts_at=start, category="training",
                                   title="创业政策宣讲会")
    factory.signin(base, activity_id, company_id=company_id)
    with factory.app.test_request_context(), scoped_to(base.id):
        owner = db.session.get(User, base.owner.id)
        activity = db.session.get(Activity, activity_id)
        done = start + timedelta(hours=3)
        ledger_services.add_activity_files(activity, "notice", [FileStorage(BytesIO(PDF_BYTES), "通知.pdf")],
                                           now=done, by=owner)
        ledger_services.add_activity_files(activity, "photo", [FileStorage(BytesIO(png_bytes()), "现场.png")],
                                           now=done, by=owner)
        db.session.commit()
    return activity_id


def build_compliant_base(app, factory, browser):
    """A base with every record the 14 items ask for; returns (base reference, the base's today)."""
    base = factory.base("alpha")
    today = today_in(ZONE)
    browser.login(base.owner)
    profile = {**PROFILE, "operating_since_on": (today - timedelta(days=400)).isoformat()}  # more than a year
    assert browser.post(f"/b/{base.slug}/profile", profile).status_code == 302
    with app.app_context():
        stored = db.session.get(Base, base.id)
        stored.created_at = utcnow() - timedelta(days=400)  # quarterly filings have fallen due since
        db.session.commit()
    # 有人员: ten people, three certified mentors, five partner agencies.
    people = [factory.service_person(base, is_mentor=n < 3) for n in range(10)]
    for n in range(5):
        factory.agency(base, category=("financing", "professional", "consulting", "marketing", "innovation")[n])
    # 有实际入驻企业 and 有档案: ten companies with complete files, one of them at workstations.
    moved_in = add_months(today, -30)
    companies = [factory.company(base, n, moved_in_on=moved_in) for n in range(1, 10)]
    workstation = factory.company(base, 10, moved_in_on=moved_in, is_workstation=True, zone="incubation",
                                  workstation_count=2, unit="W-01")
    companies.append(workstation)
    last_month = add_months(month_of(today), -1)
    person_id, _ = factory.person(base, workstation, active_from=add_months(last_month, -1))
    due_month = last_due_month(today, 10)
    with app.test_request_context(), scoped_to(base.id):
        owner = db.session.get(User, base.owner.id)
        stored = db.session.get(Base, base.id)
        from tenants.models import WorkstationPerson

        person = db.session.get(WorkstationPerson, person_id)
        for day in working_days(last_month, add_months(last_month, 1) - timedelta(days=1)).days:
            attendance_services.set_presence(person, day, True, source="staff", by=owner)
        # 有制度 and 经营业绩: published rules; every company's monthly reports for two years, growing.
        tenant_services.save_rules(stored, RULES, by=owner)
        first = db.session.get(TenantCompany, companies[0])
        for company_id in companies:
            company = db.session.get(TenantCompany, company_id)
            for n in range(24):
                report_services.save_report(company, reports.shift(due_month, -n),
                                            {"revenue_fen": 3_000_000 - n * 10_000, "tax_fen": 100_000 - n * 1_000,
                                             "employees": 8}, base=stored, submit=True, reason="", today=today,
                                            by=owner, on_behalf=True)
        # 运营水平要提升: an incubation result this year.
        tenant_services.add_milestone(first, occurred_on=today - timedelta(days=30), kind="high_tech",
                                      title="认定为高新技术企业", amount_fen=None, by=owner)
        db.session.commit()
    # 有优惠政策: the posted policy, a market quote and leases 40% below it.
    factory.policy(base)
    factory.quote(base, price_fen=5000, quoted_on=today - timedelta(days=10))
    for company_id in companies[:2]:
        factory.lease(base, company_id, starts_on=add_months(today, -6), ends_on=add_months(today, 18))
    # 有服务台账 and 服务功能要齐全: services in four functions recently, one activity archived on time.
    for n, category in enumerate(("coaching", "financing", "consulting", "information")):
        factory.visit(base, companies[n], staff_id=people[3], category=category,
                      occurred_on=today - timedelta(days=5 + n))
    _archived_activity(factory, base, people[0], companies[0], ended_days_ago=20)
    # 现场查看: the documents an inspector asks for, uploaded through the page.
    for kind, title, data, name in (("audit_report", "2025年度专项审计报告", PDF_BYTES, "审计报告.pdf"),
                                    ("finance_system", "财务管理制度", PDF_BYTES, "财务制度.pdf"),
                                    ("site_documents", "房屋租赁合同", PDF_BYTES, "租赁合同.pdf"),
                                    ("signage_photo", "服务大厅标识", png_bytes(), "标识.png")):
        response = upload(browser, base.slug, kind, title, today - timedelta(days=60), data, name)
        assert response.status_code == 302, field_errors(response)
    # 培育指导要到位: the filings of the quarters that fell due, submitted.
    with app.test_request_context(), scoped_to(base.id):
        owner = db.session.get(User, base.owner.id)
        stored = db.session.get(Base, base.id)
        for year, quarter in filing_services.ended_quarters(stored, today):
            filing = filing_services.generate(stored, year, quarter, today=today, by=owner)
            filing_services.mark_submitted(filing, via="manual", by=owner)
        db.session.commit()
    return base, today


def test_a_base_that_meets_every_item(app, factory, browser):
    base, today = build_compliant_base(app, factory, browser)
    items = _items(app, base, today)
    assert [item.key for item in items] == list(ITEM_KEYS)
    assert [(item.group, item.number) for item in items] == [("8个有", n) for n in range(1, 9)] + [
        ("6个要", n) for n in range(1, 7)]
    assert not _not_met(items), _not_met(items)
    assert score(items) == (14, 14)
    # The sub-checks the policy names, each met.
    staff = items[0]
    assert [check.key for check in staff.checks] == ["team", "mentors", "agencies"]
    assert {check.key for check in items[12].checks} == {"tenant_count", "site_documents", "audit_report",
                                                        "finance_system", "ledger_records", "signage"}

    page = browser.get(f"/b/{base.slug}/filings/compliance")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-score="14/14"' in html
    for key in ITEM_KEYS:
        assert f'data-item="{key}" data-status="met"' in html, key
    assert "晋阳双创基地" in html and today.isoformat() in html
    assert "有人员" in html and "服务功能要齐全" in html
    # Evidence links to the records: the audit report's file, the submitted filings, the policy document.
    with app.app_context(), scoped_to(base.id):
        audit_id = db.session.scalar(select(InspectionDocument.id).where(InspectionDocument.kind == "audit_report"))
    assert f"/b/{base.slug}/filings/inspection-documents/{audit_id}/file" in html
    assert "审计报告.pdf" in html and f"/b/{base.slug}/tenants/rent/policy/" in html
    file = browser.get(f"/b/{base.slug}/filings/inspection-documents/{audit_id}/file")
    assert file.status_code == 200 and file.data == PDF_BYTES

    dashboard = browser.get(f"/b/{base.slug}/").get_data(as_text=True)
    assert f'id="compliance-slot" data-fragment="/b/{base.slug}/filings/compliance/panel"' in dashboard
    panel = browser.get(f"/b/{base.slug}/filings/compliance/panel").get_data(as_text=True)
    assert 'id="compliance-panel" data-score="14/14"' in panel

    # A demonstration base must also have a venture fund (6个要 §1): not met until its agreement is uploaded.
    with app.app_context():
        db.session.get(Base, base.id).is_demonstration = True
        db.session.commit()
    functions = _items(app, base, today)[8]
    assert functions.status == NOT_MET and functions.check("venture_fund").status == NOT_MET
    assert functions.fix_link.endpoint == "filings.inspection_documents"
    assert upload(browser, base.slug, "venture_fund", "创投基金合作协议", today).status_code == 302
    assert _items(app, base, today)[8].status == MET


def test_a_late_archive_a_falling_revenue_and_an_old_audit_report_are_not_met(app, factory, browser):
    base, today = build_compliant_base(app, factory, browser)
    with app.test_request_context(), scoped_to(base.id):
        owner = db.session.get(User, base.owner.id)
        # An activity archived a week after its end.
        start = utcnow().replace(microsecond=0) - timedelta(days=15)
        activity = ledger_services.create_activity(
            {"title": "晚归档的活动", "category": "training", "starts_at": start, "ends_at": start + timedelta(hours=2),
             "place": "路演厅", "organiser_id": None, "agency_id": None, "expected_companies": None, "agenda": "",
             "sheet_companies": 5, "sheet_people": 9, "signin_hours_after": 2, "publicity_links": "", "results": ""},
            base=db.session.get(Base, base.id), by=owner)
        late = start + timedelta(days=7)
        for kind, data, name in (("notice", PDF_BYTES, "通知.pdf"), ("photo", png_bytes(), "现场.png"),
                                 ("sheet", PDF_BYTES, "签到表.pdf")):
            ledger_services.add_activity_files(activity, kind, [FileStorage(BytesIO(data), name)], now=late, by=owner)
        # Three companies' revenue and tax this year fall to nothing: the base's totals fall below the year before.
        stored = db.session.get(Base, base.id)
        month_on = last_due_month(today, 10)
        for company in db.session.scalars(select(TenantCompany).order_by(TenantCompany.id).limit(3)):
            for n in range(12):
                report_services.save_report(company, reports.shift(month_on, -n),
                                            {"revenue_fen": 0, "tax_fen": 0, "employees": 8}, base=stored,
                                            submit=True, reason="更正", today=today, by=owner, on_behalf=True)
        db.session.commit()
    assert upload(browser, base.slug, "audit_report", "更早的审计报告", add_months(today, -30)).status_code == 302
    items = {item.key: item for item in _items(app, base, today)}
    ledger = items["ledger"]
    assert ledger.status == NOT_MET and ledger.check("archived_on_time").status == NOT_MET
    assert "晚归档的活动" in [str(evidence.text) for evidence in ledger.check("archived_on_time").evidence]
    performance = items["performance"]
    assert performance.check("revenue").status == NOT_MET and performance.check("tax").status == NOT_MET
    assert performance.check("housed").status == MET
    # The newest audit report counts: an older one uploaded later changes nothing.
    assert items["audit"].status == MET


def test_a_fresh_base_meets_none(app, factory, browser):
    base = factory.base("fresh")
    today = today_in(ZONE)
    items = _items(app, base, today)
    statuses = {item.key: item.status for item in items}
    assert statuses == {
        "staff": NOT_MET, "site": NOT_MET, "signage": NOT_MET, "files": UNKNOWN, "rules": NOT_MET,
        "policy": NOT_MET, "ledger": NOT_MET, "occupancy": UNKNOWN, "functions": NOT_MET, "audit": NOT_MET,
        "performance": UNKNOWN, "operating": NOT_MET, "inspection": NOT_MET, "guidance": UNKNOWN}
    assert score(items) == (0, 14)
    by_key = {item.key: item for item in items}
    # Why: the facts that are missing are unknown, the records that are missing are not met.
    assert by_key["site"].check("site").status == UNKNOWN
    assert by_key["site"].check("site_documents").status == NOT_MET
    assert by_key["occupancy"].check("actual_count").status == UNKNOWN
    assert by_key["occupancy"].fix_link.endpoint == "bases.profile"
    assert by_key["guidance"].check("quarterly_filings").status == UNKNOWN
    assert by_key["guidance"].check("operating_year").status == UNKNOWN     # the profile does not say yet
    assert by_key["guidance"].fix_link.endpoint == "bases.profile"
    assert by_key["staff"].fix_link.endpoint == "ledger.team"
    assert by_key["audit"].fix_link.endpoint == "filings.inspection_documents"

    browser.login(base.owner)
    html = browser.get(f"/b/{base.slug}/filings/compliance").get_data(as_text=True)
    assert 'data-score="0/14"' in html
    for key, status in statuses.items():
        assert f'data-item="{key}" data-status="{status}"' in html, key
    # Each item not met shows where to fix it; the manager may open every one of those pages.
    assert html.count('data-fix="') == 14
    assert f'href="/b/{base.slug}/ledger/team"' in html and f'href="/b/{base.slug}/profile"' in html
    assert f'href="/b/{base.slug}/filings/inspection-documents"' in html

    assert 'id="compliance-slot"' in browser.get(f"/b/{base.slug}/").get_data(as_text=True)
    dashboard = browser.get(f"/b/{base.slug}/filings/compliance/panel").get_data(as_text=True)
    assert 'id="compliance-panel" data-score="0/14"' in dashboard
    for key in ITEM_KEYS:
        assert f'data-item="{key}"' in dashboard, key
    # Each open item with the state of its checks (the profile's own list is on the profile page).
    assert 'data-check="team" data-status="not_met"' in dashboard
    assert 'data-check="site" data-status="unknown"' in dashboard and 'data-check="tenant_standard"' not in dashboard


def test_the_printable_page_has_no_navigation(factory, browser):
    base = factory.base("alpha")
    browser.login(base.users[ac.ROLE_STAFF])
    normal = browser.get(f"/b/{base.slug}/filings/compliance").get_data(as_text=True)
    assert 'class="navbar' in normal and "/static/css/compliance.css" in normal and "?print=1" in normal
    assert "@media print" in browser.get("/static/css/compliance.css").get_data(as_text=True)
    response = browser.get(f"/b/{base.slug}/filings/compliance?print=1")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.lstrip().startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    assert 'class="navbar' not in page and "<footer" not in page
    assert base.name in page and today_in(ZONE).isoformat() in page and 'data-score="0/14"' in page
    for key in ITEM_KEYS:
        assert f'data-item="{key}"' in page
    # Staff may not open the manager's pages an item points to: the page says so instead of linking.
    assert "/tenants/rules" not in page


# --- Inspection documents ------------------------------------------------------------------------------------

def _stored_counts(app, base_ref):
    with app.app_context(), unscoped("test counts the rows of the upload"):
        return (db.session.scalar(select(func.count(InspectionDocument.id))),
                db.session.scalar(select(func.count(StoredFile.id)).where(StoredFile.base_id == base_ref.id)))


def test_bad_uploads_show_a_message_on_the_field_and_write_nothing(app, factory, browser):
    base = factory.base("alpha")
    browser.login(base.owner)
    today = today_in(ZONE)
    before = _stored_counts(app, base)
    cases = [
        ({"data": b"just some text", "filename": "审计报告.pdf"}, "file", "不接受此类文件"),
        ({"data": b"", "filename": ""}, "file", "请选择要上传的文件。"),
        ({"title": ""}, "title", "此项为必填项。"),
        ({"kind": "castle"}, "kind", None),
        ({"dated_on": "2026-13-45"}, "dated_on", None),
        ({"dated_on": "0201-01-01"}, "dated_on", "请输入 1949 年至 2100 年之间的日期。"),
        ({"title": "审计\x00报告"}, "title", None),
    ]
    for change, field, message in cases:
        values = {"kind": "audit_report", "title": "专项审计报告", "dated_on": today.isoformat(),
                  "data": PDF_BYTES, "filename": "审计报告.pdf", **change}
        response = browser.post(docs_url(base.slug), {
            "kind": values["kind"], "title": values["title"], "dated_on": values["dated_on"],
            "file": (BytesIO(values["data"]), values["filename"])}, content_type="multipart/form-data")
        errors = field_errors(response)
        assert response.status_code == 200 and field in errors, (change, errors)
        assert all(CHINESE.search(text) for text in errors[field]), (change, errors)
        if message:
            assert any(message in text for text in errors[field]), (change, errors)
    future = upload(browser, base.slug, "audit_report", "明年的报告", today + timedelta(days=3))
    assert future.status_code == 200 and "dated_on" in field_errors(future)
    assert _stored_counts(app, base) == before


def test_a_manager_uploads_and_removes_a_document(app, factory, browser):
    base = factory.base("alpha")
    browser.login(base.owner)
    today = today_in(ZONE)
    assert upload(browser, base.slug, "audit_report", "2025年度专项审计报告", today).status_code == 302
    with app.app_context(), scoped_to(base.id):
        document = db.session.scalar(select(InspectionDocument))
        assert (document.kind, document.title, document.dated_on) == ("audit_report", "2025年度专项审计报告", today)
        assert document.uploaded_by_id == base.owner.id and document.file.original_name == "文件.pdf"
        document_id = document.id
    listing = browser.get(docs_url(base.slug)).get_data(as_text=True)
    assert "2025年度专项审计报告" in listing and f'data-document="{document_id}"' in listing
    assert _items(app, base, today)[9].status == MET

    remove = f"{docs_url(base.slug)}/{document_id}/remove"
    assert browser.post(remove, form_page=docs_url(base.slug)).status_code == 302
    with app.app_context(), scoped_to(base.id):
        assert db.session.get(InspectionDocument, document_id).deleted_at is not None
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "InspectionDocument")
                                     .order_by(AuditEntry.id)).all()
        assert [entry.action for entry in entries] == ["inspection_document.create", "inspection_document.remove"]
        assert entries[0].after["document_kind"] == "audit_report" and entries[0].user_id == base.owner.id
    assert browser.get(f"{docs_url(base.slug)}/{document_id}/file").status_code == 404
    assert browser.post(remove, form_page=docs_url(base.slug)).status_code == 404
    assert _items(app, base, today)[9].status == NOT_MET
    assert f'data-document="{document_id}"' not in browser.get(docs_url(base.slug)).get_data(as_text=True)


def test_roles_and_other_bases(app, factory, browser, new_browser):
    base = factory.base("alpha")
    other = factory.base("bravo")
    owner = new_browser()
    owner.login(other.owner)
    assert upload(owner, other.slug, "finance_system", "财务制度", today_in(ZONE)).status_code == 302
    with app.app_context(), scoped_to(other.id):
        other_document = db.session.scalar(select(InspectionDocument.id))
    manager = new_browser()
    manager.login(base.owner)
    assert upload(manager, base.slug, "finance_system", "财务制度", today_in(ZONE)).status_code == 302
    with app.app_context(), scoped_to(base.id):
        document = db.session.scalar(select(InspectionDocument.id))
    pages = [f"/b/{base.slug}/filings/compliance", f"/b/{base.slug}/filings/compliance/panel",
             f"/b/{base.slug}/filings/compliance?print=1", docs_url(base.slug),
             f"{docs_url(base.slug)}/{document}/file"]
    remove = f"{docs_url(base.slug)}/{document}/remove"

    assert browser.get(pages[0]).status_code == 302  # anonymous: to the login
    for role in (ac.ROLE_TENANT, ac.ROLE_MENTOR):
        visitor = new_browser()
        visitor.login(base.users[role])
        token = visitor.csrf_token("/account/password")
        for path in pages:
            assert visitor.get(path).status_code == 403, (role, path)
        for path in (docs_url(base.slug), remove):
            assert visitor.client.post(path, data={"csrf_token": token}).status_code == 403, (role, path)
        assert 'id="compliance-slot"' not in visitor.get(f"/b/{base.slug}/").get_data(as_text=True)

    staff = new_browser()
    staff.login(base.users[ac.ROLE_STAFF])
    for path in pages:
        assert staff.get(path).status_code == 200, path
    listing = staff.get(docs_url(base.slug)).get_data(as_text=True)
    assert 'enctype="multipart/form-data"' not in listing and "/remove" not in listing
    token = staff.csrf_token("/account/password")
    refused = staff.client.post(docs_url(base.slug), data={
        "csrf_token": token, "kind": "audit_report", "title": "职员上传", "dated_on": today_in(ZONE).isoformat(),
        "file": (BytesIO(PDF_BYTES), "x.pdf")}, content_type="multipart/form-data")
    assert refused.status_code == 403
    assert staff.client.post(remove, data={"csrf_token": token}).status_code == 403
    assert 'id="compliance-slot"' in staff.get(f"/b/{base.slug}/").get_data(as_text=True)
    with app.app_context(), unscoped("test counts both bases' documents"):
        assert db.session.scalar(select(func.count(InspectionDocument.id)).where(
            InspectionDocument.deleted_at.is_(None))) == 2

    # Another base's document under one's own base is not found; nor is one's own under another base.
    assert manager.get(f"{docs_url(base.slug)}/{other_document}/file").status_code == 404
    assert manager.post(f"{docs_url(base.slug)}/{other_document}/remove",
                        form_page=docs_url(base.slug)).status_code == 404
    assert manager.get(f"{docs_url(other.slug)}/{document}/file").status_code == 404
    assert manager.get(f"/b/{other.slug}/filings/compliance").status_code == 404
    with app.app_context(), unscoped("test reads base B's document"):
        assert db.session.get(InspectionDocument, other_document).deleted_at is None


# --- Bounded queries -----------------------------------------------------------------------------------------

def _add_companies(app, factory, base, first, count, today):
    for n in range(first, first + count):
        company_id = factory.company(base, n, moved_in_on=add_months(today, -14))
        factory.lease(base, company_id)
        with app.test_request_context(), scoped_to(base.id):
            owner = db.session.get(User, base.owner.id)
            company = db.session.get(TenantCompany, company_id)
            report_services.save_report(company, last_due_month(today, 10),
                                        {"revenue_fen": 100, "tax_fen": 1, "employees": 3},
                                        base=db.session.get(Base, base.id), submit=True, reason="", today=today,
                                        by=owner, on_behalf=True)
            tenant_services.add_milestone(company, occurred_on=today, kind="award", title="创客中国三等奖",
                                          amount_fen=None, by=owner)
            db.session.commit()


def _queries(app, base, today):
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.test_request_context(), scoped_to(base.id):
        engine = db.engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            compliance_items(db.session.get(Base, base.id), today)
        finally:
            event.remove(engine, "before_cursor_execute", count)
    return len(statements)


def test_the_number_of_queries_does_not_grow_with_the_companies(app, factory):
    base = factory.base("alpha")
    today = today_in(ZONE)
    factory.quote(base, quoted_on=today)
    _add_companies(app, factory, base, 1, 2, today)
    few = _queries(app, base, today)
    _add_companies(app, factory, base, 3, 25, today)
    assert _queries(app, base, today) == few, "a query per company"
    assert few < 60, few


# --- Found in review -----------------------------------------------------------------------------------------

def _by_key(items):
    return {item.key: item for item in items}


def test_growth_is_not_claimed_when_a_year_s_reports_are_missing(app, factory):
    """Two companies, both housed for 3 years. A year ago only 甲 reported (10 万/month, 20 people); this year
    甲 fell to 6 万 and 12 people and 乙 reported 6 万, 12 people: nobody grew, so growth is not claimed."""
    base = factory.base("perf")
    today = today_in(ZONE)
    moved = add_months(today, -36)
    a = factory.company(base, 1, moved_in_on=moved)
    b = factory.company(base, 2, moved_in_on=moved)
    due = last_due_month(today, 10)
    with app.test_request_context(), scoped_to(base.id):
        owner = db.session.get(User, base.owner.id)
        stored = db.session.get(Base, base.id)
        ca, cb = db.session.get(TenantCompany, a), db.session.get(TenantCompany, b)
        for n in range(24):
            month_on = reports.shift(due, -n)
            if n >= 12:
                report_services.save_report(ca, month_on, {"revenue_fen": 10_000_000, "tax_fen": 500_000,
                                                           "employees": 20}, base=stored, submit=True, reason="",
                                            today=today, by=owner, on_behalf=True)
            else:
                for c in (ca, cb):
                    report_services.save_report(c, month_on, {"revenue_fen": 6_000_000, "tax_fen": 300_000,
                                                              "employees": 12}, base=stored, submit=True,
                                                reason="", today=today, by=owner, on_behalf=True)
        db.session.commit()
    perf = _by_key(_items(app, base, today))["performance"]
    assert perf.check("revenue").status != MET, "12 of 24 year-ago reports missing: growth cannot be claimed"
    assert perf.check("employees").status != MET


def test_an_applicant_s_milestone_is_no_incubation_result(app, factory):
    base = factory.base("ops")
    today = today_in(ZONE)
    applicant = factory.company(base, 1, status="applicant")
    with app.test_request_context(), scoped_to(base.id):
        tenant_services.add_milestone(db.session.get(TenantCompany, applicant), occurred_on=today - timedelta(days=5),
                                      kind="high_tech", title="认定为高新技术企业", amount_fen=None,
                                      by=db.session.get(User, base.owner.id))
        db.session.commit()
    check = _by_key(_items(app, base, today))["operating"].check("incubation_results")
    assert check.status != MET, "a company that only applied is no incubation result of the base"


def test_an_expired_site_lease_is_not_met(app, factory):
    base = factory.base("site")
    with app.app_context():
        b = db.session.get(Base, base.id)
        b.site_ownership = "leased"
        b.site_lease_start_on, b.site_lease_end_on = date(2014, 1, 1), date(2020, 1, 1)
        db.session.commit()
    check = _by_key(_items(app, base, today_in(ZONE)))["site"].check("site")
    assert check.status == NOT_MET, "the lease ended in 2020: the base has no site under lease today"


def test_the_operating_year_comes_from_the_profile_not_the_sign_up(app, factory):
    base = factory.base("young")  # a base running for years that signed up for the product today
    check = _by_key(_items(app, base, today_in(ZONE)))["guidance"].check("operating_year")
    assert check.status == UNKNOWN, "the day the account was opened is not the day the base started operating"


def test_the_compliance_queries_do_not_grow_with_the_companies(app, factory, browser):
    """Statements of compliance_items on the compliant base, then with 30 more companies (leases, reports,
    workstation people, milestones)."""
    base, today = build_compliant_base(app, factory, browser)

    def count():
        statements = []

        def before(conn, cursor, statement, *args):
            statements.append(statement)
        with app.test_request_context(), scoped_to(base.id):
            engine = db.engine
            event.listen(engine, "before_cursor_execute", before)
            try:
                compliance_items(db.session.get(Base, base.id), today)
            finally:
                event.remove(engine, "before_cursor_execute", before)
        return len(statements)

    first = count()
    due = last_due_month(today, 10)
    ids = []
    for n in range(30):
        cid = factory.company(base, 100 + n, moved_in_on=add_months(today, -30), is_workstation=(n % 3 == 0),
                              zone="incubation" if n % 3 == 0 else "growth",
                              workstation_count=1 if n % 3 == 0 else None, unit=f"X-{n}")
        ids.append(cid)
        factory.lease(base, cid, starts_on=add_months(today, -6), ends_on=add_months(today, 18))
        if n % 3 == 0:
            factory.person(base, cid, active_from=add_months(today, -3))
    with app.test_request_context(), scoped_to(base.id):
        owner = db.session.get(User, base.owner.id)
        stored = db.session.get(Base, base.id)
        for cid in ids:
            c = db.session.get(TenantCompany, cid)
            report_services.save_report(c, due, {"revenue_fen": 1, "tax_fen": 1, "employees": 1}, base=stored,
                                        submit=True, reason="", today=today, by=owner, on_behalf=True)
            tenant_services.add_milestone(c, occurred_on=today - timedelta(days=3), kind="patent", title="专利",
                                          amount_fen=None, by=owner)
        db.session.commit()
    second = count()
    assert second <= first + 2, (first, second)


def test_a_correction_draft_keeps_a_submitted_quarter_submitted(app, factory, browser):
    base, today = build_compliant_base(app, factory, browser)
    assert _by_key(_items(app, base, today))["guidance"].check("quarterly_filings").status == MET
    with app.test_request_context(), scoped_to(base.id):
        owner = db.session.get(User, base.owner.id)
        stored = db.session.get(Base, base.id)
        filing = filing_services.latest_filings()[-1]            # the oldest quarter, submitted
        filing_services.new_version(stored, filing, "更正一家企业的营业收入", today=today, by=owner)
        db.session.commit()
    check = _by_key(_items(app, base, today))["guidance"].check("quarterly_filings")
    assert check.status == MET, "the quarter was submitted; a correction being prepared does not undo that"
