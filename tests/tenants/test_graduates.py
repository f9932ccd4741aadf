"""Graduates and their three-year follow-ups: the schedule from the exit date, the daily job, overdue from the
dates, the graduate's own answers, the staff's phone answers and corrections, the graduates page, bad input."""
from datetime import date, datetime, timedelta, timezone

import pytest
from html import unescape

from sqlalchemy import func, select

from operator_app.accounts.models import Base, User
from operator_app.audit import AuditEntry
from operator_app.db import scoped_to, unscoped
from operator_app.extensions import db
from operator_app.scheduler import run_job
from operator_app.timeutil import today_in
from tenants import followup_services as services
from tenants import services as tenant_services
from tenants.followup_jobs import FOLLOWUP_JOB
from tenants.followups import GraduateFollowUp, due_dates
from tenants.models import TenantCompany
from operator_app.timeutil import add_months
from tenants.rules import rules_of

from ..helpers import field_errors

OPERATING = {"operating_status": "operating", "revenue_yuan": "12345678.90", "tax_yuan": "456789.01",
             "employees": "38", "milestones": "2026年获评高新技术企业", "notes": ""}


def _today():
    return today_in("Asia/Shanghai")


def _shown(app, msgid, **values):
    """``msgid`` in the pages' default language (Chinese)."""
    from flask_babel import gettext

    with app.test_request_context():
        return gettext(msgid, **values)


def _errors(response):
    """The messages under each field, as the person reads them."""
    return {name: [unescape(message) for message in messages]
            for name, messages in field_errors(response).items()}


ANSWERED_ALREADY = "This follow-up has been answered already. To change the answer, ask the base's staff."
NOT_OPEN_YET = "This follow-up is due on %(due)s and can be answered from %(opens)s."


def _graduate(app, factory, base, left_on, *, today=None, name=None, moved_in_on=date(2019, 3, 1)):
    """A company that moved in and graduated on ``left_on`` through the exit service (recorded on ``today``,
    default the day it left); returns its id."""
    company_id = factory.company(base, moved_in_on=moved_in_on, **({"name": name} if name else {}))
    with app.test_request_context(), scoped_to(base.id):
        owner = db.session.get(User, base.owner.id)
        company = db.session.get(TenantCompany, company_id)
        tenant_services.record_exit(company, reason="graduation", exit_on=left_on, today=today or left_on,
                                    keys_returned=True, rent_settled=True, deposit_settled=True, notes="", by=owner)
        db.session.commit()
    return company_id


def _imported_graduate(app, factory, base, left_on, name=None):
    """A graduate written straight into the files (as a roster import of earlier graduates would): no follow-ups."""
    company_id = factory.company(base, moved_in_on=date(2018, 1, 1), **({"name": name} if name else {}))
    with app.app_context(), scoped_to(base.id):
        company = db.session.get(TenantCompany, company_id)
        company.status, company.moved_out_on = "graduated", left_on
        db.session.commit()
    return company_id


def _followups(app, base, company_id=None):
    with app.app_context(), scoped_to(base.id):
        statement = select(GraduateFollowUp).order_by(GraduateFollowUp.company_id, GraduateFollowUp.due_on)
        if company_id is not None:
            statement = statement.where(GraduateFollowUp.company_id == company_id)
        rows = db.session.scalars(statement).all()
        db.session.expunge_all()
        return rows


def _audits(app, action):
    with app.app_context(), unscoped("the test counts audit entries of every base"):
        return db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == action))


def _last_31_august():
    today = _today()
    year = today.year if (today.month, today.day) >= (8, 31) else today.year - 1
    return date(year, 8, 31)


# --- The schedule -------------------------------------------------------------------------------------------------

def test_the_dates_run_every_six_months_for_three_years_clamped_to_the_month_end():
    assert due_dates(date(2026, 8, 31), 6, 3) == [date(2027, 2, 28), date(2027, 8, 31), date(2028, 2, 29),
                                                   date(2028, 8, 31), date(2029, 2, 28), date(2029, 8, 31)]
    assert due_dates(date(2024, 2, 29), 6, 3)[-1] == date(2027, 2, 28)
    assert due_dates(date(2026, 1, 15), 4, 1) == [date(2026, 5, 15), date(2026, 9, 15), date(2027, 1, 15)]
    assert due_dates(None, 6, 3) == [] and due_dates(date(2026, 1, 1), 0, 3) == []


