"""The service ledger's requests and visits, the one ledger view with its filters and export, the team and
agencies against the policy minimums, and who may change what."""
from datetime import date, datetime, timedelta, timezone
from io import BytesIO

import openpyxl
from sqlalchemy import func, select

from ledger.models import PartnerAgency, ServicePerson, ServiceRequest, Visit
from operator_app.audit import AuditEntry
from operator_app.db import scoped_to, unscoped
from operator_app.extensions import db
from operator_app.timeutil import as_utc, to_local, utcnow

from ..helpers import PDF_BYTES, field_errors


def _count(app, model, base=None):
    with app.app_context(), unscoped("test counts rows"):
        statement = select(func.count(model.id))
        if base is not None:
            statement = statement.where(model.base_id == base.id)
        return db.session.scalar(statement)


def _local_now_text(minutes_ago=0):
    moment = to_local(utcnow() - timedelta(minutes=minutes_ago), "Asia/Shanghai")
    return moment.strftime("%Y-%m-%dT%H:%M")


def test_a_request_is_logged_handled_with_its_response_time_edited_and_audited(app, factory, browser):
    base = factory.base("alpha")
    company = factory.company(base, name="晋阳软件")
    handler = factory.service_person(base, name="李专员")
    browser.login(base.users["staff"])
    url = f"/b/{base.slug}/ledger/requests/new"
    response = browser.post(url, {"company_id": company, "channel": "phone", "category": "financing",
                                  "received_at": _local_now_text(90), "content": "申请创业担保贷款，需要材料清单",
                                  "handler_id": handler})
    assert response.status_code == 302
    detail = response.headers["Location"]
    page = browser.get(detail).get_data(as_text=True)
    assert "申请创业担保贷款" in page and "李专员" in page and "已受理" in page and "等待响应" in page

    # Being handled: the first answer stamps the response time (about 1.5 hours after it came in).
    assert browser.post(f"{detail}/status", {"status": "in_progress", "resolution": ""},
                        form_page=detail).status_code == 302
    with app.app_context(), scoped_to(base.id):
        entry = db.session.scalar(select(ServiceRequest))
        waited = entry.response_time
        assert timedelta(minutes=89) <= waited <= timedelta(minutes=92) and entry.resolved_at is None
    # Resolving needs what was done; without it nothing changes.
    refused = browser.post(f"{detail}/status", {"status": "resolved", "resolution": ""}, form_page=detail)
    assert field_errors(refused)["resolution"] == ["办结或关闭前请填写办理情况。"]
    browser.post(f"{detail}/status", {"status": "resolved", "resolution": "已提供材料清单并协助提交"}, form_page=detail)
    page = browser.get(detail).get_data(as_text=True)
    assert "已解决" in page and "已提供材料清单" in page

    # A correction is kept in the audit log with the value before.
    edit = f"{detail}/edit"
    assert browser.post(edit, {"company_id": company, "channel": "walk_in", "category": "financing",
                               "received_at": _local_now_text(90), "content": "申请创业担保贷款（修改）",
                               "handler_id": handler}).status_code == 302
    with app.app_context(), scoped_to(base.id):
        entry = db.session.scalar(select(ServiceRequest))
        assert entry.channel == "walk_in" and entry.status == "resolved"
        change = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "request.update"))
        assert change.before["channel"] == "phone" and change.after["channel"] == "walk_in"
        assert change.before["content"] == "申请创业担保贷款，需要材料清单"
    assert "服务诉求" in browser.get(f"/b/{base.slug}/ledger/").get_data(as_text=True)


def test_a_request_with_bad_input_is_refused_on_its_fields_and_nothing_is_written(app, factory, browser):
    base = factory.base("alpha")
    other = factory.base("bravo")
    foreign_company = factory.company(other, name="别家公司")
    factory.company(base)
    browser.login(base.users["staff"])
    url = f"/b/{base.slug}/ledger/requests/new"
    future = to_local(utcnow() + timedelta(days=2), "Asia/Shanghai").strftime("%Y-%m-%dT%H:%M")
    response = browser.post(url, {"company_id": foreign_company, "channel": "fax", "category": "nothing",
                                  "received_at": future, "content": "", "handler_id": "abc"})
    errors = field_errors(response)
    assert response.status_code == 200
    assert set(errors) == {"company_id", "channel", "category", "received_at", "content", "handler_id"}
    assert errors["received_at"] == ["受理时间不能晚于现在。"]
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in message) for messages in errors.values()
               for message in messages), errors
    assert _count(app, ServiceRequest) == 0


