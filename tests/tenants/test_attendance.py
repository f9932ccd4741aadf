"""Workstation attendance: the weekly average over China's working days, QR check-in, corrections, the sheet."""
import re
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from io import BytesIO

import openpyxl
from sqlalchemy import select

from operator_app.audit import AuditEntry
from operator_app.db import scoped_to, unscoped
from operator_app.extensions import db
from operator_app.timeutil import today_in
from operator_app.workcalendar import package_covers
from tenants import attendance_services
from tenants.attendance import compute_month
from tenants.models import Attendance, CheckInPoint

from ..helpers import field_errors


@dataclass
class P:
    id: int
    active_from: date = date(2026, 1, 1)
    deactivated_on: date | None = None


@dataclass
class C:
    id: int


def october(present, today=date(2026, 10, 31), person=None):
    person = person or P(1)
    return compute_month(2026, 10, today, [C(1)], {1: [person]}, {1: set(present)}, threshold=4).companies[0]


def test_national_day_month_by_hand(app):
    # October 2026: 1–7 off; 8, 9 and Saturday 10 worked; then 12–16, 19–23, 26–30: 18 working days.
    with app.app_context():
        working = [date(2026, 10, d) for d in (8, 9, 10, 12, 13, 14, 15, 16, 19, 20, 21, 22, 23, 26, 27, 28, 29, 30)]
        sixteen = october(working[:16])
        assert sixteen.people[0].working == working
        assert sixteen.average == Fraction(16 * 5, 18) and sixteen.status == "met"        # 4.44 days a week
        assert october(working[:14]).status == "not_met"                                  # 3.88
        # Counted Monday to Friday (22 days) the same 16 days would fail: 16 ÷ 22 × 5 = 3.63.
        assert Fraction(16 * 5, 22) < 4


def test_future_days_and_days_after_leaving_do_not_count(app):
    with app.app_context():
        # On 14 October only 8, 9, 10, 12, 13, 14 have happened: 5 of 6 → 4.16.
        midway = october([date(2026, 10, d) for d in (8, 9, 12, 13, 14)], today=date(2026, 10, 14))
        assert midway.average == Fraction(25, 6) and midway.status == "met"
        left = october([date(2026, 10, d) for d in (8, 9, 10, 12)], person=P(1, deactivated_on=date(2026, 10, 13)))
        assert len(left.people[0].working) == 4 and left.average == 5


def _workstation_company(factory, base, n=1, name=None):
    return factory.company(base, n=n, name=name or f"工位企业{n}", zone="incubation", is_workstation=True,
                           workstation_count=2)


def _today_code(app, base, point_id, days=0):
    with app.app_context(), scoped_to(base.id):
        point = db.session.get(CheckInPoint, point_id)
        return attendance_services.point_code(point, today_in("Asia/Shanghai") + timedelta(days=days))


def test_qr_check_in_once_a_day_and_yesterdays_code_is_refused(app, factory, new_browser):
    base = factory.base("alpha")
    company = _workstation_company(factory, base)
    person_id, pin = factory.person(base, company, name="李雷", phone="13911112222")
    point = factory.point(base)
    phone = new_browser()
    url = f"/p/{base.slug}/checkin/{point}/{_today_code(app, base, point)}"
    assert "首次在此手机上签到" in phone.get(url).get_data(as_text=True)
    wrong = phone.post(url, {"phone": "13911112222", "pin": "000000" if pin != "000000" else "111111"})
    assert field_errors(wrong) == {"pin": ["手机号和签到码与本基地登记的人员不符。"]}
    done = phone.post(url, {"phone": "139 1111 2222", "pin": pin})
    assert done.status_code == 200 and 'data-already="no"' in done.get_data(as_text=True)
    again = phone.get(url)  # the phone is remembered: no PIN asked, and a second check-in is refused
    assert 'data-already="yes"' in again.get_data(as_text=True) and "今天已经签到" in again.get_data(as_text=True)
    with app.app_context(), unscoped("test counts check-ins"):
        rows = db.session.scalars(select(Attendance).where(Attendance.person_id == person_id)).all()
        assert len(rows) == 1 and rows[0].source == "qr" and rows[0].checked_in_at is not None
    stale = phone.get(f"/p/{base.slug}/checkin/{point}/{_today_code(app, base, point, days=-1)}")
    assert stale.status_code == 404 and "签到码每天更换" in stale.get_data(as_text=True)
    assert phone.get(f"/p/{base.slug}/checkin/{point + 999}/{_today_code(app, base, point)}").status_code == 404
    assert phone.get(f"/p/{base.slug}/checkin/99999999999999999999/x").status_code == 404


