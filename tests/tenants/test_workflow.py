"""Move-in and exit by the base's own rules: review checks, overrides, transitions, graduation, rules pages."""
from datetime import date, timedelta
from io import BytesIO

from sqlalchemy import select

from operator_app.accounts.models import Base
from operator_app.audit import AuditEntry
from operator_app.db import scoped_to, unscoped
from operator_app.extensions import db
from operator_app.timeutil import today_in
from tenants.models import AdmissionDecision, TenantCompany
from tenants.rules import rules_of

from ..helpers import PDF_BYTES, field_errors, valid_uscc

ADMIT = {"action": "admit", "admit-zone": "growth", "admit-unit": "C-101", "admit-area_m2": "60",
         "admit-moved_in_on": "2026-01-05"}


def _set_rules(app, base, **values):
    with app.test_request_context(), scoped_to(base.id):
        rules = rules_of(db.session.get(Base, base.id))
        for key, value in values.items():
            setattr(rules, key, value)
        db.session.commit()


def _set_standard(app, base, standard):
    with app.app_context():
        db.session.get(Base, base.id).tenant_count_standard = standard
        db.session.commit()


def _company(app, company_id):
    with app.app_context(), unscoped("test reads a company"):
        return db.session.get(TenantCompany, company_id)


def _checks(page):
    import re

    return dict(re.findall(r'data-check="(\w+)" data-passed="(yes|no)"', page))


def test_an_application_is_reviewed_and_admitted_into_residence(app, factory, browser):
    base = factory.base("alpha")
    applicant = factory.company(base, status="applicant", zone=None, unit="", moved_in_on=None)
    browser.login(base.users["staff"])
    review = f"/b/{base.slug}/tenants/{applicant}/review"
    page = browser.get(review).get_data(as_text=True)
    assert _checks(page) == {"industry": "yes", "documents": "yes"}
    assert browser.post(review, ADMIT).status_code == 302
    company = _company(app, applicant)
    assert (company.status, company.zone, company.unit, company.moved_in_on) == (
        "in_residence", "growth", "C-101", date(2026, 1, 5))
    with app.app_context(), unscoped("test reads the decision"):
        decision = db.session.scalar(select(AdmissionDecision))
        assert decision.decision == "admit" and decision.override_reason == ""
        assert {check["key"] for check in decision.checks} == {"industry", "documents"}


def test_admission_with_a_future_date_waits_for_the_move_in(app, factory, browser):
    base = factory.base("alpha")
    applicant = factory.company(base, status="applicant")
    future = (today_in("Asia/Shanghai") + timedelta(days=10)).isoformat()
    browser.login(base.users["staff"])
    browser.post(f"/b/{base.slug}/tenants/{applicant}/review", {**ADMIT, "admit-moved_in_on": future})
    assert _company(app, applicant).status == "admitted"
    detail = f"/b/{base.slug}/tenants/{applicant}"
    response = browser.post(f"{detail}/move-in", {"moved_in_on": future}, form_page=detail)
    assert response.status_code == 302 and _company(app, applicant).status == "in_residence"
    again = browser.post(f"{detail}/move-in", {"moved_in_on": future}, form_page=detail, follow_redirects=True)
    assert "不能办理此项" in again.get_data(as_text=True)


def test_a_rejected_application_cannot_be_admitted_afterwards(app, factory, browser):
    base = factory.base("alpha")
    applicant = factory.company(base, status="applicant")
    review = f"/b/{base.slug}/tenants/{applicant}/review"
    browser.login(base.users["staff"])
    assert field_errors(browser.post(review, {"action": "reject", "reject-reason": ""})) == {
        "reject-reason": ["此项为必填项。"]}
    assert browser.post(review, {"action": "reject", "reject-reason": "不属于本基地产业方向"}).status_code == 302
    assert _company(app, applicant).status == "rejected"
    response = browser.post(review, ADMIT)
    assert response.status_code == 409 and _company(app, applicant).status == "rejected"