def test_a_visit_by_staff_or_agency_is_recorded_edited_and_audited(app, factory, browser):
    base = factory.base("alpha")
    company = factory.company(base, name="晋阳软件")
    staff = factory.service_person(base, name="王辅导")
    agency = factory.agency(base, name="山西正大律师事务所", category="professional")
    browser.login(base.users["staff"])
    url = f"/b/{base.slug}/ledger/visits/new"
    values = {"company_id": company, "occurred_on": "2026-03-03", "staff_id": "", "agency_id": "",
              "people": "张律师", "purpose": "合同审查", "category": "professional", "content": "审查了两份采购合同",
              "follow_up": "下周回访"}
    refused = browser.post(url, values)
    assert field_errors(refused)["staff_id"] == ["请选择入企服务的基地人员或合作服务机构。"]
    tomorrow = (to_local(utcnow(), "Asia/Shanghai").date() + timedelta(days=1)).isoformat()
    assert field_errors(browser.post(url, values | {"agency_id": agency, "occurred_on": tomorrow}))["occurred_on"]
    assert _count(app, Visit) == 0
    response = browser.post(url, values | {"agency_id": agency})
    assert response.status_code == 302
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "合同审查" in page and "山西正大律师事务所" in page and "下周回访" in page
    edit = response.headers["Location"] + "/edit"
    browser.post(edit, values | {"agency_id": agency, "staff_id": staff, "purpose": "合同审查与培训"})
    with app.app_context(), scoped_to(base.id):
        visit = db.session.scalar(select(Visit))
        assert visit.staff_id == staff and visit.purpose == "合同审查与培训"
        change = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "visit.update"))
        assert change.before == {"staff_id": None, "purpose": "合同审查"}


def test_the_ledger_merges_every_kind_and_filters_by_date_type_category_company_and_person(app, factory, browser):
    base = factory.base("alpha")
    one = factory.company(base, name="甲公司")
    two = factory.company(base, name="乙公司")
    li = factory.service_person(base, name="李专员")
    wang = factory.service_person(base, name="王专员")
    request_id = factory.service_request(base, one, category="financing", content="融资诉求",
                                         received_at=datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc), handler_id=li)
    visit_id = factory.visit(base, two, staff_id=wang, category="coaching", occurred_on=date(2026, 4, 8))
    activity = factory.activity(base, organiser_id=li, category="training",
                                starts_at=datetime(2026, 5, 5, 6, 0, tzinfo=timezone.utc))
    factory.signin(base, activity, company_id=two)
    browser.login(base.users["mentor"])

    def shown(**query):
        page = browser.get(f"/b/{base.slug}/ledger/", query_string=query).get_data(as_text=True)
        return {key for key in (f"request-{request_id}", f"visit-{visit_id}", f"activity-{activity}")
                if f'data-entry="{key}"' in page}

    assert shown() == {f"request-{request_id}", f"visit-{visit_id}", f"activity-{activity}"}
    page = browser.get(f"/b/{base.slug}/ledger/").get_data(as_text=True)
    assert page.index(f"activity-{activity}") < page.index(f"visit-{visit_id}") < page.index(f"request-{request_id}")
    assert shown(kind="visit") == {f"visit-{visit_id}"}
    assert shown(category="financing") == {f"request-{request_id}"}
    assert shown(company=two) == {f"visit-{visit_id}", f"activity-{activity}"}  # it signed in to the activity
    assert shown(person=li) == {f"request-{request_id}", f"activity-{activity}"}
    assert shown(date_from="2026-04-01", date_to="2026-04-30") == {f"visit-{visit_id}"}
    # Unreadable filters are ignored, never an error page.
    assert browser.get(f"/b/{base.slug}/ledger/?date_from=x&company=abc&kind=zz&page=-3").status_code == 200

    rows = list(openpyxl.load_workbook(BytesIO(browser.get(f"/b/{base.slug}/ledger/export.xlsx",
                                                           query_string={"company": two}).data))
                .active.iter_rows(min_row=2, values_only=True))
    assert [(row[0], row[3]) for row in rows] == [("活动", "乙公司"), ("入企服务", "乙公司")]