def test_a_person_of_another_base_cannot_check_in_here(app, factory, new_browser):
    alpha, bravo = factory.base("alpha"), factory.base("bravo")
    _, pin = factory.person(bravo, _workstation_company(factory, bravo), phone="13933334444")
    point = factory.point(alpha)
    phone = new_browser()
    url = f"/p/{alpha.slug}/checkin/{point}/{_today_code(app, alpha, point)}"
    response = phone.post(url, {"phone": "13933334444", "pin": pin})
    assert "不符" in response.get_data(as_text=True)
    other_point = factory.point(bravo)
    assert phone.get(f"/p/{alpha.slug}/checkin/{other_point}/{_today_code(app, bravo, other_point)}"
                     ).status_code == 404


def test_staff_correct_a_week_and_the_correction_is_audited(app, factory, browser):
    base = factory.base("alpha")
    company = _workstation_company(factory, base)
    person_id, _ = factory.person(base, company, name="韩梅梅", active_from=date(2026, 1, 1))
    monday = date(2026, 11, 16)
    browser.login(base.users["staff"])
    page = f"/b/{base.slug}/tenants/{company}/attendance?week={monday.isoformat()}&month=2026-11"
    marks = {f"p{person_id}_{(monday + timedelta(days=n)).isoformat()}": "1" for n in range(4)}
    assert browser.post(page, {"week": monday.isoformat(), **marks}).status_code == 302
    del marks[f"p{person_id}_{(monday + timedelta(days=3)).isoformat()}"]
    assert browser.post(page, {"week": monday.isoformat(), **marks}).status_code == 302
    with app.app_context(), unscoped("test reads attendance"):
        present = db.session.scalars(select(Attendance.present_on).where(Attendance.person_id == person_id,
                                                                         Attendance.is_present.is_(True))).all()
        assert sorted(present) == [monday + timedelta(days=n) for n in range(3)]
        correction = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "attendance.correct"))
        assert correction.before["present"] is True and correction.after["present"] is False
        assert correction.user_id == base.users["staff"].id
    grid = browser.get(f"/b/{base.slug}/tenants/{company}/attendance?month=2026-11").get_data(as_text=True)
    assert re.search(rf'data-person="{person_id}">.*?<td data-days>3</td>', grid, re.S)


def test_the_monthly_sheet_has_the_marks_and_totals_and_imports_back(app, factory, browser):
    base = factory.base("alpha")
    company = _workstation_company(factory, base, name="云帆跨境")
    first, _ = factory.person(base, company, name="张三")
    second, _ = factory.person(base, company, name="李四")
    with app.test_request_context(), scoped_to(base.id):
        from tenants.models import WorkstationPerson

        for person_id, days in ((first, (2, 3, 4)), (second, (3,))):
            person = db.session.get(WorkstationPerson, person_id)
            for day in days:
                attendance_services.set_presence(person, date(2026, 11, day), True, source="staff", by=None)
        db.session.commit()
    browser.login(base.users["staff"])
    data = browser.get(f"/b/{base.slug}/tenants/attendance/sheet.xlsx?month=2026-11").data
    workbook = openpyxl.load_workbook(BytesIO(data))
    sheet = workbook["云帆跨境"]
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9
    rows = {row[0]: row for row in sheet.iter_rows(min_row=5, values_only=True) if row[0]}
    assert [day for day in range(1, 31) if rows["张三"][day] == "✓"] == [2, 3, 4] and rows["张三"][31] == 3
    assert rows["李四"][3] == "✓" and rows["李四"][31] == 1
    assert rows["在岗人数"][3] == 2 and rows["在岗人数"][31] == 4
    # Mark Li Si on the 5th and import the sheet back.
    for row in sheet.iter_rows(min_row=5):
        if row[0].value == "李四":
            row[5].value = "✓"
    edited = BytesIO()
    workbook.save(edited)
    page = f"/b/{base.slug}/tenants/attendance/import"
    token = browser.csrf_token(page)
    response = browser.client.post(page, data={"csrf_token": token, "month": "2026-11",
                                               "file": (BytesIO(edited.getvalue()), "sheet.xlsx")})
    assert response.status_code == 302
    with app.app_context(), unscoped("test reads attendance"):
        days = db.session.scalars(select(Attendance.present_on).where(Attendance.person_id == second,
                                                                      Attendance.is_present.is_(True))).all()
        assert sorted(days) == [date(2026, 11, 3), date(2026, 11, 5)]


