"""The company files: create, edit, browse with filters, milestones, documents, tenant contacts."""
import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from operator_app.audit import AuditEntry
from operator_app.db import unscoped
from operator_app.extensions import db
from tenants.models import CompanyDocument, Milestone, TenantCompany

from ..helpers import PDF_BYTES, field_errors, valid_uscc

FORM = {"name": "山西云图数据有限公司", "uscc": "", "legal_representative": "陈晨", "contact_name": "陈晨",
        "contact_phone": "13512345678", "contact_email": "chen@example.com", "main_business": "数据服务",
        "industry": "I", "zone": "growth", "unit": "B-201", "area_m2": "85.5", "moved_in_on": "2025-09-01",
        "licence_in_base": "y", "staff_on_site": "y", "equipment_on_site": "y"}


def _companies(app, base_id):
    with app.app_context(), unscoped("test reads the stored companies"):
        return db.session.scalars(select(TenantCompany).where(TenantCompany.base_id == base_id)
                                  .order_by(TenantCompany.id)).all()


def test_staff_add_a_company_and_see_it_in_the_list_and_file(app, factory, browser):
    base = factory.base("alpha")
    browser.login(base.users["staff"])
    code = valid_uscc(42)
    response = browser.post(f"/b/{base.slug}/tenants/new", {**FORM, "uscc": code.lower()})
    assert response.status_code == 302
    [company] = _companies(app, base.id)
    assert (company.name, company.uscc, company.status) == ("山西云图数据有限公司", code, "in_residence")
    assert company.area_m2 == Decimal("85.50") and company.moved_in_on == date(2025, 9, 1)
    listing = browser.get(f"/b/{base.slug}/tenants/").get_data(as_text=True)
    assert "山西云图数据有限公司" in listing and code in listing
    detail = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "B-201" in detail and "信息传输、软件和信息技术服务业" in detail
    with app.app_context():
        assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.object_type == "TenantCompany")) \
            == "tenant.create"


@pytest.mark.parametrize("change, field, message", [
    ({"uscc": "91140100000000001X"}, "uscc", "不是有效的统一社会信用代码"),
    ({"uscc": ""}, "uscc", "请填写统一社会信用代码"),
    ({"uscc": "", "is_team": "y"}, "team_evidence", "请说明"),
    ({"area_m2": "-3"}, "area_m2", "0 到 1,000,000"),
    ({"area_m2": "NaN"}, "area_m2", "请输入数字"),
    ({"name": ""}, "name", "必填"),
    ({"moved_in_on": "2025-02-30"}, "moved_in_on", "日期"),
    ({"is_workstation": "y", "zone": "growth"}, "is_workstation", "孵化区"),
    ({"industry": "Z"}, "industry", "选择"),
])
def test_bad_company_input_is_shown_on_its_field_and_nothing_is_written(app, factory, browser, change, field,
                                                                        message):
    base = factory.base("alpha")
    browser.login(base.users["staff"])
    response = browser.post(f"/b/{base.slug}/tenants/new", {**FORM, "uscc": valid_uscc(7), **change})
    assert response.status_code == 200
    errors = field_errors(response)
    assert field in errors and any(message in error for error in errors[field]), errors
    assert _companies(app, base.id) == []


def test_a_startup_team_needs_no_code_but_its_evidence(app, factory, browser):
    base = factory.base("alpha")
    browser.login(base.users["staff"])
    response = browser.post(f"/b/{base.slug}/tenants/new", {**FORM, "name": "晋韵非遗工作室", "is_team": "y",
                                                             "team_evidence": "省级工艺美术大师领衔的工作室"})
    assert response.status_code == 302
    [team] = _companies(app, base.id)
    assert team.is_team and team.uscc is None and team.team_evidence.startswith("省级")


