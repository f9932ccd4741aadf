"""The tenant's side of the ledger: its own services, requests filed from its portal, 1–5 ratings once per
service, and satisfaction per category and per partner agency; a company's file shows every service."""
from datetime import datetime, timezone

from sqlalchemy import func, select

from ledger.models import Feedback, ServiceRequest
from operator_app.db import scoped_to, unscoped
from operator_app.extensions import db

from ..helpers import field_errors


def _feedback_count(app):
    with app.app_context(), unscoped("test counts rows"):
        return db.session.scalar(select(func.count(Feedback.id)))


def test_a_tenant_files_a_request_and_sees_only_its_own_services(app, factory, browser, new_browser):
    base = factory.base("alpha")
    mine = factory.company(base, name="晋阳软件")
    theirs = factory.company(base, name="别的公司")
    factory.link_tenant(base, mine)
    factory.service_request(base, theirs, content="别家的诉求")
    staff_id = factory.service_person(base)
    factory.visit(base, theirs, staff_id=staff_id)
    browser.login(base.users["tenant"])
    url = f"/b/{base.slug}/ledger/mine"
    refused = browser.post(url, {"category": "", "content": ""})
    assert set(field_errors(refused)) == {"category", "content"}
    assert browser.post(url, {"category": "training", "content": "希望组织财务培训"}).status_code == 302
    page = browser.get(url).get_data(as_text=True)
    assert "希望组织财务培训" in page and "已受理" in page
    assert "别家的诉求" not in page and "暂无入企服务记录" in page
    assert browser.get(f"/b/{base.slug}/ledger/").status_code == 403
    with app.app_context(), scoped_to(base.id):
        request = db.session.scalar(select(ServiceRequest).where(ServiceRequest.company_id == mine))
        assert request.filed_by_tenant and request.channel == "online" and request.created_by_id == base.users[
            "tenant"].id
    staff = new_browser()
    staff.login(base.users["staff"])
    assert "企业在线提交" in staff.get(f"/b/{base.slug}/ledger/requests/{request.id}").get_data(as_text=True)
    # The file of the tenant's own company lists its services; another company's file is not found.
    file_page = browser.get(f"/b/{base.slug}/tenants/{mine}").get_data(as_text=True)
    assert f'data-service="request-{request.id}"' in file_page and "希望组织财务培训" in file_page
    assert browser.get(f"/b/{base.slug}/tenants/{theirs}").status_code == 404


def test_ratings_once_per_service_only_for_what_the_company_received(app, factory, browser):
    base = factory.base("alpha")
    mine = factory.company(base, name="晋阳软件")
    theirs = factory.company(base, name="别的公司")
    factory.link_tenant(base, mine)
    staff_id = factory.service_person(base)
    open_request = factory.service_request(base, mine, content="尚未办结")
    visit = factory.visit(base, mine, staff_id=staff_id)
    other_visit = factory.visit(base, theirs, staff_id=staff_id)
    attended = factory.activity(base, organiser_id=staff_id, title="参加了的活动")
    missed = factory.activity(base, organiser_id=staff_id, title="没参加的活动")
    factory.signin(base, attended, company_id=mine)
    browser.login(base.users["tenant"])
    url = f"/b/{base.slug}/ledger/mine"
    page = browser.get(url).get_data(as_text=True)
    assert f'data-rate="visit-{visit}"' in page and f'data-rate="activity-{attended}"' in page
    assert f'data-rate="request-{open_request}"' not in page and "没参加的活动" not in page
    feedback_url = f"/b/{base.slug}/ledger/mine/feedback"

    for bad in ("0", "6", "x", ""):
        response = browser.post(feedback_url, {"kind": "visit", "entry_id": visit, "rating": bad}, form_page=url)
        assert field_errors(response)["rating"], bad
        assert any("\u4e00" <= ch <= "\u9fff" for ch in field_errors(response)["rating"][0])
    assert _feedback_count(app) == 0
    for kind, entry_id in (("visit", other_visit), ("activity", missed), ("request", open_request),
                           ("visit", 10**12), ("visit", "abc")):
        response = browser.post(feedback_url, {"kind": kind, "entry_id": entry_id, "rating": "5"}, form_page=url)
        assert response.status_code == 404, (kind, entry_id)
        assert _feedback_count(app) == 0
    assert browser.post(feedback_url, {"kind": "nothing", "entry_id": visit, "rating": "5"},
                        form_page=url).status_code == 200
    response = browser.post(feedback_url, {"kind": "visit", "entry_id": visit, "rating": "4", "comment": "很及时"},
                            form_page=url)
    assert response.status_code == 302
    again = browser.post(feedback_url, {"kind": "visit", "entry_id": visit, "rating": "1"}, form_page=url,
                         follow_redirects=True)
    assert "贵企业已评价过该服务" in again.get_data(as_text=True)
    with app.app_context(), scoped_to(base.id):
        ratings = db.session.scalars(select(Feedback)).all()
        assert [(r.visit_id, r.rating, r.comment, r.company_id) for r in ratings] == [(visit, 4, "很及时", mine)]
    assert 'data-feedback="4"' in browser.get(url).get_data(as_text=True)