def test_a_bad_sheet_imports_nothing_and_says_why(app, factory, browser):
    base = factory.base("alpha")
    company = _workstation_company(factory, base, name="云帆跨境")
    factory.person(base, company, name="张三")
    browser.login(base.users["staff"])
    month = today_in("Asia/Shanghai").strftime("%Y-%m")
    workbook = openpyxl.load_workbook(BytesIO(browser.get(
        f"/b/{base.slug}/tenants/attendance/sheet.xlsx?month={month}").data))
    sheet = workbook["云帆跨境"]
    sheet["A6"] = "张三"          # a duplicate row
    sheet["A7"] = "王五"          # not registered
    last_day = sheet.cell(row=4, column=sheet.max_column - 1).value
    tomorrow = today_in("Asia/Shanghai") + timedelta(days=1)
    if tomorrow.month == today_in("Asia/Shanghai").month:
        sheet.cell(row=5, column=tomorrow.day + 1).value = "✓"   # a future day
    sheet.cell(row=5, column=2).value = "maybe"
    edited = BytesIO()
    workbook.save(edited)
    page = f"/b/{base.slug}/tenants/attendance/import"
    token = browser.csrf_token(page)
    response = browser.client.post(page, data={"csrf_token": token, "month": month,
                                               "file": (BytesIO(edited.getvalue()), "sheet.xlsx")})
    text = response.get_data(as_text=True)
    assert response.status_code == 422 and last_day
    assert "重复出现" in text and "王五 不是该企业登记的工位人员" in text and "不是有效标记" in text
    with app.app_context(), unscoped("test counts"):
        assert db.session.scalar(select(Attendance.id)) is None
    broken = browser.client.post(page, data={"csrf_token": token, "month": month,
                                             "file": (BytesIO(b"not a workbook"), "x.xlsx")})
    assert broken.status_code == 422 and "不是 Excel 工作簿" in broken.get_data(as_text=True)


def test_the_month_page_and_dashboard_list_companies_below_the_threshold(app, factory, browser):
    base = factory.base("alpha")
    idle = _workstation_company(factory, base, n=1, name="很少来的企业")
    factory.person(base, idle, active_from=date(2020, 1, 1))
    browser.login(base.owner)
    today = today_in("Asia/Shanghai")
    last_month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    page = browser.get(f"/b/{base.slug}/tenants/attendance?month={last_month}").get_data(as_text=True)
    assert re.search(rf'data-company="{idle}" data-status="not_met"', page)
    # This month: listed on the dashboard exactly when the month page says "not met" (on the month's first
    # working day, before anyone checks in, nothing is decided yet).
    this_month = browser.get(f"/b/{base.slug}/tenants/attendance").get_data(as_text=True)
    below = bool(re.search(rf'data-company="{idle}" data-status="not_met"', this_month))
    dashboard = browser.get(f"/b/{base.slug}/").get_data(as_text=True)
    assert ("很少来的企业" in dashboard[dashboard.index('id="attendance-panel"'):]) == below
    assert browser.post(f"/b/{base.slug}/tenants/attendance/settings", {"attendance_days": "9"},
                        form_page=f"/b/{base.slug}/tenants/attendance", follow_redirects=True).status_code == 200


def test_a_year_the_calendar_does_not_know_is_counted_monday_to_friday_with_a_notice(app, factory, browser):
    year = next(year for year in range(2026, 2100) if not package_covers(year))
    base = factory.base("alpha")
    company = _workstation_company(factory, base)
    factory.person(base, company, active_from=date(2026, 1, 1))
    browser.login(base.users["staff"])
    response = browser.get(f"/b/{base.slug}/tenants/attendance?month={year}-01")
    assert response.status_code == 200 and 'data-warning="calendar-fallback"' in response.get_data(as_text=True)


