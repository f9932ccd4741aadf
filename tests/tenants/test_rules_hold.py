"""The base's rules hold on every path, not only in the review: direct entry, edits, imports, the public link."""
import os
import re
from datetime import date, timedelta
from io import BytesIO

from sqlalchemy import select

from operator_app.accounts.models import Base
from operator_app.db import scoped_to, unscoped
from operator_app.extensions import db
from operator_app.timeutil import today_in
from tenants.models import TenantCompany
from tenants.rules import rules_of

from ..conftest import make_app
from ..helpers import PDF_BYTES, Browser, Factory, field_errors, valid_uscc
from .test_companies import FORM


def _set(app, base, standard=None, **rules):
    with app.test_request_context(), scoped_to(base.id):
        if standard is not None:
            db.session.get(Base, base.id).tenant_count_standard = standard
        current = rules_of(db.session.get(Base, base.id))
        for key, value in rules.items():
            setattr(current, key, value)
        db.session.commit()


def _statuses(app, base):
    with app.app_context(), unscoped("test reads companies"):
        return db.session.scalars(select(TenantCompany.status).where(TenantCompany.base_id == base.id)
                                  .order_by(TenantCompany.id)).all()


WORKSTATION = {"zone": "incubation", "is_workstation": "y", "workstation_count": "1"}


def test_direct_entry_cannot_get_round_the_quota_or_the_industries(app, factory, browser):
    base = factory.base("alpha")
    _set(app, base, standard=5, allowed_industries=["I"])  # 20% of 5 → one workstation company
    browser.login(base.users["staff"])
    new = f"/b/{base.slug}/tenants/new"
    assert browser.post(new, {**FORM, **WORKSTATION, "uscc": valid_uscc(1)}).status_code == 302
    second = browser.post(new, {**FORM, **WORKSTATION, "uscc": valid_uscc(2)})
    assert "工位企业已达到比例上限（1 家）" in field_errors(second)["is_workstation"][0]
    other_industry = browser.post(new, {**FORM, "uscc": valid_uscc(3), "industry": "C"})
    assert "不在基地管理办法允许的范围内" in field_errors(other_industry)["industry"][0]
    assert _statuses(app, base) == ["in_residence"]
    # As applications they are recorded, for the review where only a manager can override.
    assert browser.post(f"{new}?status=applicant", {**FORM, "uscc": valid_uscc(3), "industry": "C"}
                        ).status_code == 302
    assert _statuses(app, base) == ["in_residence", "applicant"]


def test_an_edit_cannot_turn_a_tenant_into_a_workstation_company_beyond_the_quota(app, factory, browser):
    base = factory.base("alpha")
    _set(app, base, standard=5)
    factory.company(base, n=1, zone="incubation", is_workstation=True, workstation_count=1)
    other = factory.company(base, n=2, zone="incubation")
    browser.login(base.users["staff"])
    edit = f"/b/{base.slug}/tenants/{other}/edit"
    response = browser.post(edit, {**FORM, **WORKSTATION, "uscc": valid_uscc(2)})
    assert "is_workstation" in field_errors(response)
    with app.app_context(), unscoped("test reads the company"):
        assert db.session.get(TenantCompany, other).is_workstation is False


def test_an_import_counts_its_own_workstation_rows_against_the_quota(app, factory, browser):
    from .test_import_pages import _filled_template, _upload

    base = factory.base("alpha")
    _set(app, base, standard=10)  # two workstation companies at most
    browser.login(base.users["staff"])
    rows = [{"企业或团队名称": f"工位企业{n}", "统一社会信用代码": valid_uscc(60 + n), "所属行业": "I",
             "区域": "孵化区", "是否工位企业（是/否）": "是", "工位数": 1} for n in range(3)]
    response = _upload(browser, base, _filled_template(browser, base, rows))
    assert response.status_code == 422
    assert re.findall(r'<tr data-row="(\d+)">', response.get_data(as_text=True)) == ["4"]
    assert _statuses(app, base) == []


def test_the_move_in_date_cannot_be_edited_past_the_exit(app, factory, browser):
    base = factory.base("alpha")
    company_id = factory.company(base, n=4, moved_in_on=date(2024, 1, 1))
    browser.login(base.users["staff"])
    browser.post(f"/b/{base.slug}/tenants/{company_id}/exit", {"reason": "voluntary", "exit_on": "2025-06-01"})
    response = browser.post(f"/b/{base.slug}/tenants/{company_id}/edit",
                            {**FORM, "uscc": valid_uscc(4), "moved_in_on": "2026-01-01"})
    assert field_errors(response)["moved_in_on"] == ["入驻日期晚于退出日期（2025-06-01）。"]
    nonsense = browser.post(f"/b/{base.slug}/tenants/{company_id}/edit",
                            {**FORM, "uscc": valid_uscc(4), "moved_in_on": "0201-01-01"})
    assert "1949" in field_errors(nonsense)["moved_in_on"][0]


def test_exits_that_cannot_be_true_are_refused(app, factory, browser):
    base = factory.base("alpha")
    admitted = factory.company(base, n=5, status="admitted")
    housed = factory.company(base, n=6)
    browser.login(base.users["staff"])
    graduate = browser.post(f"/b/{base.slug}/tenants/{admitted}/exit", {"reason": "graduation",
                                                                         "exit_on": "2026-01-01"})
    assert "尚未入驻" in field_errors(graduate)["exit_on"][0]
    tomorrow = (today_in("Asia/Shanghai") + timedelta(days=1)).isoformat()
    future = browser.post(f"/b/{base.slug}/tenants/{housed}/exit", {"reason": "voluntary", "exit_on": tomorrow})
    assert "退出日期在今天之后" in field_errors(future)["exit_on"][0]
    assert _statuses(app, base) == ["admitted", "in_residence"]
    # An admitted company that never moved in may still withdraw.
    assert browser.post(f"/b/{base.slug}/tenants/{admitted}/exit", {"reason": "voluntary",
                                                                     "exit_on": "2026-01-01"}).status_code == 302