def test_an_industry_the_rules_do_not_allow_blocks_until_a_manager_overrides(app, factory, browser, new_browser):
    base = factory.base("alpha")
    _set_rules(app, base, allowed_industries=["I", "M"])
    applicant = factory.company(base, status="applicant", industry="C")
    review = f"/b/{base.slug}/tenants/{applicant}/review"
    browser.login(base.users["staff"])
    assert _checks(browser.get(review).get_data(as_text=True))["industry"] == "no"
    blocked = browser.post(review, {**ADMIT, "admit-override_reason": "我来担保"})
    assert "只有基地负责人" in blocked.get_data(as_text=True) and _company(app, applicant).status == "applicant"

    manager = new_browser()
    manager.login(base.owner)
    no_reason = manager.post(review, ADMIT)
    assert "有检查项未通过" in field_errors(no_reason)["admit-override_reason"][0]
    assert _company(app, applicant).status == "applicant"
    assert manager.post(review, {**ADMIT, "admit-override_reason": "省重点招商项目，经基地会议研究同意"}
                        ).status_code == 302
    assert _company(app, applicant).status == "in_residence"
    with app.app_context(), unscoped("test reads the decision"):
        decision = db.session.scalar(select(AdmissionDecision))
        assert decision.override_reason == "省重点招商项目，经基地会议研究同意"
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "tenant.admit"))
        assert entry.user_id == base.owner.id and entry.after["overridden_checks"] == ["industry"]
    page = manager.get(f"/b/{base.slug}/tenants/{applicant}").get_data(as_text=True)
    assert "省重点招商项目" in page


def test_required_documents_must_be_in_the_file(app, factory, browser):
    base = factory.base("alpha")
    _set_rules(app, base, required_documents=["licence", "business_plan"])
    applicant = factory.company(base, status="applicant")
    factory.document(base, applicant, kind="licence")
    review = f"/b/{base.slug}/tenants/{applicant}/review"
    browser.login(base.users["staff"])
    page = browser.get(review).get_data(as_text=True)
    assert _checks(page)["documents"] == "no" and "缺少：商业计划书" in page
    factory.document(base, applicant, kind="business_plan", filename="计划书.pdf")
    assert _checks(browser.get(review).get_data(as_text=True))["documents"] == "yes"
    assert browser.post(review, ADMIT).status_code == 302


def test_workstation_companies_are_held_to_their_share_of_the_standard(app, factory, browser):
    base = factory.base("alpha")
    ws = {"admit-zone": "incubation", "admit-is_workstation": "y", "admit-workstation_count": "2"}
    first, second, third = (factory.company(base, status="applicant") for _ in range(3))
    browser.login(base.users["staff"])
    # Unknown standard: the quota cannot be checked, so it does not pass.
    response = browser.post(f"/b/{base.slug}/tenants/{first}/review", {**ADMIT, **ws})
    assert "基地信息中尚未填写企业数量标准" in response.get_data(as_text=True)
    assert _company(app, first).status == "applicant"
    _set_standard(app, base, 10)  # 20% of 10 → at most 2 workstation companies
    for company_id in (first, second):
        assert browser.post(f"/b/{base.slug}/tenants/{company_id}/review", {**ADMIT, **ws}).status_code == 302
    blocked = browser.post(f"/b/{base.slug}/tenants/{third}/review", {**ADMIT, **ws})
    assert _checks(blocked.get_data(as_text=True))["workstation_quota"] == "no"
    assert "工位企业将达到 3 家；上限为 2 家" in blocked.get_data(as_text=True)
    assert _company(app, third).status == "applicant"
    # As an ordinary tenant of the growth zone it is admissible.
    assert browser.post(f"/b/{base.slug}/tenants/{third}/review", ADMIT).status_code == 302
    dashboard = browser.get(f"/b/{base.slug}/").get_data(as_text=True)
    assert 'data-figure="housed">3<' in dashboard and 'data-figure="workstations">2<' in dashboard
    assert 'data-figure="zone-incubation">2<' in dashboard and 'data-warning="below-standard"' in dashboard