def test_satisfaction_is_averaged_per_category_and_per_partner_agency(app, factory, browser):
    base = factory.base("alpha")
    staff_id = factory.service_person(base)
    law = factory.agency(base, name="正大律所", category="professional")
    money = factory.agency(base, name="晋商投资", category="financing")
    for n, (category, agency, rating) in enumerate([("professional", law, 5), ("professional", law, 4),
                                                    ("financing", money, 2), ("financing", None, 5)], start=1):
        company = factory.company(base, n=n)
        visit = factory.visit(base, company, staff_id=staff_id, agency_id=agency, category=category)
        factory.feedback(base, company, "visit", visit, rating)
    request = factory.service_request(base, factory.company(base, n=9), category="financing",
                                      received_at=datetime(2026, 3, 2, tzinfo=timezone.utc))
    factory.feedback(base, _company_of(app, base, request), "request", request, 3)
    browser.login(base.users["mentor"])
    page = browser.get(f"/b/{base.slug}/ledger/satisfaction").get_data(as_text=True)
    category_table = page[page.index('id="satisfaction-category"'):page.index('id="satisfaction-agency"')]
    agency_table = page[page.index('id="satisfaction-agency"'):]
    assert 'data-key="professional"' in category_table and 'data-average="4.50"' in category_table
    assert 'data-average="3.33"' in category_table                          # financing: 2, 5 and 3
    assert agency_table.index("晋商投资") < agency_table.index("正大律所")  # the weakest provider first
    assert 'data-average="2.00"' in agency_table and 'data-average="4.50"' in agency_table

    # A visit withdrawn as a mistake takes its rating out of the averages.
    with app.app_context(), scoped_to(base.id):
        low = db.session.scalar(select(Feedback).where(Feedback.rating == 2))
    browser.logout()
    browser.login(base.users["staff"])
    ledger = f"/b/{base.slug}/ledger/"
    assert browser.post(f"/b/{base.slug}/ledger/visit/{low.visit_id}/delete", {}, form_page=ledger).status_code == 302
    page = browser.get(f"/b/{base.slug}/ledger/satisfaction").get_data(as_text=True)
    agency_table = page[page.index('id="satisfaction-agency"'):]
    assert "晋商投资" not in agency_table and 'data-average="4.00"' in page   # financing: 5 and 3


def _company_of(app, base, request_id):
    with app.app_context(), scoped_to(base.id):
        return db.session.get(ServiceRequest, request_id).company_id


def test_a_company_file_lists_every_service_it_received(app, factory, browser):
    base = factory.base("alpha")
    company = factory.company(base, name="晋阳软件")
    staff_id = factory.service_person(base)
    request = factory.service_request(base, company, content="融资对接")
    visit = factory.visit(base, company, staff_id=staff_id)
    activity = factory.activity(base, organiser_id=staff_id, title="路演活动")
    factory.signin(base, activity, company_id=company)
    other_activity = factory.activity(base, organiser_id=staff_id, title="与它无关的活动")
    browser.login(base.users["mentor"])
    page = browser.get(f"/b/{base.slug}/tenants/{company}").get_data(as_text=True)
    for key in (f"request-{request}", f"visit-{visit}", f"activity-{activity}"):
        assert f'data-service="{key}"' in page, key
    assert f'data-service="activity-{other_activity}"' not in page