def test_graduating_on_the_exit_page_schedules_six_follow_ups_once(app, factory, browser):
    base = factory.base("alpha")
    left = _last_31_august()
    company_id = factory.company(base, moved_in_on=date(2020, 5, 1))
    browser.login(base.users["staff"])
    response = browser.post(f"/b/{base.slug}/tenants/{company_id}/exit",
                            {"reason": "graduation", "exit_on": left.isoformat(), "keys_returned": "y"})
    assert response.status_code == 302
    rows = _followups(app, base, company_id)
    assert [(row.sequence, row.due_on) for row in rows] == [
        (n + 1, add_months(left, 6 * (n + 1))) for n in range(6)]
    assert rows[0].due_on == date(left.year + 1, 2, 29 if (left.year + 1) % 4 == 0 else 28)
    assert rows[-1].due_on == date(left.year + 3, 8, 31)  # the last day of the three years, none after
    assert not any(row.is_answered for row in rows)
    # Calling it again (the job, a retried request) makes nothing new.
    with app.test_request_context(), scoped_to(base.id):
        assert services.schedule_for(db.session.get(TenantCompany, company_id)) == []
        db.session.commit()
    assert len(_followups(app, base, company_id)) == 6
    assert _audits(app, "followup.schedule") == 1
    # The company file shows the section, the follow-up page lists them.
    page = browser.get(f"/b/{base.slug}/tenants/{company_id}").get_data(as_text=True)
    assert 'id="company-followups"' in page and page.count("data-company-followup=") == 6
    assert browser.get(f"/b/{base.slug}/tenants/{company_id}/followups").get_data(as_text=True).count(
        "data-followup=") == 6


def test_a_plain_exit_and_an_ended_tracking_schedule_nothing(app, factory):
    base = factory.base("alpha")
    plain = factory.company(base, moved_in_on=date(2024, 1, 1))
    with app.test_request_context(), scoped_to(base.id):
        tenant_services.record_exit(db.session.get(TenantCompany, plain), reason="voluntary",
                                    exit_on=date(2026, 1, 10), today=date(2026, 11, 23), keys_returned=True,
                                    rent_settled=True, deposit_settled=True, notes="", by=db.session.get(
                                        User, base.owner.id))
        db.session.commit()
    old = _imported_graduate(app, factory, base, date(2022, 6, 1))
    with app.test_request_context(), scoped_to(base.id):
        # Tracked until 2025-06-01: on 2026-11-23 nothing new is scheduled.
        assert services.schedule_for(db.session.get(TenantCompany, old), today=date(2026, 11, 23)) == []
        # The last day of the tracking still schedules (the last follow-up is due that day).
        assert len(services.schedule_for(db.session.get(TenantCompany, old), today=date(2025, 6, 1))) == 6
        db.session.rollback()
    assert _followups(app, base) == []


def test_the_base_settings_set_the_interval_and_a_longer_tracking_extends_the_schedule(app, factory):
    base = factory.base("alpha")
    with app.test_request_context(), scoped_to(base.id):
        rules = rules_of(db.session.get(Base, base.id))
        rules.followup_interval_months, rules.followup_years = 12, 2
        db.session.commit()
    company_id = _graduate(app, factory, base, date(2026, 3, 31))
    assert [row.due_on for row in _followups(app, base)] == [date(2027, 3, 31), date(2028, 3, 31)]
    with app.test_request_context(), scoped_to(base.id):
        rules = rules_of(db.session.get(Base, base.id))
        rules.followup_years = 3
        services.schedule_for(db.session.get(TenantCompany, company_id), today=date(2026, 11, 23))
        db.session.commit()
    assert [(row.sequence, row.due_on) for row in _followups(app, base)] == [
        (1, date(2027, 3, 31)), (2, date(2028, 3, 31)), (3, date(2029, 3, 31))]