def test_a_tenant_contact_keeps_its_own_people_only(app, factory, browser):
    base = factory.base("alpha")
    own, other = _workstation_company(factory, base, n=1), _workstation_company(factory, base, n=2)
    factory.link_tenant(base, own)
    other_person, _ = factory.person(base, other)
    browser.login(base.users["tenant"])
    response = browser.post(f"/b/{base.slug}/tenants/{own}/people", {"name": "自己人", "phone": "13855556666"})
    assert response.status_code == 200 and re.search(r"data-pin>\d{6}<", response.get_data(as_text=True))
    assert browser.get(f"/b/{base.slug}/tenants/{other}/people").status_code == 404
    assert browser.post(f"/b/{base.slug}/tenants/{other}/people/{other_person}/deactivate",
                        form_page=f"/b/{base.slug}/tenants/{own}/people").status_code == 404
    assert browser.get(f"/b/{base.slug}/tenants/{other}/attendance").status_code == 404
    assert browser.get(f"/b/{base.slug}/tenants/attendance").status_code == 403
    duplicate = browser.post(f"/b/{base.slug}/tenants/{own}/people", {"name": "重复", "phone": "13855556666"})
    assert field_errors(duplicate) == {"phone": ["本基地已有人员使用此手机号登记。"]}
    bad = browser.post(f"/b/{base.slug}/tenants/{own}/people", {"name": "号码错", "phone": "12345"})
    assert field_errors(bad) == {"phone": ["请输入 11 位手机号码。"]}


def test_today_is_open_until_the_person_comes_and_weekend_days_do_not_count(app):
    with app.app_context():
        # Monday 12 October 2026, nobody in yet: the day is not an absence.
        morning = october(set(), today=date(2026, 10, 12))
        assert morning.people[0].working[-1] == date(2026, 10, 10)
        came = october({date(2026, 10, 12)}, today=date(2026, 10, 12))
        assert came.people[0].working[-1] == date(2026, 10, 12) and came.people[0].days_on_site == 1
        weekend = october({date(2026, 10, 17), date(2026, 10, 18)}, today=date(2026, 10, 19))
        assert weekend.people[0].days_on_site == 0


def test_odd_inputs_get_answers_not_errors(app, factory, browser, new_browser):
    base = factory.base("alpha")
    company = factory.company(base, n=1, name="'引号'公司", zone="incubation", is_workstation=True,
                              workstation_count=1)
    factory.company(base, n=2, name="ABC", zone="incubation", is_workstation=True, workstation_count=1)
    factory.company(base, n=3, name="abc", zone="incubation", is_workstation=True, workstation_count=1)
    point = factory.point(base)
    assert new_browser().get(f"/p/{base.slug}/checkin/{point}/%C3%A9").status_code == 404
    browser.login(base.users["staff"])
    for week in ("9999-12-31", "0001-01-03", "nonsense"):
        assert browser.get(f"/b/{base.slug}/tenants/{company}/attendance?week={week}").status_code == 200
    sheet = browser.get(f"/b/{base.slug}/tenants/attendance/sheet.xlsx")
    assert sheet.status_code == 200
    assert len(openpyxl.load_workbook(BytesIO(sheet.data)).sheetnames) == 3


def test_an_import_for_the_wrong_month_and_a_grid_save_after_a_check_in(app, factory, browser, new_browser):
    base = factory.base("alpha")
    company = _workstation_company(factory, base)
    person_id, pin = factory.person(base, company, phone="13966667777", active_from=date(2026, 1, 1))
    browser.login(base.users["staff"])
    november = browser.get(f"/b/{base.slug}/tenants/attendance/sheet.xlsx?month=2026-11").data
    page = f"/b/{base.slug}/tenants/attendance/import"
    response = browser.client.post(page, data={"csrf_token": browser.csrf_token(page), "month": "2026-10",
                                               "file": (BytesIO(november), "sheet.xlsx")})
    assert response.status_code == 422 and "不是 2026-10 的考勤表" in response.get_data(as_text=True)
    # Staff open this week's grid; the person checks in meanwhile; staff save without touching that cell.
    today = today_in("Asia/Shanghai")
    grid = f"/b/{base.slug}/tenants/{company}/attendance?week={today.isoformat()}"
    loaded = browser.hidden_fields(grid)
    point = factory.point(base)
    new_browser().post(f"/p/{base.slug}/checkin/{point}/{_today_code(app, base, point)}",
                       {"phone": "13966667777", "pin": pin})
    assert browser.client.post(grid, data=loaded).status_code == 302
    with app.app_context(), unscoped("test reads attendance"):
        assert db.session.scalar(select(Attendance.is_present).where(Attendance.person_id == person_id,
                                                                     Attendance.present_on == today)) is True