def test_a_code_already_in_the_files_is_refused_but_another_base_may_have_it(app, factory, browser):
    alpha, bravo = factory.base("alpha"), factory.base("bravo")
    factory.company(alpha, n=5)
    browser.login(bravo.owner)
    assert browser.post(f"/b/{bravo.slug}/tenants/new", {**FORM, "uscc": valid_uscc(5)}).status_code == 302
    browser.logout()
    browser.login(alpha.users["staff"])
    response = browser.post(f"/b/{alpha.slug}/tenants/new", {**FORM, "uscc": valid_uscc(5)})
    assert field_errors(response) == {"uscc": ["基地档案中已有使用此代码的企业。"]}
    assert len(_companies(app, alpha.id)) == 1


def test_edit_keeps_history_and_a_concurrent_save_is_not_overwritten(app, factory, browser, new_browser):
    base = factory.base("alpha")
    company_id = factory.company(base, n=3)
    edit = f"/b/{base.slug}/tenants/{company_id}/edit"
    browser.login(base.users["staff"])
    other = new_browser()
    other.login(base.owner)
    stale = other.hidden_fields(edit)
    page = browser.hidden_fields(edit)
    values = {**FORM, "uscc": valid_uscc(3), "unit": "C-301"}
    assert browser.client.post(edit, data={**page, **values}).status_code == 302
    response = other.client.post(edit, data={**stale, **values, "unit": "D-404"})
    assert response.status_code == 409 and 'value="D-404"' in response.get_data(as_text=True)
    [company] = _companies(app, base.id)
    assert company.unit == "C-301"
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "tenant.update"))
        assert entry.before["unit"] == "A-003" and entry.after["unit"] == "C-301"


def test_the_list_filters_sorts_and_pages(app, factory, browser):
    base = factory.base("alpha")
    for n in range(1, 31):
        factory.company(base, n=n, name=f"企业{n:02d}", zone="incubation" if n % 3 == 0 else "growth",
                        industry="C" if n % 5 == 0 else "I", is_workstation=n % 3 == 0 and n % 2 == 0,
                        workstation_count=2 if n % 6 == 0 else None)
    factory.company(base, n=99, name="申请中企业", status="applicant")
    exited = factory.company(base, n=98, name="已退出企业")
    with app.app_context(), unscoped("test marks a company exited"):
        db.session.get(TenantCompany, exited).status = "exited"
        db.session.commit()
    browser.login(base.users["staff"])

    def names(query):
        html = browser.get(f"/b/{base.slug}/tenants/?{query}").get_data(as_text=True)
        return re.findall(r'data-company-id="\d+">\s*<td><a href="[^"]+">([^<]+)</a>', html)

    first = names("")
    assert len(first) == 25 and first[0] == "企业01" and "已退出企业" not in first
    assert len(names("page=2")) == 6
    assert names("zone=incubation") == [f"企业{n:02d}" for n in range(3, 31, 3)]
    assert names("industry=C&sort=name&direction=desc") == [f"企业{n:02d}" for n in (30, 25, 20, 15, 10, 5)]
    assert names("workstation=yes") == ["企业06", "企业12", "企业18", "企业24", "企业30"]
    assert names("status=applicant") == ["申请中企业"]
    assert names("status=exited") == ["已退出企业"]
    assert names("q=企业2") == [f"企业{n}" for n in range(20, 30)][:25]
    assert names(f"q={valid_uscc(7)}") == ["企业07"]
    assert len(names("zone=mars&status=%00&sort=evil&page=-4")) == 25  # nonsense filters are ignored


def test_milestones_make_a_dated_timeline(app, factory, browser):
    base = factory.base("alpha")
    company_id = factory.company(base)
    detail = f"/b/{base.slug}/tenants/{company_id}"
    browser.login(base.users["staff"])
    response = browser.post(f"{detail}/milestones", {"occurred_on": "2026-06-30", "kind": "financing",
                                                     "title": "A 轮融资", "amount_yuan": "5000000"}, form_page=detail)
    assert response.status_code == 302
    missing = browser.post(f"{detail}/milestones", {"occurred_on": "2026-07-01", "kind": "financing",
                                                    "title": "B 轮"}, form_page=detail)
    assert field_errors(missing) == {"amount_yuan": ["请填写本轮融资金额。"]}
    browser.post(f"{detail}/milestones", {"occurred_on": "2026-08-15", "kind": "high_tech",
                                          "title": "认定为高新技术企业"}, form_page=detail)
    page = browser.get(detail).get_data(as_text=True)
    assert page.index("认定为高新技术企业") < page.index("A 轮融资")  # newest first
    assert "5,000,000.00" in page
    with app.app_context(), unscoped("test reads milestones"):
        rows = db.session.scalars(select(Milestone).order_by(Milestone.occurred_on)).all()
        assert [(m.kind, m.amount_fen) for m in rows] == [("financing", 500_000_000), ("high_tech", None)]
        first_id = rows[0].id
    assert browser.post(f"{detail}/milestones/{first_id}/delete", form_page=detail).status_code == 302
    assert "A 轮融资" not in browser.get(detail).get_data(as_text=True)
    with app.app_context(), unscoped("test reads milestones"):
        assert db.session.get(Milestone, first_id).deleted_at is not None  # kept, off the timeline