# --- The daily job and overdue ------------------------------------------------------------------------------------

NIGHT = datetime(2026, 11, 22, 17, 20, tzinfo=timezone.utc)  # 01:20 on 23 November 2026 in Shanghai


def test_the_daily_job_schedules_missing_follow_ups_and_marks_overdue_once(app, factory):
    base = factory.base("alpha")
    other = factory.base("bravo")
    imported = _imported_graduate(app, factory, base, date(2025, 8, 31))  # due 2026-02-28 and 2026-08-31: past
    scheduled = _graduate(app, factory, base, date(2026, 6, 30))  # first due 2026-12-30: not overdue
    ended = _imported_graduate(app, factory, base, date(2021, 5, 1))  # tracking ended in 2024
    foreign = _imported_graduate(app, factory, other, date(2025, 8, 31))
    assert len(_followups(app, base, scheduled)) == 6 and _followups(app, base, imported) == []

    with app.app_context():
        result = run_job(FOLLOWUP_JOB, now=NIGHT)
        assert sorted(result.done) == sorted([base.id, other.id])
        assert run_job(FOLLOWUP_JOB, now=NIGHT).skipped == sorted([base.id, other.id])  # claimed: done once

    rows = _followups(app, base, imported)
    assert [row.due_on for row in rows][:3] == [date(2026, 2, 28), date(2026, 8, 31), date(2027, 2, 28)]
    assert len(rows) == 6 and _followups(app, base, ended) == []
    # The first closed unanswered when the second fell due (missed, not overdue); the second is overdue.
    assert [row.overdue_at is not None for row in rows] == [False, True, False, False, False, False]
    assert rows[0].is_missed(date(2026, 11, 23)) and rows[1].is_overdue(date(2026, 11, 23))
    assert all(row.overdue_at is None for row in _followups(app, base, scheduled))
    assert len(_followups(app, other, foreign)) == 6  # each base's graduates, in its own run
    assert _audits(app, "followup.overdue") == 2  # one in each base, once
    assert _audits(app, "followup.schedule") == 2 + 1  # the two imported graduates, and the one graduated

    # The work itself is idempotent too: run again without the claim, it finds nothing left to do.
    with app.app_context(), scoped_to(base.id):
        scheduled_again, marked_again = services.daily_work(db.session.get(Base, base.id), NIGHT)
        assert scheduled_again == [] and marked_again == []
        db.session.commit()
    assert _audits(app, "followup.overdue") == 2 and len(_followups(app, base, imported)) == 6

    # The next night's run marks only what became overdue since.
    with app.app_context():
        assert base.id in run_job(FOLLOWUP_JOB, now=datetime(2027, 3, 1, 17, 20, tzinfo=timezone.utc)).done
    # Here the imported graduate's 2027-02-28 and the other's 2026-12-30; in bravo its 2027-02-28.
    assert _audits(app, "followup.overdue") == 2 + 2 + 1


def test_overdue_is_decided_from_the_dates_and_closes_when_the_next_falls_due(app, factory):
    base = factory.base("alpha")
    company_id = _graduate(app, factory, base, date(2025, 8, 31), today=date(2025, 9, 1))
    with app.test_request_context(), scoped_to(base.id):
        def overdue(day):
            return [followup.due_on for followup in services.overdue_followups(day)]

        assert overdue(date(2026, 2, 28)) == []  # due today: not yet overdue
        assert overdue(date(2026, 3, 1)) == [date(2026, 2, 28)]  # no job has run: the dates decide
        assert overdue(date(2026, 8, 31)) == []  # the first closed when the second fell due
        assert overdue(date(2026, 9, 1)) == [date(2026, 8, 31)]
        first, second, *rest = db.session.scalars(select(GraduateFollowUp).where(
            GraduateFollowUp.company_id == company_id).order_by(GraduateFollowUp.due_on)).all()
        # The last, due the day tracking ends (31 August 2028), closes 60 days later, not when a seventh would.
        assert first.closes_on == date(2026, 8, 31) and rest[-1].closes_on == date(2028, 10, 30)
        assert overdue(date(2028, 10, 29)) == [date(2028, 8, 31)] and overdue(date(2028, 10, 30)) == []
        assert first.overdue_at is None and first.is_missed(date(2026, 9, 1)) and not first.is_open(date(2026, 9, 1))
        assert second.is_open(date(2026, 8, 1)) and not second.is_open(date(2026, 7, 31))  # 30 days before
        # The contact cannot answer a closed follow-up; staff may still record it from a phone call.
        tenant = db.session.get(User, base.users["tenant"].id)
        with pytest.raises(services.FollowUpError):
            services.answer(first, {"operating_status": "closed"}, today=date(2026, 9, 1), by=tenant, by_phone=False)
        services.answer(second, {"operating_status": "closed"}, today=date(2026, 9, 1),
                        by=db.session.get(User, base.owner.id), by_phone=True)
        services.answer(first, {"operating_status": "closed"}, today=date(2026, 9, 1),
                        by=db.session.get(User, base.owner.id), by_phone=True)
        assert overdue(date(2026, 9, 1)) == [] and not first.is_missed(date(2026, 9, 1))
        db.session.rollback()


