"""Monthly operating data: due days across the year, drafts, submissions and corrections with history, one
report per company and month under concurrency, reminders once, the tenant's banner, staff filing on behalf."""
import threading
from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from operator_app.accounts.models import Base, User
from operator_app.db import scoped_to, unscoped
from operator_app.extensions import db
from operator_app.scheduler import run_job
from operator_app.timeutil import today_in
from tenants import reports
from tenants import report_services as services
from tenants.models import MonthlyReport, ReportReminder, ReportRevision, TenantCompany

from ..helpers import field_errors


@dataclass
class R:
    status: str
    first_submitted_on: date | None = None
    due_on: date | None = None


def test_due_days_and_lateness_across_the_year_boundary():
    december = date(2026, 12, 1)
    assert reports.due_on(december, 10) == date(2027, 1, 10)
    assert reports.current_month_due(date(2027, 1, 3)) == december
    assert reports.shift(date(2027, 1, 1), -1) == december and reports.shift(december, 13) == date(2028, 1, 1)
    assert reports.due_on(date(2027, 1, 1), 31) == date(2027, 2, 28)           # clamped to the month's end
    assert reports.filing_status(None, december, date(2027, 1, 10), 10) == "missing"
    assert reports.filing_status(None, december, date(2027, 1, 11), 10) == "late"
    assert reports.filing_status(R("draft"), december, date(2027, 1, 5), 10) == "draft"
    assert reports.filing_status(R("submitted", date(2027, 1, 10)), december, date(2027, 2, 1), 10) == "filed"
    assert reports.filing_status(R("submitted", date(2027, 1, 11)), december, date(2027, 2, 1), 10) == "late_filed"
    # Filed on time against the due date in force then, a later, earlier due day does not make it late.
    on_time = R("submitted", date(2027, 1, 9), due_on=date(2027, 1, 10))
    assert reports.filing_status(on_time, december, date(2027, 2, 1), 5) == "filed"
    assert not reports.is_over(december, date(2026, 12, 31)) and reports.is_over(december, date(2027, 1, 1))
    assert reports.parse_month("2026-13") is None and reports.parse_month("abc") is None
    assert reports.parse_month("1999-01") is None and reports.parse_month("2026-02") == date(2026, 2, 1)


def test_plausibility_warns_on_jumps_tax_above_revenue_and_revenue_without_staff():
    before = {"revenue_fen": 100_000, "tax_fen": 5_000, "employees": 10}
    assert reports.plausibility({"revenue_fen": 400_000, "tax_fen": 5_000, "employees": 10}, before, 3) == [
        "revenue_jump"]
    assert reports.plausibility({"revenue_fen": 300_000, "tax_fen": 5_000, "employees": 4}, before, 3) == []
    assert reports.plausibility({"revenue_fen": 100_000, "tax_fen": 5_000, "employees": 2}, before, 3) == [
        "employees_jump"]
    assert reports.plausibility({"revenue_fen": 100, "tax_fen": 500, "employees": 0}, None, 3) == [
        "tax_above_revenue", "revenue_without_staff"]


def _month_before(app):
    """The month whose report is being collected today (the month before), as "YYYY-MM"."""
    return reports.key(reports.current_month_due(today_in("Asia/Shanghai")))


def _setup(factory, base, **overrides):
    company = factory.company(base, name="晋阳软件", moved_in_on=date(2025, 3, 1), **overrides)
    factory.link_tenant(base, company)
    return company