def test_the_public_form_does_not_reveal_the_roster_and_the_review_catches_the_duplicate(app, factory, browser,
                                                                                        new_browser):
    base = factory.base("alpha")
    factory.company(base, n=9, name="在孵的企业")
    _set(app, base, accepts_applications=True)
    visitor = new_browser()
    response = visitor.post(f"/p/{base.slug}/apply", {"name": "冒名企业", "uscc": valid_uscc(9), "industry": "I"})
    assert response.status_code == 302  # accepted like any other application: nothing learnt about the roster
    with app.app_context(), unscoped("test finds the application"):
        applicant = db.session.scalar(select(TenantCompany.id).where(TenantCompany.name == "冒名企业"))
    browser.login(base.owner)
    review = f"/b/{base.slug}/tenants/{applicant}/review"
    page = browser.get(review).get_data(as_text=True)
    assert 'data-check="code" data-passed="no"' in page and "在孵的企业" in page
    response = browser.post(review, {"action": "admit", "admit-zone": "growth", "admit-unit": "X",
                                     "admit-moved_in_on": "2026-01-05", "admit-override_reason": "我保证"})
    assert "一个代码只能对应一家企业" in response.get_data(as_text=True)
    assert _statuses(app, base) == ["in_residence", "applicant"]


def test_public_application_attempts_are_throttled_before_validation_and_done_page_needs_an_open_link(
        databases, app, factory):
    base = factory.base("alpha")
    strict = make_app(app.config["SQLALCHEMY_DATABASE_URI"], SIGNUP_MAX_PER_IP=3)
    visitor = Browser(strict.test_client())
    assert visitor.get(f"/p/{base.slug}/apply/done").status_code == 404
    _set(app, base, accepts_applications=True)
    statuses = [visitor.post(f"/p/{base.slug}/apply", {"name": "", "uscc": "bad"}).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_a_failed_application_leaves_no_file_behind(app, factory, new_browser):
    base = factory.base("alpha")
    _set(app, base, accepts_applications=True, required_documents=["licence", "business_plan"])
    visitor = new_browser()
    token = visitor.csrf_token(f"/p/{base.slug}/apply")

    def stored_files():
        return {os.path.join(root, name) for root, _, names in os.walk(app.config["UPLOAD_FOLDER"])
                for name in names}

    before = stored_files()
    response = visitor.client.post(f"/p/{base.slug}/apply", data={
        "csrf_token": token, "name": "晋源企业", "uscc": valid_uscc(31), "industry": "I",
        "document_licence": (BytesIO(PDF_BYTES), "执照.pdf"),
        "document_business_plan": (BytesIO(b"not a document at all"), "plan.exe")})
    assert response.status_code == 200 and "不接受此类文件" in response.get_data(as_text=True)
    assert _statuses(app, base) == []
    assert stored_files() == before


def test_an_oversized_request_gets_a_chinese_page(databases, app, factory):
    small = make_app(app.config["SQLALCHEMY_DATABASE_URI"], MAX_CONTENT_LENGTH=1024 * 1024)
    base = Factory(small).base("alpha")
    company_id = Factory(small).company(base)
    browser = Browser(small.test_client())
    browser.login(base.users["staff"])
    detail = f"/b/{base.slug}/tenants/{company_id}"
    response = browser.client.post(f"{detail}/documents", data={
        "csrf_token": browser.csrf_token(detail), "kind": "lease", "file": (BytesIO(b"%PDF-" + b"0" * 2_000_000),
                                                                            "big.pdf")})
    assert response.status_code == 413 and "文件过大" in response.get_data(as_text=True)


def test_occupancy_counts_only_companies_with_staff_and_equipment_on_site(app, factory, browser):
    base = factory.base("alpha")
    _set(app, base, standard=3)
    factory.company(base, n=1)
    factory.company(base, n=2, staff_on_site=False)
    factory.company(base, n=3, zone="incubation", is_workstation=True, workstation_count=1, status="admitted")
    browser.login(base.owner)
    page = browser.get(f"/b/{base.slug}/").get_data(as_text=True)
    assert 'data-figure="housed">2<' in page and "其中 1 家人员和设备在基地" in page
    assert 'data-figure="workstations">1<' in page
    assert "实际入驻企业 1 户，低于本类型基地 3 户" in page


def test_a_tenant_contact_does_not_see_the_bases_internal_notes(app, factory, browser, new_browser):
    base = factory.base("alpha")
    _set(app, base, allowed_industries=["M"])
    applicant = factory.company(base, n=1, status="applicant")
    factory.link_tenant(base, applicant)
    browser.login(base.owner)
    browser.post(f"/b/{base.slug}/tenants/{applicant}/review", {
        "action": "admit", "admit-zone": "growth", "admit-unit": "X", "admit-moved_in_on": "2026-01-05",
        "admit-override_reason": "内部讨论：先让其入驻"})
    assert "内部讨论" in browser.get(f"/b/{base.slug}/tenants/{applicant}").get_data(as_text=True)
    contact = new_browser()
    contact.login(base.users["tenant"])
    page = contact.get(f"/b/{base.slug}/tenants/{applicant}").get_data(as_text=True)
    assert "内部讨论" not in page and base.owner.name not in page