# --- The graduate answers from its portal ------------------------------------------------------------------------

def _open_graduate(app, factory, base, name=None):
    """A graduate that left seven months ago: its first follow-up is a month overdue, the rest to come."""
    left = add_months(_today(), -7)
    return _graduate(app, factory, base, left, today=_today(), name=name)


def test_the_graduate_answers_its_follow_up_from_the_portal(app, factory, browser):
    base = factory.base("alpha")
    company_id = _open_graduate(app, factory, base)
    factory.link_tenant(base, company_id)
    first, second = _followups(app, base, company_id)[:2]
    browser.login(base.users["tenant"])
    page = browser.get(f"/b/{base.slug}/tenants/followups/mine")
    page_html = page.get_data(as_text=True)
    assert page.status_code == 200 and f'name="followup" value="{first.id}"' in page_html
    assert page_html.count('data-state="overdue"') == 2  # the form's title and the list
    file_page = browser.get(f"/b/{base.slug}/tenants/{company_id}").get_data(as_text=True)
    assert 'id="company-followups"' in file_page and "/tenants/followups/mine" in file_page
    response = browser.post(f"/b/{base.slug}/tenants/followups/mine", {**OPERATING, "followup": str(first.id)})
    assert response.status_code == 302
    answered = _followups(app, base, company_id)[0]
    assert (answered.operating_status, answered.revenue_fen, answered.tax_fen, answered.employees) == (
        "operating", 1234567890, 45678901, 38)
    assert answered.by_phone is False and answered.answered_by_id == base.users["tenant"].id
    assert answered.answered_at is not None and answered.milestones == "2026年获评高新技术企业"
    page_html = browser.get(f"/b/{base.slug}/tenants/followups/mine").get_data(as_text=True)
    assert "1234.57" in page_html and "45.68" in page_html
    assert 'name="followup"' not in page_html  # nothing else is open yet

    # Answering again is refused on the page, nothing changes.
    again = browser.post(f"/b/{base.slug}/tenants/followups/mine",
                         {**OPERATING, "revenue_yuan": "1", "followup": str(first.id)})
    assert again.status_code == 200 and _errors(again)["followup"] == [_shown(app, ANSWERED_ALREADY)]
    assert _followups(app, base, company_id)[0].revenue_fen == 1234567890
    # A follow-up due in five months cannot be answered yet (it opens 30 days before its date).
    early = browser.post(f"/b/{base.slug}/tenants/followups/mine", {**OPERATING, "followup": str(second.id)},
                         form_page=f"/b/{base.slug}/tenants/followups/mine")
    assert early.status_code == 200 and _errors(early)["followup"] == [
        _shown(app, NOT_OPEN_YET, due=second.due_on.isoformat(),
               opens=(second.due_on - timedelta(days=30)).isoformat())]
    assert _followups(app, base, company_id)[1].answered_at is None
    assert browser.get(f"/b/{base.slug}/tenants/{company_id}/followups").status_code == 403
    assert browser.get(f"/b/{base.slug}/tenants/followups/{first.id}/record").status_code == 403