def test_a_tenant_drafts_submits_and_corrects_with_the_history_kept(app, factory, browser, new_browser):
    base = factory.base("alpha")
    company = _setup(factory, base)
    month = _month_before(app)
    browser.login(base.users["tenant"])
    url = f"/b/{base.slug}/tenants/{company}/reports/{month}"
    assert 'id="report-banner"' in browser.get(f"/b/{base.slug}/tenants/portal").get_data(as_text=True)
    # A draft may be incomplete; it is not filed and the banner stays.
    assert browser.post(url, {"action": "draft", "revenue_yuan": "12000.50"}).status_code == 302
    page = browser.get(f"/b/{base.slug}/tenants/portal").get_data(as_text=True)
    assert 'id="report-banner"' in page
    assert 'data-filing="draft"' in page or 'data-filing="late"' in page   # (late after the due day)
    # Submitting needs the three figures.
    refused = browser.post(url, {"action": "submit", "revenue_yuan": "12000.50"})
    assert set(field_errors(refused)) == {"tax_yuan", "employees"}
    assert browser.post(url, {"action": "submit", "revenue_yuan": "12000.50", "tax_yuan": "600",
                              "employees": "8"}).status_code == 302
    portal = browser.get(f"/b/{base.slug}/tenants/portal").get_data(as_text=True)
    assert 'id="report-banner"' not in portal
    # A correction needs its reason; the first version stays in the history.
    refused = browser.post(url, {"action": "submit", "revenue_yuan": "13000", "tax_yuan": "600", "employees": "8"})
    assert field_errors(refused)["reason"] == ["请说明更正已提交数据的原因。"]
    browser.post(url, {"action": "submit", "revenue_yuan": "13000", "tax_yuan": "600", "employees": "8",
                       "reason": "漏记一笔服务收入"})
    with app.app_context(), scoped_to(base.id):
        report = db.session.scalar(select(MonthlyReport))
        assert (report.revenue_fen, report.tax_fen, report.employees, report.revision) == (1_300_000, 60_000, 8, 2)
        assert not report.on_behalf
        revisions = db.session.scalars(select(ReportRevision).order_by(ReportRevision.revision)).all()
        assert [(r.revision, r.figures["revenue_fen"], r.reason) for r in revisions] == [
            (1, 1_200_050, ""), (2, 1_300_000, "漏记一笔服务收入")]
    staff = new_browser()
    staff.login(base.users["staff"])
    history = staff.get(f"/b/{base.slug}/tenants/{company}/reports").get_data(as_text=True)
    assert "漏记一笔服务收入" in history and 'data-revision="1"' in history and "<svg" in history
    assert "130.00" not in history and "1.30" in history                    # 13,000 yuan = 1.30 万元


def test_bad_input_is_refused_on_its_field_and_nothing_is_written(app, factory, browser):
    base = factory.base("alpha")
    company = _setup(factory, base)
    left = factory.company(base, name="已退出公司", moved_in_on=date(2025, 3, 1))
    with app.test_request_context(), scoped_to(base.id):
        from tenants import services as tenant_services

        tenant_services.record_exit(db.session.get(TenantCompany, left), reason="voluntary",
                                    exit_on=date(2026, 6, 30), today=date(2026, 7, 1), keys_returned=True,
                                    rent_settled=True, deposit_settled=True, notes="",
                                    by=db.session.get(User, base.owner.id))
        db.session.commit()
    browser.login(base.users["staff"])
    url = f"/b/{base.slug}/tenants/{company}/reports/{_month_before(app)}"
    response = browser.post(url, {"action": "submit", "revenue_yuan": "-5", "tax_yuan": "abc",
                                  "employees": "99999999", "reason": ""})
    errors = field_errors(response)
    assert set(errors) == {"revenue_yuan", "tax_yuan", "employees"}
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in messages[0]) for messages in errors.values())
    this_month = reports.key(reports.month_of(today_in("Asia/Shanghai")))
    future = browser.post(f"/b/{base.slug}/tenants/{company}/reports/{this_month}",
                          {"action": "submit", "revenue_yuan": "1", "tax_yuan": "0", "employees": "1"})
    assert "尚未结束" in future.get_data(as_text=True)
    gone = browser.post(f"/b/{base.slug}/tenants/{left}/reports/2026-08",
                        {"action": "submit", "revenue_yuan": "1", "tax_yuan": "0", "employees": "1"})
    assert "无需填报" in gone.get_data(as_text=True)
    assert browser.get(f"/b/{base.slug}/tenants/{company}/reports/2026-99").status_code == 404
    with app.app_context(), unscoped("test counts rows"):
        assert db.session.scalar(select(func.count(MonthlyReport.id))) == 0