def test_graduation_makes_a_graduate_followed_for_three_years(app, factory, browser):
    base = factory.base("alpha")
    company_id = factory.company(base, moved_in_on=date(2023, 4, 1))
    exit_page = f"/b/{base.slug}/tenants/{company_id}/exit"
    browser.login(base.users["staff"])
    before_move_in = browser.post(exit_page, {"reason": "graduation", "exit_on": "2023-03-01"})
    assert "退出日期早于入驻日期" in field_errors(before_move_in)["exit_on"][0]
    assert _company(app, company_id).status == "in_residence"
    response = browser.post(exit_page, {"reason": "graduation", "exit_on": "2026-06-30", "keys_returned": "y",
                                        "rent_settled": "y", "deposit_settled": "y", "notes": "已完成 A 轮融资"})
    assert response.status_code == 302
    company = _company(app, company_id)
    assert (company.status, company.moved_out_on) == ("graduated", date(2026, 6, 30))
    page = browser.get(f"/b/{base.slug}/tenants/{company_id}").get_data(as_text=True)
    assert "跟踪至 2029-06-30" in page and "孵化毕业" in page
    again = browser.get(exit_page)
    assert again.status_code == 302  # a graduate cannot exit again


def test_an_applicant_cannot_exit_and_other_exits_are_plain_exits(app, factory, browser):
    base = factory.base("alpha")
    applicant = factory.company(base, status="applicant")
    tenant = factory.company(base)
    browser.login(base.users["staff"])
    assert browser.post(f"/b/{base.slug}/tenants/{applicant}/exit", {"reason": "voluntary", "exit_on": "2026-01-01"},
                        form_page=f"/b/{base.slug}/tenants/{applicant}").status_code == 302
    assert _company(app, applicant).status == "applicant"
    browser.post(f"/b/{base.slug}/tenants/{tenant}/exit", {"reason": "lease_expiry", "exit_on": "2026-02-28"})
    assert _company(app, tenant).status == "exited" and _company(app, tenant).graduate_tracking_until is None


def test_the_manager_publishes_rules_and_takes_applications_through_the_public_link(app, factory, browser,
                                                                                  new_browser):
    base = factory.base("alpha")
    browser.login(base.owner)
    rules_page = f"/b/{base.slug}/tenants/rules"
    response = browser.post(rules_page, {
        "entry_conditions": "从事软件和信息技术服务的小微企业", "procedure": "提交申请→审核→签订协议",
        "management_rules": "遵守基地管理制度", "exit_conditions": "租约到期或孵化毕业",
        "allowed_industries": ["I", "M"], "required_documents": ["licence"], "workstation_quota_percent": "20",
        "is_published": "y", "accepts_applications": "y"})
    assert response.status_code == 302
    bad = browser.post(rules_page, {"workstation_quota_percent": "150"})
    assert "workstation_quota_percent" in field_errors(bad)

    visitor = new_browser()
    public = visitor.get(f"/p/{base.slug}/rules").get_data(as_text=True)
    assert "从事软件和信息技术服务的小微企业" in public and "科学研究和技术服务业" in public
    token = visitor.csrf_token(f"/p/{base.slug}/apply")
    response = visitor.client.post(f"/p/{base.slug}/apply", data={
        "csrf_token": token, "name": "晋智软件有限公司", "uscc": valid_uscc(77), "industry": "I",
        "contact_name": "钱七", "contact_phone": "13700000000", "main_business": "工业软件",
        "document_licence": (BytesIO(PDF_BYTES), "执照.pdf")})
    assert response.status_code == 302 and response.headers["Location"].endswith("/apply/done")
    with app.app_context(), unscoped("test reads the application"):
        company = db.session.scalar(select(TenantCompany).where(TenantCompany.name == "晋智软件有限公司"))
        assert company.status == "applicant" and company.applied_via_link and company.base_id == base.id
        assert [document.kind for document in company.documents] == ["licence"]
        company_id = company.id
    page = browser.get(f"/b/{base.slug}/tenants/{company_id}/review").get_data(as_text=True)
    assert _checks(page) == {"industry": "yes", "documents": "yes"}
    bad_application = new_browser()
    response = bad_application.post(f"/p/{base.slug}/apply", {"name": "x", "uscc": "123", "industry": "I"})
    assert "uscc" in field_errors(response)


def test_staff_cannot_edit_the_rules(factory, browser):
    base = factory.base("alpha")
    browser.login(base.users["staff"])
    assert browser.get(f"/b/{base.slug}/tenants/rules").status_code == 403