def test_a_graduate_never_sees_or_answers_another_companys_follow_ups(app, factory, browser):
    base = factory.base("alpha")
    own = _open_graduate(app, factory, base, name="自己的公司")
    other = _open_graduate(app, factory, base, name="别人的公司")
    elsewhere = factory.base("bravo")
    foreign = _open_graduate(app, factory, elsewhere, name="外基地公司")
    factory.link_tenant(base, own)
    browser.login(base.users["tenant"])
    mine = f"/b/{base.slug}/tenants/followups/mine"
    page_html = browser.get(mine).get_data(as_text=True)
    assert "自己的公司" in page_html and "别人的公司" not in page_html
    for followup in (_followups(app, base, other)[0], _followups(app, elsewhere, foreign)[0]):
        response = browser.post(mine, {**OPERATING, "followup": str(followup.id)})
        assert response.status_code == 404
    assert browser.post(mine, {**OPERATING, "followup": "x"}).status_code == 404
    assert browser.get(f"/b/{base.slug}/tenants/{other}").status_code == 404
    assert all(row.answered_at is None for row in _followups(app, base, other) + _followups(app, elsewhere))
    # Another base's page is not found at all.
    assert browser.get(f"/b/{elsewhere.slug}/tenants/followups/mine").status_code == 404


def test_a_contact_of_a_company_in_residence_has_no_follow_ups_yet(app, factory, browser):
    base = factory.base("alpha")
    factory.link_tenant(base, factory.company(base))
    browser.login(base.users["tenant"])
    page = browser.get(f"/b/{base.slug}/tenants/followups/mine")
    assert page.status_code == 200 and _shown(app, "Follow-ups start when your company graduates from the base.") \
        in page.get_data(as_text=True)
    empty = browser.post(f"/b/{base.slug}/tenants/followups/mine", {})
    assert empty.status_code == 200 and _errors(empty)["followup"]


# --- Staff: phone answers, corrections, lists ----------------------------------------------------------------------

def test_staff_record_a_phone_answer_and_corrections_are_audited(app, factory, browser):
    base = factory.base("alpha")
    company_id = _open_graduate(app, factory, base)
    first = _followups(app, base, company_id)[0]
    company_page = f"/b/{base.slug}/tenants/{company_id}/followups"
    record = f"/b/{base.slug}/tenants/followups/{first.id}/record"

    browser.login(base.users["mentor"])
    page_html = browser.get(company_page).get_data(as_text=True)
    assert 'data-state="overdue"' in page_html and 'id="phone-answer"' not in page_html  # mentors read only
    assert browser.get(record).status_code == 403
    browser.logout()

    browser.login(base.users["staff"])
    page_html = browser.get(company_page).get_data(as_text=True)
    assert 'id="phone-answer"' in page_html and f"/followups/{first.id}/record" in page_html
    response = browser.post(record, {**OPERATING, "revenue_yuan": "800000", "tax_yuan": "24000.5",
                                     "employees": "12", "milestones": "完成天使轮融资 500 万元"},
                            form_page=company_page)
    assert response.status_code == 302
    answered = _followups(app, base, company_id)[0]
    assert answered.by_phone is True and answered.answered_by_id == base.users["staff"].id
    assert (answered.revenue_fen, answered.tax_fen, answered.employees) == (80000000, 2400050, 12)
    assert 'data-by-phone="yes"' in browser.get(company_page).get_data(as_text=True)
    assert _audits(app, "followup.answer") == 1

    # A correction: the form comes filled with the answer; the change is audited before and after.
    form_page = browser.get(record).get_data(as_text=True)
    assert 'value="800000.00"' in form_page and "完成天使轮融资" in form_page
    corrected = browser.post(record, {**OPERATING, "revenue_yuan": "850000", "tax_yuan": "24000.5",
                                      "employees": "12", "milestones": "完成天使轮融资 500 万元"})
    assert corrected.status_code == 302
    assert _followups(app, base, company_id)[0].revenue_fen == 85000000
    with app.app_context(), unscoped("the test reads the audit log"):
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "followup.correct"))
        assert entry.before == {"revenue_fen": 80000000} and entry.after == {"revenue_fen": 85000000}
        assert entry.user_id == base.users["staff"].id and entry.base_id == base.id

    # The overdue list and the dashboard no longer name it; the second one is not overdue.
    assert f'data-overdue="{first.id}"' not in browser.get(f"/b/{base.slug}/tenants/followups/overdue").get_data(
        as_text=True)
    assert "data-overdue-followup=" not in browser.get(f"/b/{base.slug}/").get_data(as_text=True)


