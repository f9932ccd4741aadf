"""The quarterly filing's lifecycle: drafted by the job the day after the quarter ends and once only (also when
two schedulers race), regenerated daily while a draft, caught up after a quarter the server missed, frozen once
submitted, a new version only with a reason; the pages and settings a manager uses."""
import hashlib
import threading
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import chinese_calendar
from sqlalchemy import select, update

from operator_app.accounts.models import Base, User
from operator_app.db import scoped_to, unscoped
from operator_app.extensions import db
from operator_app.filings import services
from operator_app.filings.jobs import QUARTERLY_JOB
from operator_app.filings.models import QuarterlyFiling
from operator_app.filings.quarterly import quarter_bounds, quarter_months
from operator_app.scheduler import run_job
from operator_app.storage import storage
from operator_app.timeutil import today_in
from tenants import report_services
from tenants.models import TenantCompany

from ..helpers import field_errors

SHANGHAI = ZoneInfo("Asia/Shanghai")
JUL, AUG, SEP = quarter_months(2026, 3)


def local(year, month, day, hour=1):
    """An aware moment at ``hour`` o'clock in Shanghai."""
    return datetime(year, month, day, hour, tzinfo=SHANGHAI)


def job(app, now):
    with app.app_context():
        return run_job(QUARTERLY_JOB, now)


def backdate(app, base, created):
    """Make the base look created on ``created`` (a test base is created today)."""
    with app.app_context(), unscoped("the test backdates a base"):
        base_id = base if isinstance(base, int) else base.id
        db.session.execute(update(Base).where(Base.id == base_id)
                           .values(created_at=datetime.combine(created, datetime.min.time(), timezone.utc)))
        db.session.commit()


