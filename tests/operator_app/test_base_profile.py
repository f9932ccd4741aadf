"""Editing the base profile: stored values, their audit trail, the checks they drive, bad input."""
import re
from decimal import Decimal

from sqlalchemy import select

from operator_app.accounts.models import Base, Zone
from operator_app.audit import AuditEntry
from operator_app.db import unscoped
from operator_app.extensions import db

from ..helpers import field_errors

CHINESE = re.compile(r"[\u4e00-\u9fff]")

PROFILE = {
    "name": "晋阳双创基地", "base_type": "producer_service", "address": "太原市晋源区晋阳街 88 号",
    "timezone": "Asia/Shanghai", "tenant_count_standard": "40", "total_area_m2": "9000",
    "site_ownership": "leased", "site_certificates": "租赁合同 017 号", "site_lease_start_on": "2022-01-01",
    "site_lease_end_on": "2027-01-01", "site_boundaries": "大厦 1-5 层",
    "service_functions": ["information", "coaching", "training", "financing"], "has_signage": "y",
    "zones-incubation-area_m2": "2000", "zones-incubation-description": "2 层",
    "zones-growth-area_m2": "5000", "zones-growth-description": "3-5 层",
    "zones-public_service-area_m2": "1500", "zones-public_service-description": "1 层大厅",
}


def _stored(app, slug):
    with app.app_context(), unscoped("test reads the stored profile"):
        base = db.session.scalar(select(Base).where(Base.slug == slug))
        zones = {z.kind: (z.area_m2, z.description) for z in db.session.scalars(
            select(Zone).where(Zone.base_id == base.id))}
        return {"name": base.name, "area": base.total_area_m2, "lease_end": base.site_lease_end_on,
                "functions": base.service_functions, "standard": base.tenant_count_standard, "zones": zones}


def test_manager_saves_the_profile_and_the_checks_turn_met(app, factory, browser):
    base = factory.base("alpha")
    browser.login(base.owner)
    response = browser.post("/b/alpha/profile", PROFILE)
    assert response.status_code == 302
    stored = _stored(app, "alpha")
    assert stored["name"] == "晋阳双创基地" and stored["area"] == Decimal("9000.00")
    assert stored["functions"] == ["information", "coaching", "training", "financing"]
    assert stored["zones"]["growth"] == (Decimal("5000.00"), "3-5 层")
    # The profile page lists its checks (the dashboard shows the compliance panel instead: tests/operator_app/
    # test_compliance.py).
    page = browser.get("/b/alpha/profile").get_data(as_text=True)
    for key in ("site", "signage", "zones", "service_functions", "tenant_standard"):
        assert f'data-check="{key}" data-status="met"' in page, key
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "base.update_profile"))
        assert entry.user_id == base.owner.id and entry.base_id == base.id
        assert entry.before["name"] == base.name and entry.after["name"] == "晋阳双创基地"
        assert entry.after["total_area_m2"] == "9000.00"
    audit_page = browser.get("/b/alpha/audit").get_data(as_text=True)
    assert 'data-action="base.update_profile">修改基地信息' in audit_page and "晋阳双创基地" in audit_page
    assert "生产性服务型" in audit_page and "信息服务、创业辅导、人员培训、投融资服务" in audit_page


def test_short_lease_and_few_functions_show_as_not_met(app, factory, browser):
    base = factory.base("alpha")
    browser.login(base.owner)
    browser.post("/b/alpha/profile", {**PROFILE, "site_lease_start_on": "2025-06-30",
                                      "site_lease_end_on": "2028-06-30", "service_functions": ["information"]})
    page = browser.get("/b/alpha/profile").get_data(as_text=True)
    assert 'data-check="site" data-status="not_met"' in page
    assert 'data-check="service_functions" data-status="not_met"' in page
    assert "当前租期为 3 年" in page and "目前具备 1 项" in page


def test_a_site_lease_that_has_ended_is_not_met(app, factory, browser):
    base = factory.base("alpha")
    browser.login(base.owner)
    browser.post("/b/alpha/profile", {**PROFILE, "site_lease_start_on": "2014-01-01",
                                      "site_lease_end_on": "2020-01-01"})
    page = browser.get("/b/alpha/profile").get_data(as_text=True)
    assert 'data-check="site" data-status="not_met"' in page and "场地租约已于 2020-01-01 到期" in page