def test_overdue_follow_ups_are_listed_and_on_the_dashboard(app, factory, browser):
    base = factory.base("alpha")
    company_id = _open_graduate(app, factory, base, name="逾期的毕业企业")
    first = _followups(app, base, company_id)[0]
    browser.login(base.users["mentor"])
    page_html = browser.get(f"/b/{base.slug}/tenants/followups/overdue").get_data(as_text=True)
    assert f'data-overdue="{first.id}"' in page_html and "逾期的毕业企业" in page_html
    assert "/record" not in page_html  # a mentor reads, does not record
    assert f'data-overdue-followup="{first.id}"' in browser.get(f"/b/{base.slug}/").get_data(as_text=True)


def test_the_graduates_page_groups_by_year_with_the_latest_figures_in_wan_yuan(app, factory, browser):
    base = factory.base("alpha")
    recent = _open_graduate(app, factory, base, name="近期毕业公司")
    older = _graduate(app, factory, base, date(2022, 7, 15), name="早期毕业公司")  # followed until 2025-07-15
    factory.milestone(base, recent, kind="high_tech", title="认定为高新技术企业")
    with app.test_request_context(), scoped_to(base.id):
        staff = db.session.get(User, base.users["staff"].id)
        first_old, second_old = db.session.scalars(select(GraduateFollowUp).where(
            GraduateFollowUp.company_id == older).order_by(GraduateFollowUp.due_on)).all()[:2]
        services.answer(first_old, {"operating_status": "operating", "revenue_fen": 500000000, "tax_fen": 1000000,
                                    "employees": 20, "milestones": "获得发明专利 2 项"}, today=date(2023, 1, 15),
                        by=staff, by_phone=True)
        services.answer(second_old, {"operating_status": "growing", "revenue_fen": 1234567890, "tax_fen": 45678901,
                                     "employees": 45, "milestones": ""}, today=date(2023, 7, 15), by=staff,
                        by_phone=True)
        db.session.commit()
    browser.login(base.users["mentor"])
    page_html = browser.get(f"/b/{base.slug}/tenants/graduates").get_data(as_text=True)
    this_year, older_year = add_months(_today(), -7).year, 2022
    assert page_html.index(f'data-cohort="{this_year}"') < page_html.index(f'data-cohort="{older_year}"')
    older_row = page_html[page_html.index(f'data-graduate="{older}"'):]
    older_row = older_row[:older_row.index("</tr>")]
    assert 'data-tracking="ended"' in older_row and "2025-07-15" in older_row
    assert 'data-missed-count="4"' in older_row and "data-overdue-count" not in older_row
    assert 'data-figure="revenue">1234.57<' in older_row and 'data-figure="tax">45.68<' in older_row
    assert 'data-figure="employees">45<' in older_row and _shown(app, "Growing fast") in older_row
    assert "获得发明专利 2 项" in older_row  # the latest answer that named a milestone
    recent_row = page_html[page_html.index(f'data-graduate="{recent}"'):]
    recent_row = recent_row[:recent_row.index("</tr>")]
    assert 'data-tracking="followed"' in recent_row and "认定为高新技术企业" in recent_row
    assert f'data-next="{add_months(add_months(_today(), -7), 6)}"' in recent_row
    assert 'data-overdue-count="1"' in recent_row
    assert 'data-figure="followed">1<' in page_html and 'data-figure="ended">1<' in page_html


# --- Bad input -----------------------------------------------------------------------------------------------------

AMOUNT = "Enter an amount from 0 to 10,000,000,000 yuan."
WHOLE = "Enter a whole number from 0 to 100,000."
STATUS = "Choose how the company is doing."