def test_documents_upload_download_and_refuse_other_types(app, factory, browser):
    from io import BytesIO

    base = factory.base("alpha")
    company_id = factory.company(base)
    detail = f"/b/{base.slug}/tenants/{company_id}"
    browser.login(base.users["staff"])
    token = browser.csrf_token(detail)
    response = browser.client.post(f"{detail}/documents", data={
        "csrf_token": token, "kind": "licence", "file": (BytesIO(PDF_BYTES), "营业执照.pdf")})
    assert response.status_code == 302
    page = browser.get(detail).get_data(as_text=True)
    link = re.search(r'href="([^"]+/documents/\d+)">营业执照.pdf', page).group(1)
    download = browser.get(link)
    assert download.status_code == 200 and download.data == PDF_BYTES
    assert download.headers["Content-Type"] == "application/pdf"
    for data, name in ((b"MZ\x90\x00 not a pdf", "virus.pdf"), (b"", "empty.pdf"), (b"plain text", "a.txt")):
        refused = browser.client.post(f"{detail}/documents", data={
            "csrf_token": token, "kind": "lease", "file": (BytesIO(data), name)})
        assert refused.status_code == 200 and "file" in field_errors(refused), name
    with app.app_context(), unscoped("test counts documents"):
        assert db.session.scalar(select(func.count(CompanyDocument.id))) == 1


def test_a_tenant_contact_is_invited_for_their_company_and_sees_only_it(app, factory, browser, new_browser):
    base = factory.base("alpha")
    own = factory.company(base, n=1, name="自家公司")
    other = factory.company(base, n=2, name="别家公司")
    other_document = factory.document(base, other)
    browser.login(base.owner)
    response = browser.post(f"/b/{base.slug}/tenants/{own}/contact", {"email": "boss@zijia.example"},
                            form_page=f"/b/{base.slug}/tenants/{own}")
    link = re.search(r'id="invite-link" readonly value="http://localhost([^"]+)"',
                     response.get_data(as_text=True)).group(1)
    contact = new_browser()
    contact.post(link, {"name": "自家老板", "password": "Zijia-boss-2026!", "confirm": "Zijia-boss-2026!"})
    mine = contact.get(f"/b/{base.slug}/tenants/mine")
    assert mine.status_code == 302 and mine.headers["Location"].endswith(f"/tenants/{own}")
    page = contact.get(f"/b/{base.slug}/tenants/{own}").get_data(as_text=True)
    assert "自家公司" in page and "编辑档案" not in page
    assert contact.get(f"/b/{base.slug}/tenants/{other}").status_code == 404
    assert contact.get(f"/b/{base.slug}/tenants/{other}/documents/{other_document}").status_code == 404
    assert contact.get(f"/b/{base.slug}/tenants/").status_code == 403


def test_control_characters_in_the_search_are_ignored(factory, browser):
    base = factory.base("alpha")
    factory.company(base, n=1, name="搜索企业")
    browser.login(base.users["staff"])
    response = browser.get(f"/b/{base.slug}/tenants/?q=%00搜索")
    assert response.status_code == 200 and "搜索企业" in response.get_data(as_text=True)
    assert browser.get(f"/b/{base.slug}/tenants/export.xlsx?q=%00").status_code == 200