def test_bad_profile_input_is_shown_on_the_field_and_nothing_is_written(app, factory, browser):
    base = factory.base("alpha")
    browser.login(base.owner)
    before = _stored(app, "alpha")
    cases = [
        ({"site_lease_end_on": "2021-01-01"}, "site_lease_end_on", "租赁截止日期必须晚于起始日期。"),
        ({"site_lease_start_on": ""}, "site_lease_end_on", "租赁场地需要填写租赁起止日期。"),
        ({"site_lease_end_on": ""}, "site_lease_end_on", "租赁场地需要填写租赁起止日期。"),
        ({"total_area_m2": "100"}, "total_area_m2", "各区域面积之和超过了总面积。"),
        ({"total_area_m2": "-5"}, "total_area_m2", "请输入 0 到 10,000,000 平方米之间的面积。"),
        ({"tenant_count_standard": "0"}, "tenant_count_standard", "请输入不小于 1 的整数。"),
        ({"name": ""}, "name", "此项为必填项。"),
        ({"zones-growth-area_m2": "-1"}, "zones-growth-area_m2", "请输入 0 到 10,000,000 平方米之间的面积。"),
    ]
    for change, field, message in cases:
        response = browser.post("/b/alpha/profile", {**PROFILE, **change})
        assert response.status_code == 200, change
        assert message in field_errors(response).get(field, []), (change, field_errors(response))
    for garbage in ({"total_area_m2": "abc"}, {"site_lease_start_on": "2022-13-45"},
                    {"tenant_count_standard": "1e9"}, {"service_functions": ["castle"]}, {"timezone": "Mars/Base"}):
        response = browser.post("/b/alpha/profile", {**PROFILE, **garbage})
        errors = field_errors(response)
        assert response.status_code == 200 and errors, garbage
        assert all(CHINESE.search(message) for messages in errors.values() for message in messages), errors
    assert _stored(app, "alpha") == before


def test_not_a_number_and_control_characters_are_refused_on_their_fields(app, factory, browser):
    base = factory.base("alpha")
    browser.login(base.owner)
    before = _stored(app, "alpha")
    cases = [({"total_area_m2": "NaN"}, "total_area_m2"), ({"total_area_m2": "sNaN"}, "total_area_m2"),
             ({"zones-growth-area_m2": "Infinity"}, "zones-growth-area_m2"),
             ({"name": "晋阳\x00基地"}, "name"), ({"site_boundaries": "1 层\x00"}, "site_boundaries"),
             ({"zones-incubation-description": "\x07"}, "zones-incubation-description")]
    for change, field in cases:
        response = browser.post("/b/alpha/profile", {**PROFILE, **change})
        errors = field_errors(response)
        assert response.status_code == 200 and field in errors, (change, errors)
        assert all(CHINESE.search(message) for message in errors[field])
    assert _stored(app, "alpha") == before
    # Tabs and line breaks are ordinary text.
    response = browser.post("/b/alpha/profile", {**PROFILE, "site_boundaries": "东至晋阳街\r\n\t西至园区内路"})
    assert response.status_code == 302
    assert _stored(app, "alpha") != before


def test_two_managers_saving_at_once_do_not_overwrite_each_other(app, factory, browser, new_browser):
    base = factory.base("alpha")
    second = factory.member(base, "manager", email="deputy@example.com")
    browser.login(base.owner)
    deputy = new_browser()
    deputy.login(second)
    deputy_form = deputy.hidden_fields("/b/alpha/profile")  # the deputy opens the page first
    assert browser.post("/b/alpha/profile", {**PROFILE, "name": "负责人保存的名称"}).status_code == 302
    response = deputy.client.post("/b/alpha/profile", data={**PROFILE, **deputy_form, "name": "副手输入的名称"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "其他人已保存了基地信息" in page and 'value="副手输入的名称"' in page
    assert _stored(app, "alpha")["name"] == "负责人保存的名称"
    # Saving again from the conflict page (which carries the new version) works.
    retry = deputy.client.post("/b/alpha/profile", data={**PROFILE, **deputy.hidden_fields("/b/alpha/profile"),
                                                         "name": "副手输入的名称"})
    assert retry.status_code == 302 and _stored(app, "alpha")["name"] == "副手输入的名称"


def test_audit_log_survives_absurd_page_numbers(factory, browser):
    base = factory.base("alpha")
    browser.login(base.owner)
    for page in ("99999999999999999999999", "-5", "abc", "0"):
        assert browser.get(f"/b/alpha/audit?page={page}").status_code == 200


def test_control_characters_in_a_base_address_are_a_404(factory, browser):
    base = factory.base("alpha")
    browser.login(base.owner)
    assert browser.get("/b/al%00pha/").status_code == 404