def test_staff_file_on_behalf_marked_so_and_see_who_is_missing_and_late(app, factory, browser):
    base = factory.base("alpha")
    company = _setup(factory, base)
    other = factory.company(base, name="迟报公司", moved_in_on=date(2025, 3, 1))
    factory.company(base, name="新来的公司", moved_in_on=date(2030, 1, 1))   # not housed then: not expected
    browser.login(base.users["staff"])
    month = "2026-09"  # long past its due day
    page = browser.get(f"/b/{base.slug}/tenants/reports?month={month}").get_data(as_text=True)
    assert f'data-filing="{company}" data-status="late"' in page and f'data-filing="{other}" data-status="late"' in page
    assert "新来的公司" not in page
    browser.post(f"/b/{base.slug}/tenants/{company}/reports/{month}", {
        "action": "submit", "revenue_yuan": "500", "tax_yuan": "900", "employees": "0"})
    page = browser.get(f"/b/{base.slug}/tenants/reports?month={month}").get_data(as_text=True)
    assert f'data-filing="{company}" data-status="late_filed"' in page and "基地代填" in page
    # One of two companies filed September: the month is left out of the base's trend, not drawn as a fall.
    assert 'id="incomplete-months"' in page and "2026-09" in page[page.index('id="incomplete-months"'):]
    with app.app_context(), scoped_to(base.id):
        report = db.session.scalar(select(MonthlyReport))
        assert report.on_behalf and report.submitted_by_id == base.users["staff"].id
        assert report.warnings == ["tax_above_revenue", "revenue_without_staff"]   # warned, not blocked


def test_a_tenant_never_sees_another_companys_reports(app, factory, browser):
    base = factory.base("alpha")
    _setup(factory, base)
    other = factory.company(base, name="别的公司", moved_in_on=date(2025, 3, 1))
    browser.login(base.users["tenant"])
    assert browser.get(f"/b/{base.slug}/tenants/{other}/reports").status_code == 404
    assert browser.get(f"/b/{base.slug}/tenants/{other}/reports/2026-09").status_code == 404
    assert browser.get(f"/b/{base.slug}/tenants/reports").status_code == 403