@pytest.mark.parametrize("change, field, message", [
    ({"revenue_yuan": "-1"}, "revenue_yuan", AMOUNT),
    ({"tax_yuan": "100000000000"}, "tax_yuan", AMOUNT),
    ({"revenue_yuan": "一百万"}, "revenue_yuan", "Enter a number."),
    ({"tax_yuan": "NaN"}, "tax_yuan", "Enter a number."),
    ({"employees": "abc"}, "employees", WHOLE),
    ({"employees": "-3"}, "employees", WHOLE),
    ({"employees": "1000000"}, "employees", WHOLE),
    ({"operating_status": "bankrupt"}, "operating_status", STATUS),
    ({"operating_status": ""}, "operating_status", STATUS),
    ({"revenue_yuan": ""}, "revenue_yuan", "Enter the figure (0 if there is none)."),
    ({"milestones": "融资" * 1001}, "milestones", None),
])
def test_bad_answers_are_refused_on_their_field_and_nothing_is_written(app, factory, browser, change, field,
                                                                        message):
    base = factory.base("alpha")
    company_id = _open_graduate(app, factory, base)
    factory.link_tenant(base, company_id)
    first = _followups(app, base, company_id)[0]
    browser.login(base.users["tenant"])
    response = browser.post(f"/b/{base.slug}/tenants/followups/mine",
                            {**OPERATING, **change, "followup": str(first.id)})
    expected = [_shown(app, message)] if message else None
    errors = _errors(response)
    assert response.status_code == 200 and errors.get(field) and errors[field] == (expected or errors[field]), errors
    assert _followups(app, base, company_id)[0].answered_at is None
    assert _audits(app, "followup.answer") == 0
    # The same on the staff's phone page.
    browser.logout()
    browser.login(base.users["staff"])
    response = browser.post(f"/b/{base.slug}/tenants/followups/{first.id}/record", {**OPERATING, **change})
    errors = _errors(response)
    assert response.status_code == 200 and errors.get(field) and errors[field] == (expected or errors[field]), errors
    assert _followups(app, base, company_id)[0].answered_at is None


def test_a_closed_company_answers_without_figures(app, factory, browser):
    base = factory.base("alpha")
    company_id = _open_graduate(app, factory, base)
    first = _followups(app, base, company_id)[0]
    browser.login(base.users["staff"])
    response = browser.post(f"/b/{base.slug}/tenants/followups/{first.id}/record",
                            {"operating_status": "closed", "notes": "2026 年 9 月已注销"})
    assert response.status_code == 302
    answered = _followups(app, base, company_id)[0]
    assert (answered.operating_status, answered.revenue_fen, answered.employees) == ("closed", None, None)


def test_staff_cannot_record_a_follow_up_long_before_it_is_due(app, factory, browser):
    base = factory.base("alpha")
    company_id = _open_graduate(app, factory, base)
    later = _followups(app, base, company_id)[3]
    browser.login(base.users["staff"])
    record = f"/b/{base.slug}/tenants/followups/{later.id}/record"
    refusal = _shown(app, NOT_OPEN_YET, due=later.due_on.isoformat(),
                     opens=(later.due_on - timedelta(days=30)).isoformat())
    assert refusal in unescape(browser.get(record).get_data(as_text=True))
    response = browser.post(record, OPERATING)
    assert response.status_code == 200 and _errors(response)["followup"] == [refusal]
    assert _followups(app, base, company_id)[3].answered_at is None
    # Another base's follow-up under this base's address is not found.
    other = factory.base("bravo")
    foreign = _followups(app, other, _open_graduate(app, factory, other))[0]
    assert browser.get(f"/b/{base.slug}/tenants/followups/{foreign.id}/record").status_code == 404
    assert browser.post(f"/b/{base.slug}/tenants/followups/{foreign.id}/record", OPERATING,
                        form_page=record).status_code == 404
    assert _followups(app, other)[0].answered_at is None


# --- Review findings ------------------------------------------------------------------------------------------