def report(app, base, company_id, month_on, revenue_fen, *, reason="", today=date(2026, 10, 5)):
    with app.test_request_context(), scoped_to(base.id):
        report_services.save_report(db.session.get(TenantCompany, company_id), month_on,
                                    {"revenue_fen": revenue_fen, "tax_fen": revenue_fen // 20, "employees": 3},
                                    base=db.session.get(Base, base.id), submit=True, reason=reason, today=today,
                                    by=db.session.get(User, base.owner.id), on_behalf=True)
        db.session.commit()


def filings(app, base):
    """(year, quarter, version, status, revenue 万元) of every filing of the base."""
    with app.app_context(), scoped_to(base.id):
        rows = db.session.scalars(select(QuarterlyFiling).order_by(
            QuarterlyFiling.year, QuarterlyFiling.quarter, QuarterlyFiling.version)).all()
        return [(f.year, f.quarter, f.version, f.status, f.figures["indicators"]["revenue_wan"]) for f in rows]


def one_filing(app, base, year=2026, quarter=3, version=None):
    with app.app_context(), scoped_to(base.id):
        statement = select(QuarterlyFiling).where(QuarterlyFiling.year == year, QuarterlyFiling.quarter == quarter)
        if version is not None:
            statement = statement.where(QuarterlyFiling.version == version)
        filing = db.session.scalars(statement.order_by(QuarterlyFiling.version.desc())).first()
        files = {kind: hashlib.sha256(storage().read(getattr(filing, f"{kind}_file").key)).hexdigest()
                 for kind in ("xlsx", "csv", "json")}
        return {"id": filing.id, "version": filing.version, "status": filing.status, "figures": filing.figures,
                "generated_at": filing.generated_at, "files": files, "reason": filing.reason}


def q3_base(app, factory, created=date(2026, 6, 15)):
    base = factory.base()
    backdate(app, base, created)
    company = factory.company(base, n=1, name="甲公司", moved_in_on=date(2026, 1, 1))
    return base, company


def test_the_job_drafts_the_quarter_the_day_after_it_ends_once_a_day_and_regenerates_the_draft(app, factory):
    base, company = q3_base(app, factory)
    report(app, base, company, JUL, 1_000_000)

    job(app, local(2026, 9, 30, 23))
    assert filings(app, base) == [(2026, 2, 1, "draft", "0.00")]      # Q2 (the base's first); Q3 not over

    assert job(app, local(2026, 10, 1)).done == [base.id]
    assert filings(app, base) == [(2026, 2, 1, "draft", "0.00"), (2026, 3, 1, "draft", "1.00")]
    first = one_filing(app, base)
    assert first["figures"]["gaps"] == [{"company_id": company, "company_name": "甲公司", "month": m.isoformat(),
                                         "treatment": "left_out"} for m in (AUG, SEP)]

    again = job(app, local(2026, 10, 1, 9))                # the same day: claimed already
    assert again.done == [] and again.skipped == [base.id]
    assert one_filing(app, base)["generated_at"] == first["generated_at"]

    report(app, base, company, AUG, 2_000_000)
    job(app, local(2026, 10, 2))
    second = one_filing(app, base)
    assert (second["id"], second["version"]) == (first["id"], 1)       # regenerated in place while a draft
    assert second["figures"]["indicators"]["revenue_wan"] == "3.00"
    assert second["files"] != first["files"]
    assert len(filings(app, base)) == 2


def test_a_quarter_missed_while_the_server_was_down_is_filed_at_the_next_start(app, factory):
    base, company = q3_base(app, factory, created=date(2025, 11, 1))
    report(app, base, company, SEP, 500_000)
    # The server was down from September 2026 to 5 January 2027: Q3 and Q4 both ended unseen.
    job(app, local(2027, 1, 5))
    assert [(y, q) for y, q, *_ in filings(app, base)] == [(2026, 1), (2026, 2), (2026, 3), (2026, 4)]
    assert one_filing(app, base)["figures"]["indicators"]["revenue_wan"] == "0.50"


def test_two_schedulers_at_once_make_one_filing(app, factory):
    base, company = q3_base(app, factory)
    report(app, base, company, JUL, 1_000_000)
    start = threading.Barrier(2, timeout=30)
    results = []

    def scheduler_process(now):
        with app.app_context():
            start.wait()
            results.append(run_job(QUARTERLY_JOB, now))

    # Two different days, so both pass the job's daily claim and race for the filing's own claim.
    threads = [threading.Thread(target=scheduler_process, args=(moment,))
               for moment in (local(2026, 10, 1), local(2026, 10, 2))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 2 and not any(result.failed for result in results)
    assert [(y, q, v) for y, q, v, *_ in filings(app, base)] == [(2026, 2, 1), (2026, 3, 1)]


def test_a_submitted_filing_is_frozen_and_a_new_version_needs_a_reason(app, factory, browser):
    base, company = q3_base(app, factory)
    report(app, base, company, JUL, 1_000_000)
    job(app, local(2026, 10, 1))
    draft = one_filing(app, base)
    browser.login(base.owner)
    page = f"/b/{base.slug}/filings/{draft['id']}"
    response = browser.post(f"{page}/submit", {"note": "已在省平台上传"}, form_page=page)
    assert response.status_code == 302
    submitted = one_filing(app, base)
    assert submitted["status"] == "submitted" and submitted["files"] == draft["files"]
    with app.app_context(), scoped_to(base.id):
        filing = db.session.get(QuarterlyFiling, draft["id"])
        assert (filing.submitted_via, filing.submission_note) == ("manual", "已在省平台上传")

    report(app, base, company, JUL, 1_500_000, reason="补记收入")          # the records change afterwards
    report(app, base, company, AUG, 700_000)
    job(app, local(2026, 10, 3))
    assert browser.post(f"/b/{base.slug}/filings/quarterly/2026/3/generate", form_page=page).status_code == 302
    frozen = one_filing(app, base)
    assert frozen == submitted                                          # figures, files, everything unchanged
    assert browser.get(page).status_code == 200

    no_reason = browser.post(f"{page}/new-version", {"reason": "  "}, form_page=page)
    assert no_reason.status_code == 422
    assert field_errors(no_reason)["reason"] == ["请说明重新生成报送的原因。"]
    assert len(filings(app, base)) == 2

    response = browser.post(f"{page}/new-version", {"reason": "企业更正了七月收入"}, form_page=page)
    assert response.status_code == 302
    latest = one_filing(app, base)
    assert (latest["version"], latest["status"], latest["reason"]) == (2, "draft", "企业更正了七月收入")
    assert latest["figures"]["indicators"]["revenue_wan"] == "2.20"   # 1.5 + 0.7
    old = one_filing(app, base, version=1)
    assert old == submitted
    download = browser.get(f"{page}/download/xlsx")
    assert download.status_code == 200
    assert hashlib.sha256(download.data).hexdigest() == submitted["files"]["xlsx"]
    old_page = browser.get(page).get_data(as_text=True)
    assert "这是较早的版本" in old_page and "企业更正了七月收入" in old_page


def test_the_filing_page_links_each_figure_to_its_records(app, factory, browser):
    base, company = q3_base(app, factory)
    other = factory.company(base, n=2, name="乙公司", moved_in_on=date(2026, 8, 10))
    report(app, base, company, JUL, 1_000_000)
    job(app, local(2026, 10, 1))
    filing = one_filing(app, base)
    browser.login(base.owner)
    response = browser.get(f"/b/{base.slug}/filings/{filing['id']}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-indicator="revenue_wan"' in html and 'href="#companies">1.00<' in html
    assert f'href="/b/{base.slug}/tenants/{company}"' in html and f'href="/b/{base.slug}/tenants/{other}"' in html
    assert f'data-gap="{other}-2026-08"' in html and f'data-gap="{company}-2026-09"' in html
    assert "不计入合计（未按零计）" in html
    listing = browser.get(f"/b/{base.slug}/filings/").get_data(as_text=True)
    assert 'data-period="2026Q3" data-status="draft"' in listing
    # The list shows the snapshot's headline figures (read alone, not the whole snapshot).
    row = listing[listing.index('data-period="2026Q3"'):]
    row = row[:row.index("</tr>")]
    indicators = filing["figures"]["indicators"]
    assert indicators["revenue_wan"] == "1.00"
    for key in ("housed", "revenue_wan", "tax_wan", "employees"):
        assert f">{indicators[key]}<" in row, key


def test_staff_read_the_filings_but_only_the_manager_changes_them(app, factory, browser):
    base, company = q3_base(app, factory)
    job(app, local(2026, 10, 1))
    filing = one_filing(app, base)
    browser.login(base.users["staff"])
    assert browser.get(f"/b/{base.slug}/filings/{filing['id']}").status_code == 200
    assert browser.get(f"/b/{base.slug}/filings/{filing['id']}/download/json").status_code == 200
    token = browser.csrf_token(f"/b/{base.slug}/filings/{filing['id']}")
    forbidden = browser.client.post(f"/b/{base.slug}/filings/{filing['id']}/submit", data={"csrf_token": token})
    assert forbidden.status_code == 403
    assert one_filing(app, base)["status"] == "draft"


def test_the_deadline_counts_days_or_chinese_working_days(app, factory, browser):
    base, _ = q3_base(app, factory, created=date(2026, 7, 1))   # Q3 is its first quarter
    browser.login(base.owner)
    settings_page = f"/b/{base.slug}/filings/settings"
    bad = browser.post(settings_page, {"deadline_days": "0", "endpoint_url": "not a url"})
    assert bad.status_code == 200
    errors = field_errors(bad)
    assert errors["deadline_days"] == ["请输入 1 到 60 之间的天数。"] and "endpoint_url" in errors
    with app.app_context(), scoped_to(base.id):
        assert services.settings_of(db.session.get(Base, base.id)).id is None      # nothing saved

    job(app, local(2026, 10, 1))
    assert one_filing(app, base)["figures"]["end"] == "2026-09-30"
    with app.app_context(), scoped_to(base.id):
        assert db.session.get(QuarterlyFiling, one_filing(app, base)["id"]).deadline_on == date(2026, 10, 10)

    response = browser.post(settings_page, {"deadline_days": "15", "deadline_in_working_days": "y",
                                            "endpoint_url": "", "endpoint_token": ""})
    assert response.status_code == 302
    expected, day = 0, date(2026, 9, 30)
    while expected < 15:                       # the 15th working day after 30 September, National Day off
        day += timedelta(days=1)
        expected += chinese_calendar.is_workday(day)
    with app.app_context(), scoped_to(base.id):
        base_row = db.session.get(Base, base.id)
        assert services.deadline(2026, 3, services.settings_of(base_row)) == day
        due = services.next_due(base_row, date(2026, 10, 12))
        assert (due.year, due.quarter, due.deadline_on) == (2026, 3, day)   # the draft follows the new rule
    dashboard = browser.get(f"/b/{base.slug}/").get_data(as_text=True)
    assert 'id="filing-due-panel"' in dashboard


def test_the_endpoint_token_is_never_shown_nor_logged(app, factory, browser):
    base, _ = q3_base(app, factory)
    browser.login(base.owner)
    settings_page = f"/b/{base.slug}/filings/settings"
    response = browser.post(settings_page, {"deadline_days": "10", "endpoint_url": "https://platform.example/api",
                                            "endpoint_token": "s3cret-token"})
    assert response.status_code == 302
    page = browser.get(settings_page).get_data(as_text=True)
    assert "s3cret-token" not in page and 'id="token-saved"' in page
    assert "s3cret-token" not in browser.get(f"/b/{base.slug}/audit").get_data(as_text=True)
    browser.post(settings_page, {"deadline_days": "12", "endpoint_url": "https://platform.example/api",
                                 "endpoint_token": ""})
    with app.app_context(), scoped_to(base.id):
        settings = services.settings_of(db.session.get(Base, base.id))
        assert (settings.deadline_days, settings.endpoint_token) == (12, "s3cret-token")


def test_the_operator_owner_sees_every_base_s_filings_in_one_table(app, factory, browser):
    with app.app_context():
        year, quarter = services.previous_quarter(*services.quarter_of(today_in("Asia/Shanghai")))
    end = quarter_bounds(year, quarter)[1]
    base = factory.base()
    second = factory.another_base_of(base, "second-base")
    stranger = factory.base()
    for each in (base, second, stranger):
        backdate(app, each, end - timedelta(days=200))
    job(app, local(end.year, end.month, end.day) + timedelta(days=1))
    filing_id = one_filing(app, base, year, quarter)["id"]
    browser.login(base.owner)
    browser.post(f"/b/{base.slug}/filings/{filing_id}/submit", {"note": ""},
                 form_page=f"/b/{base.slug}/filings/{filing_id}")
    response = browser.get("/operator/filings")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'data-base="{base.slug}"' in html and 'data-base="second-base"' in html
    assert f'data-base="{stranger.slug}"' not in html
    assert f'data-period="{year}Q{quarter}" data-status="submitted"' in html
    assert f'data-period="{year}Q{quarter}" data-status="draft"' in html      # the second base has not submitted
    browser.logout()
    browser.login(base.users["staff"])
    assert browser.get("/operator/filings").status_code == 403