def test_the_export_writes_user_text_as_text_and_links_the_files(app, factory, browser):
    base = factory.base("alpha")
    company = factory.company(base, name="=HYPERLINK(\"http://evil.example\",\"点我\")")
    factory.service_request(base, company, content="=1+2")
    activity = factory.activity(base, organiser_id=factory.service_person(base))
    file_id = factory.activity_file(base, activity, kind="notice")
    browser.login(base.owner)
    book = openpyxl.load_workbook(BytesIO(browser.get(f"/b/{base.slug}/ledger/export.xlsx").data))
    rows = list(book.active.iter_rows(min_row=2))
    request_row = next(row for row in rows if row[0].value == "服务诉求")
    assert request_row[3].value == "=HYPERLINK(\"http://evil.example\",\"点我\")" and request_row[3].data_type == "s"
    assert request_row[4].value == "=1+2" and request_row[4].data_type == "s"
    activity_row = next(row for row in rows if row[0].value == "活动")
    link = activity_row[13].hyperlink.target
    assert link.endswith(f"/b/{base.slug}/ledger/activities/{activity}/files/{file_id}")
    assert activity_row[12].value == "逾期未归档"  # March: long past its three days


def test_team_and_agencies_count_against_the_policy_minimums_on_the_dashboard(app, factory, browser):
    base = factory.base("alpha")
    browser.login(base.owner)
    team_url = f"/b/{base.slug}/ledger/team"
    # A mentor without the certificate details is refused on the fields.
    refused = browser.post(team_url, {"name": "赵老师", "is_mentor": "y", "is_active": "y"})
    assert set(field_errors(refused)) == {"certificate_issuer", "certificate_number"}
    assert _count(app, ServicePerson) == 0
    for n in range(9):
        factory.service_person(base, is_mentor=n < 3)
    readiness = f"/b/{base.slug}/filings/compliance/panel"  # the dashboard's panel, loaded after the page
    dashboard = browser.get(readiness).get_data(as_text=True)
    assert 'data-check="team" data-status="not_met"' in dashboard
    assert 'data-check="mentors" data-status="met"' in dashboard
    browser.post(team_url, {"name": "赵老师", "position": "主任", "is_active": "y"})
    for _ in range(4):
        factory.agency(base)
    factory.agency(base, ends_on=date(2025, 12, 31))  # expired: does not count
    dashboard = browser.get(readiness).get_data(as_text=True)
    assert 'data-check="team" data-status="met"' in dashboard
    assert 'data-check="agencies" data-status="not_met"' in dashboard
    page = browser.get(team_url).get_data(as_text=True)
    assert "无有效协议" in page

    # An agency with its agreement; the file is downloadable by the team only through the base.
    response = browser.client.post(f"/b/{base.slug}/ledger/agencies/new", data={
        "csrf_token": browser.csrf_token(team_url), "name": "晋财会计师事务所", "category": "professional",
        "agreement_starts_on": "2026-01-01", "agreement_ends_on": "2025-01-01", "is_active": "y",
        "agreement": (BytesIO(PDF_BYTES), "协议.pdf")}, content_type="multipart/form-data")
    assert field_errors(response)["agreement_ends_on"] == ["协议截止日期不能早于起始日期。"]
    response = browser.client.post(f"/b/{base.slug}/ledger/agencies/new", data={
        "csrf_token": browser.csrf_token(team_url), "name": "晋财会计师事务所", "category": "professional",
        "agreement_starts_on": "2026-01-01", "is_active": "y", "agreement": (BytesIO(b"MZ\x90\x00"), "协议.pdf")},
        content_type="multipart/form-data")
    assert field_errors(response)["agreement"] and _count(app, PartnerAgency) == 5
    response = browser.client.post(f"/b/{base.slug}/ledger/agencies/new", data={
        "csrf_token": browser.csrf_token(team_url), "name": "晋财会计师事务所", "category": "professional",
        "agreement_starts_on": "2026-01-01", "is_active": "y", "agreement": (BytesIO(PDF_BYTES), "协议.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    dashboard = browser.get(readiness).get_data(as_text=True)
    assert 'data-check="agencies" data-status="met"' in dashboard
    with app.app_context(), scoped_to(base.id):
        agency = db.session.scalar(select(PartnerAgency).where(PartnerAgency.name == "晋财会计师事务所"))
    download = browser.get(f"/b/{base.slug}/ledger/agencies/{agency.id}/agreement")
    assert download.status_code == 200 and download.data == PDF_BYTES


def test_a_mentor_keeps_their_own_entries_and_only_reads_the_others(app, factory, browser):
    base = factory.base("alpha")
    company = factory.company(base)
    theirs = factory.service_request(base, company, content="负责人登记的诉求")
    browser.login(base.users["mentor"])
    created = browser.post(f"/b/{base.slug}/ledger/requests/new", {
        "company_id": company, "channel": "walk_in", "category": "coaching", "received_at": _local_now_text(5),
        "content": "辅导师登记的诉求", "handler_id": ""})
    mine = created.headers["Location"]
    assert browser.get(f"{mine}/edit").status_code == 200
    other = f"/b/{base.slug}/ledger/requests/{theirs}"
    assert browser.get(other).status_code == 200 and 'id="status-form"' not in browser.get(other).get_data(as_text=True)
    assert browser.get(f"{other}/edit").status_code == 403
    assert browser.post(f"{other}/status", {"status": "closed", "resolution": "x"}, form_page=mine).status_code == 403
    assert browser.post(f"/b/{base.slug}/ledger/request/{theirs}/delete", {}, form_page=mine).status_code == 403
    with app.app_context(), scoped_to(base.id):
        entry = db.session.get(ServiceRequest, theirs)
        assert entry.status == "open" and entry.deleted_at is None


def test_a_withdrawn_entry_leaves_the_ledger_but_stays_in_the_records(app, factory, browser):
    base = factory.base("alpha")
    company = factory.company(base)
    visit = factory.visit(base, company, staff_id=factory.service_person(base))
    browser.login(base.users["staff"])
    detail = f"/b/{base.slug}/ledger/visits/{visit}"
    assert browser.post(f"/b/{base.slug}/ledger/visit/{visit}/delete", {}, form_page=detail).status_code == 302
    assert f'data-entry="visit-{visit}"' not in browser.get(f"/b/{base.slug}/ledger/").get_data(as_text=True)
    assert browser.get(detail).status_code == 404
    assert browser.post(f"/b/{base.slug}/ledger/team/{visit}/delete", {},
                        form_page=f"/b/{base.slug}/ledger/").status_code == 404
    with app.app_context(), scoped_to(base.id):
        assert as_utc(db.session.get(Visit, visit).deleted_at) <= utcnow()
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "visit.delete")) is not None


def test_the_first_answer_can_be_given_and_cannot_precede_the_request(app, factory, browser):
    base = factory.base("alpha")
    company = factory.company(base)
    browser.login(base.users["staff"])
    created = browser.post(f"/b/{base.slug}/ledger/requests/new", {
        "company_id": company, "channel": "phone", "category": "information", "received_at": _local_now_text(300),
        "content": "电话咨询政策", "handler_id": ""})
    detail = created.headers["Location"]
    early = _local_now_text(400)
    refused = browser.post(f"{detail}/status", {"status": "resolved", "responded_at": early, "resolution": "已答复"},
                           form_page=detail)
    assert field_errors(refused)["responded_at"] == ["首次响应时间不能早于受理时间。"]
    browser.post(f"{detail}/status", {"status": "resolved", "responded_at": _local_now_text(295),
                                      "resolution": "当场答复"}, form_page=detail)
    with app.app_context(), scoped_to(base.id):
        entry = db.session.scalar(select(ServiceRequest))
        assert timedelta(minutes=4) <= entry.response_time <= timedelta(minutes=6)
    # Moving the receipt after the answer is refused on the field.
    moved = browser.post(f"{detail}/edit", {"company_id": company, "channel": "phone", "category": "information",
                                            "received_at": _local_now_text(10), "content": "电话咨询政策",
                                            "handler_id": ""})
    assert "受理时间不能晚于首次响应时间" in field_errors(moved)["received_at"][0]


def test_a_mentor_linked_to_a_team_member_moves_along_the_requests_they_handle(app, factory, browser):
    base = factory.base("alpha")
    company = factory.company(base)
    factory.link_tenant(base, company)
    browser.login(base.owner)
    team = f"/b/{base.slug}/ledger/team"
    other = factory.base("bravo")
    # A login from another base is not a choice.
    refused = browser.post(team, {"name": "赵老师", "is_active": "y", "user_id": other.users["mentor"].id})
    assert field_errors(refused)["user_id"]
    browser.post(team, {"name": "赵老师", "is_active": "y", "user_id": base.users["mentor"].id})
    with app.app_context(), scoped_to(base.id):
        handler = db.session.scalar(select(ServicePerson)).id
    handled = factory.service_request(base, company, content="辅导师经办", handler_id=handler)
    unrelated = factory.service_request(base, company, content="别人经办")
    browser.logout()
    browser.login(base.users["mentor"])
    page = f"/b/{base.slug}/ledger/requests/{handled}"
    assert browser.post(f"{page}/status", {"status": "in_progress", "resolution": ""}).status_code == 302
    assert browser.get(f"/b/{base.slug}/ledger/requests/{unrelated}/edit").status_code == 403
    with app.app_context(), scoped_to(base.id):
        assert db.session.get(ServiceRequest, handled).status == "in_progress"