def test_two_first_submissions_at_once_make_one_report(app, factory):
    base = factory.base("alpha")
    company = _setup(factory, base)
    barrier = threading.Barrier(2)
    outcomes = []

    def submit(revenue):
        with app.test_request_context(), scoped_to(base.id):
            try:
                entry = db.session.get(TenantCompany, company)
                user = db.session.get(User, base.users["tenant"].id)
                base_row = db.session.get(Base, base.id)
                barrier.wait()
                services.save_report(entry, date(2026, 9, 1), {"revenue_fen": revenue, "tax_fen": 0, "employees": 1},
                                     base=base_row, submit=True, reason="", today=date(2026, 10, 5), by=user,
                                     on_behalf=False)
                db.session.commit()
                outcomes.append("saved")
            except (IntegrityError, OperationalError):
                db.session.rollback()
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=submit, args=(revenue,)) for revenue in (100, 200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with app.app_context(), unscoped("test counts rows"):
        assert db.session.scalar(select(func.count(MonthlyReport.id))) == 1
        assert db.session.scalar(select(func.count(ReportRevision.id))) == 1
    assert sorted(outcomes) == ["refused", "saved"]


def test_reminders_go_once_on_the_1st_5th_and_due_day_to_companies_that_have_not_filed(app, factory):
    base = factory.base("alpha")
    company = _setup(factory, base)
    filed = factory.company(base, name="已报公司", moved_in_on=date(2025, 3, 1))
    with app.test_request_context(), scoped_to(base.id):
        services.save_report(db.session.get(TenantCompany, filed), date(2026, 10, 1),
                             {"revenue_fen": 1, "tax_fen": 0, "employees": 1}, base=db.session.get(Base, base.id),
                             submit=True, reason="", today=date(2026, 11, 1), by=db.session.get(User, base.owner.id),
                             on_behalf=True)
        db.session.commit()

    def run(day, hour=8):
        with app.app_context():
            return run_job(services.REMINDER_JOB, now=datetime(2026, 11, day, hour - 8, 30, tzinfo=timezone.utc))

    assert run(1).done == [base.id] and run(1).skipped == [base.id]      # running twice sends once
    assert run(3).skipped == [base.id]                                   # not a reminder day
    run(5)
    run(10)
    with app.app_context(), scoped_to(base.id):
        sent = db.session.scalars(select(ReportReminder).order_by(ReportReminder.id)).all()
        assert [(r.company_id, r.month_on, r.kind) for r in sent] == [
            (company, date(2026, 10, 1), "opening"), (company, date(2026, 10, 1), "midway"),
            (company, date(2026, 10, 1), "due")]


def test_reminders_are_mailed_to_the_company_contacts_once_when_mail_is_configured(databases, app, smtp_server):
    """A real SMTP server on loopback receives the reminder; running the job again sends nothing more."""
    import email

    from ..conftest import make_app
    from ..helpers import Factory

    mail_app = make_app(app.config["SQLALCHEMY_DATABASE_URI"], MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port,
                        MAIL_USE_TLS=False, MAIL_FROM="base@example.com", PUBLIC_URL="https://cy.example.cn")
    factory = Factory(mail_app)
    base = factory.base("mailbase")
    factory.link_tenant(base, factory.company(base, name="晋阳软件", moved_in_on=date(2025, 3, 1)))
    first = datetime(2026, 11, 1, 0, 30, tzinfo=timezone.utc)
    with mail_app.app_context():
        run_job(services.REMINDER_JOB, now=first)
        run_job(services.REMINDER_JOB, now=first)
    assert [envelope.rcpt_tos for envelope in smtp_server.received] == [[base.users["tenant"].email]]
    body = email.message_from_bytes(smtp_server.received[0].content).get_payload(decode=True).decode()
    assert "2026-10" in body and f"https://cy.example.cn/b/{base.slug}/tenants/portal" in body


def _set_rules(app, base, **values):
    with app.app_context(), scoped_to(base.id):
        from tenants.rules import rules_of

        rules = rules_of(db.session.get(Base, base.id))
        for name, value in values.items():
            setattr(rules, name, value)
        db.session.commit()


def test_a_figure_the_base_stops_asking_for_keeps_its_value(app, factory, browser):
    base = factory.base("alpha")
    company = _setup(factory, base)
    _set_rules(app, base, report_optional_fields=["rd_spending_fen", "new_ip"])
    browser.login(base.users["tenant"])
    url = f"/b/{base.slug}/tenants/{company}/reports/2026-09"
    browser.post(url, {"action": "submit", "revenue_yuan": "1000", "tax_yuan": "50", "employees": "3",
                       "rd_spending_yuan": "200", "new_ip": "2"})
    _set_rules(app, base, report_optional_fields=[])
    assert 'name="rd_spending_yuan"' not in browser.get(url).get_data(as_text=True)
    browser.post(url, {"action": "submit", "revenue_yuan": "1100", "tax_yuan": "50", "employees": "3",
                       "reason": "更正收入"})
    with app.app_context(), scoped_to(base.id):
        report = db.session.scalar(select(MonthlyReport))
        assert (report.revenue_fen, report.rd_spending_fen, report.new_ip) == (110_000, 20_000, 2)
        latest = db.session.scalar(select(ReportRevision).where(ReportRevision.revision == 2))
        assert latest.figures["rd_spending_fen"] == 20_000


def test_a_report_changed_since_the_form_was_opened_is_a_conflict_that_keeps_both(app, factory, browser,
                                                                                new_browser):
    base = factory.base("alpha")
    company = _setup(factory, base)
    url = f"/b/{base.slug}/tenants/{company}/reports/2026-09"
    browser.login(base.users["tenant"])
    browser.post(url, {"action": "draft", "revenue_yuan": "1000"})
    staff = new_browser()
    staff.login(base.users["staff"])
    stale = staff.hidden_fields(url)                       # staff open the draft…
    browser.post(url, {"action": "draft", "revenue_yuan": "2000"})   # …the tenant changes it meanwhile
    response = staff.client.post(url, data={**stale, "action": "submit", "revenue_yuan": "1000", "tax_yuan": "0",
                                            "employees": "1"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and "他人修改了它" in page and 'value="1000"' in page
    with app.app_context(), scoped_to(base.id):
        report = db.session.scalar(select(MonthlyReport))
        assert report.revenue_fen == 200_000 and report.status == "draft"


def test_a_mail_failure_never_costs_the_in_app_reminders(databases, app):
    import socket

    from ..conftest import make_app
    from ..helpers import Factory

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mail_app = make_app(app.config["SQLALCHEMY_DATABASE_URI"], MAIL_SERVER="127.0.0.1", MAIL_PORT=port,
                        MAIL_USE_TLS=False)
    factory = Factory(mail_app)
    base = factory.base("mailbase")
    factory.link_tenant(base, factory.company(base, name="晋阳\n软件", moved_in_on=date(2025, 3, 1)))
    factory.company(base, name="没有联系人的公司", moved_in_on=date(2025, 3, 1))
    with mail_app.app_context():
        # The 1st was missed (server down): the 2nd catches it up.
        result = run_job(services.REMINDER_JOB, now=datetime(2026, 11, 2, 0, 30, tzinfo=timezone.utc))
    assert result.done == [base.id]
    with mail_app.app_context(), scoped_to(base.id):
        sent = db.session.scalars(select(ReportReminder)).all()
        assert sorted((r.kind, r.emailed_to) for r in sent) == [("opening", 0), ("opening", 0)]


def test_the_trend_counts_only_the_companies_expected_that_month(app, factory, browser):
    base = factory.base("alpha")
    staying = _setup(factory, base)
    leaving = factory.company(base, name="月中退出", moved_in_on=date(2025, 3, 1))
    with app.test_request_context(), scoped_to(base.id):
        from tenants import services as tenant_services

        owner = db.session.get(User, base.owner.id)
        tenant_services.record_exit(db.session.get(TenantCompany, leaving), reason="voluntary",
                                    exit_on=date(2026, 9, 15), today=date(2026, 9, 16), keys_returned=True,
                                    rent_settled=True, deposit_settled=True, notes="", by=owner)
        services.save_report(db.session.get(TenantCompany, leaving), date(2026, 9, 1),
                             {"revenue_fen": 5_000_000, "tax_fen": 0, "employees": 2},
                             base=db.session.get(Base, base.id), submit=True, reason="", today=date(2026, 10, 2),
                             by=owner, on_behalf=True)
        db.session.commit()
    browser.login(base.users["staff"])
    page = browser.get(f"/b/{base.slug}/tenants/reports?month=2026-09").get_data(as_text=True)
    assert f'data-filing="{staying}" data-status="late"' in page
    assert "2026-09" in page[page.index('id="incomplete-months"'):]       # its only expected filer is missing


def test_no_banner_for_a_company_that_left(app, factory, browser):
    base = factory.base("alpha")
    company = _setup(factory, base)
    with app.test_request_context(), scoped_to(base.id):
        from tenants import services as tenant_services

        left_on = reports.shift(reports.current_month_due(today_in("Asia/Shanghai")), -1)
        tenant_services.record_exit(db.session.get(TenantCompany, company), reason="graduation", exit_on=left_on,
                                    today=today_in("Asia/Shanghai"), keys_returned=True, rent_settled=True,
                                    deposit_settled=True, notes="", by=db.session.get(User, base.owner.id))
        db.session.commit()
    browser.login(base.users["tenant"])
    page = browser.get(f"/b/{base.slug}/tenants/portal").get_data(as_text=True)
    assert 'id="report-banner"' not in page and "本月无需填报" in page