def test_a_phone_answer_saved_meanwhile_is_never_overwritten(app, factory, browser, new_browser):
    base = factory.base("alpha")
    company_id = _graduate(app, factory, base, date(2025, 8, 31), today=date(2025, 9, 1))
    first = _followups(app, base, company_id)[0]
    url = f"/b/{base.slug}/tenants/followups/{first.id}/record"
    values = {"operating_status": "growing", "revenue_yuan": "50000", "tax_yuan": "2000", "employees": "12",
              "milestones": "A轮融资"}
    browser.login(base.users["staff"])
    manager = new_browser()
    manager.login(base.owner)
    stale = manager.hidden_fields(url)                           # the manager opens the page too…
    assert browser.post(url, values).status_code == 302          # …the staff member records the answer first
    response = manager.client.post(url, data={**stale, **values, "operating_status": "operating",
                                              "revenue_yuan": "1", "milestones": ""})
    assert response.status_code == 200 and "其他人刚刚保存了此次跟踪" in response.get_data(as_text=True)
    saved = _followups(app, base, company_id)[0]
    assert saved.operating_status == "growing" and saved.milestones == "A轮融资" and saved.revenue_fen == 5_000_000


def test_an_amount_with_a_third_decimal_is_refused_not_rounded(app, factory, browser):
    base = factory.base("alpha")
    company_id = _graduate(app, factory, base, date(2025, 8, 31), today=date(2025, 9, 1))
    first = _followups(app, base, company_id)[0]
    browser.login(base.users["staff"])
    url = f"/b/{base.slug}/tenants/followups/{first.id}/record"
    response = browser.post(url, {"operating_status": "operating", "revenue_yuan": "1.005", "tax_yuan": "0",
                                  "employees": "1"})
    assert field_errors(response)["revenue_yuan"] == ["金额以元为单位，最多保留两位小数。"]
    assert _followups(app, base, company_id)[0].answered_at is None


def test_the_manager_shortens_or_lengthens_the_tracking_and_every_page_follows(app, factory, browser):
    base = factory.base("alpha")
    company_id = _graduate(app, factory, base, date(2025, 8, 31), today=date(2025, 9, 1))
    browser.login(base.owner)
    graduates = f"/b/{base.slug}/tenants/graduates"
    refused = browser.post(f"/b/{base.slug}/tenants/graduates/settings",
                           {"followup_interval_months": "0", "followup_years": "2"}, form_page=graduates)
    assert field_errors(refused)["followup_interval_months"] and len(_followups(app, base, company_id)) == 6
    browser.post(f"/b/{base.slug}/tenants/graduates/settings", {"followup_interval_months": "6",
                                                                "followup_years": "2"}, form_page=graduates)
    kept = _followups(app, base, company_id)
    assert [f.due_on for f in kept][-1] == date(2027, 8, 31) and len(kept) == 4
    assert kept[-1].closes_on == date(2027, 10, 30)
    assert "2027-08-31" in browser.get(f"/b/{base.slug}/tenants/{company_id}").get_data(as_text=True)
    browser.post(f"/b/{base.slug}/tenants/graduates/settings", {"followup_interval_months": "6",
                                                                "followup_years": "5"}, form_page=graduates)
    assert [f.due_on for f in _followups(app, base, company_id)][-1] == date(2030, 8, 31)
    assert _audits(app, "followup.unschedule") == 1


def test_a_graduate_back_in_the_base_is_no_longer_chased(app, factory, browser):
    base = factory.base("alpha")
    left = _graduate(app, factory, base, date(2025, 8, 31), today=date(2025, 9, 1), name="回来的公司")
    with app.app_context(), scoped_to(base.id):
        code = db.session.get(TenantCompany, left).uscc
    assert code  # the factory gives every company a valid code
    browser.login(base.users["staff"])
    assert f"/tenants/{left}" in browser.get(f"/b/{base.slug}/tenants/followups/overdue").get_data(as_text=True)
    factory.company(base, name="回来的公司（再次入驻）", uscc=code, moved_in_on=_today())
    page = browser.get(f"/b/{base.slug}/tenants/followups/overdue").get_data(as_text=True)
    assert f"/tenants/{left}" not in page
    assert _audits(app, "followup.returned") == 1
    assert all(f.answered_at is None for f in _followups(app, base, left))   # kept, closed
