"""Regressions found in review of the quarterly filing: who counts as housed, part months, employees at the
quarter's end, submitting a version that can no longer be sent, races with the nightly regeneration, the files'
language, the idempotency key, deadlines after a rule change, the owner's table for a new base."""
import io
from datetime import date

import openpyxl
from sqlalchemy import false, select, text
from sqlalchemy import select as real_select

from operator_app.accounts.models import Base, User
from operator_app.db import scoped_to
from operator_app.extensions import db
from operator_app.filings import endpoint, services, snapshot
from operator_app.filings.models import FilingSettings, QuarterlyFiling
from operator_app.filings.quarterly import quarter_figures, quarter_months
from operator_app.storage import StoredFile, storage
from tenants import report_services
from tenants import services as tenant_services
from tenants.models import TenantCompany

from .test_filing_endpoint import Platform, draft_filing, loopback_allowed, save_endpoint  # noqa: F401,F811
from .test_quarterly_filing import backdate
from ..helpers import raw_connection

JUL, AUG, SEP = quarter_months(2026, 3)


def _report(app, base, company_id, month_on, revenue, employees=3):
    with app.test_request_context(), scoped_to(base.id):
        report_services.save_report(db.session.get(TenantCompany, company_id), month_on,
                                    {"revenue_fen": revenue, "tax_fen": 0, "employees": employees},
                                    base=db.session.get(Base, base.id), submit=True, reason="",
                                    today=date(2026, 10, 5), by=db.session.get(User, base.owner.id), on_behalf=True)
        db.session.commit()


def _exit(app, base, company_id, exit_on, reason="other"):
    with app.test_request_context(), scoped_to(base.id):
        tenant_services.record_exit(db.session.get(TenantCompany, company_id), reason=reason, exit_on=exit_on,
                                    today=exit_on, keys_returned=True, rent_settled=True, deposit_settled=True,
                                    notes="", by=db.session.get(User, base.owner.id))
        db.session.commit()


def test_an_admitted_company_that_never_moved_in_is_neither_housed_nor_moved_in(app, factory):
    base = factory.base()
    applicant = factory.company(base, n=1, name="待入驻", status="applicant")
    with app.test_request_context(), scoped_to(base.id):
        company = db.session.get(TenantCompany, applicant)
        tenant_services.admit(db.session.get(Base, base.id), company, zone="growth", unit="1-101",
                              is_workstation=False, workstation_count=None, area_m2=None,
                              moved_in_on=date(2026, 12, 15), by=db.session.get(User, base.owner.id),
                              override_reason="test", may_override=True)
        db.session.commit()
        assert company.status == "admitted"
    with app.test_request_context(), scoped_to(base.id):
        figures = quarter_figures(db.session.get(Base, base.id), 2026, 4, today=date(2027, 1, 5))
        # The company is still only admitted (the move-in was never confirmed) on 5 January 2027.
        assert [c.name for c in figures.housed] == [], "an admitted company that never moved in is 'housed'"


def test_the_reported_part_month_of_a_company_that_left_mid_month_is_counted(app, factory):
    base = factory.base()
    company = factory.company(base, n=1, name="八月中迁出", moved_in_on=date(2026, 1, 1))
    _report(app, base, company, JUL, 1_000_000)
    _report(app, base, company, AUG, 500_000)
    _exit(app, base, company, date(2026, 8, 15))
    with app.test_request_context(), scoped_to(base.id):
        base_row = db.session.get(Base, base.id)
        figures = quarter_figures(base_row, 2026, 3, today=date(2026, 10, 20))
        snap = snapshot.build(base_row, figures, date(2026, 10, 20))
        assert figures.revenue_fen == 1_500_000, "the submitted August report is neither counted nor listed"
        assert snap["companies"][0]["months_reported"] == ["2026-07-01", "2026-08-01"]


def test_employees_at_the_quarter_s_end_are_those_of_the_companies_housed_then(app, factory):
    base = factory.base()
    company = factory.company(base, n=1, name="九月三十日迁出", moved_in_on=date(2026, 1, 1))
    for month in (JUL, AUG, SEP):
        _report(app, base, company, month, 100_000, employees=7)
    _exit(app, base, company, date(2026, 9, 30))
    with app.test_request_context(), scoped_to(base.id):
        figures = quarter_figures(db.session.get(Base, base.id), 2026, 3, today=date(2026, 10, 20))
        assert not (len(figures.housed) == 0 and figures.employees == 7), \
            "employees 'at the quarter's end' include a company not housed at the quarter's end"

def test_a_correction_draft_does_not_make_an_on_time_quarter_overdue(app, factory):
    base, filing_id = draft_filing(app, factory)
    backdate(app, base, date(2026, 7, 1))
    with app.test_request_context(), scoped_to(base.id):
        owner = db.session.get(User, base.owner.id)
        filing = db.session.get(QuarterlyFiling, filing_id)
        services.mark_submitted(filing, via="manual", by=owner)        # on time (before 10 October)
        services.new_version(db.session.get(Base, base.id), filing, "企业更正", today=date(2026, 11, 20), by=owner)
        db.session.commit()
        due = services.next_due(db.session.get(Base, base.id), date(2026, 11, 24))
        assert due is None or not due.overdue, "the dashboard says Q3 is overdue although v1 was submitted in time"


def test_another_bases_filing_is_404_on_every_route(app, factory, browser):
    base, filing_id = draft_filing(app, factory)
    other = factory.base()
    browser.login(other.owner)
    page = f"/b/{other.slug}/filings/"
    token = browser.csrf_token(page)
    for path in (f"{filing_id}", f"{filing_id}/download/json"):
        assert browser.get(f"/b/{other.slug}/filings/{path}").status_code == 404
    for path in ("submit", "new-version"):
        r = browser.client.post(f"/b/{other.slug}/filings/{filing_id}/{path}", data={"csrf_token": token,
                                                                                      "reason": "x"})
        assert r.status_code == 404
    assert browser.get(f"/b/{base.slug}/filings/{filing_id}").status_code == 404

def state(app, base, filing_id):
    with app.app_context(), scoped_to(base.id):
        f = db.session.get(QuarterlyFiling, filing_id)
        files = {k: getattr(f, f"{k}_file").key for k in ("xlsx", "csv", "json")}
        on_disk = {k: storage().path(key).exists() for k, key in files.items()}
        return {"status": f.status, "figures": f.figures, "files": files, "on_disk": on_disk,
                "rows": db.session.scalar(select(db.func.count()).select_from(StoredFile))}


def test_submitting_a_submitted_version_again_sends_nothing(app, factory, browser,
                                                                                loopback_allowed):
    base, filing_id = draft_filing(app, factory)
    browser.login(base.owner)
    page = f"/b/{base.slug}/filings/{filing_id}"
    with Platform([(200, '{"receipt": "1"}')]) as platform:
        save_endpoint(browser, base, platform.url)
        token_page = browser.hidden_fields(page)          # the tab the manager keeps open
        first = browser.client.post(f"{page}/submit", data={**token_page, "note": ""})
        assert first.status_code == 302
        again = browser.client.post(f"{page}/submit", data={**token_page, "note": ""})   # double click / stale tab
        assert again.status_code == 302
    assert len(platform.received) == 1, f"the frozen version was POSTed {len(platform.received)} times"


def test_submitting_a_superseded_version_sends_nothing(app, factory, browser, loopback_allowed):
    base, filing_id = draft_filing(app, factory)
    browser.login(base.owner)
    page = f"/b/{base.slug}/filings/{filing_id}"
    stale_tab = browser.hidden_fields(page)
    with app.test_request_context(), scoped_to(base.id):
        owner = db.session.get(User, base.owner.id)
        filing = db.session.get(QuarterlyFiling, filing_id)
        services.mark_submitted(filing, via="manual", by=owner)
        services.new_version(db.session.get(Base, base.id), filing, "更正", today=date(2026, 10, 25), by=owner)
        db.session.commit()
    with Platform([(200, '{"receipt": "1"}')]) as platform:
        save_endpoint(browser, base, platform.url)
        browser.client.post(f"{page}/submit", data={**stale_tab, "note": ""})
    assert platform.received == [], "version 1 (superseded) was sent to the province; no attempt kept"


def _bump_elsewhere(app, filing_id, **values):
    """Another process changes the filing (regenerated, or submitted) and commits."""
    with raw_connection() as connection:
        sets = ", ".join(f"{k} = :{k}" for k in values)
        connection.execute(text(f"UPDATE quarterly_filings SET {sets}, lock_version = lock_version + 1 "
                                f"WHERE id = :id"), {**values, "id": filing_id})


def test_regenerate_racing_a_submit_keeps_the_frozen_version_and_says_so(app, factory, browser,
                                                                                   monkeypatch):
    base, filing_id = draft_filing(app, factory)
    before = state(app, base, filing_id)
    real = services.quarter_figures

    def racing(*args, **kwargs):
        figures = real(*args, **kwargs)
        _bump_elsewhere(app, filing_id, status="submitted", submitted_via="manual")  # the manager's other tab
        return figures

    monkeypatch.setattr(services, "quarter_figures", racing)
    browser.login(base.owner)
    page = f"/b/{base.slug}/filings/{filing_id}"
    response = browser.post(f"/b/{base.slug}/filings/quarterly/2026/3/generate", form_page=page)
    after = state(app, base, filing_id)
    assert after["files"] == before["files"] and all(after["on_disk"].values())   # frozen files intact
    assert after["rows"] == before["rows"]                                        # no orphan rows
    assert response.status_code == 302, f"got {response.status_code} instead of the view's flash and redirect"


def test_discarded_files_survive_a_rollback_and_go_after_commit(app, factory):
    base, filing_id = draft_filing(app, factory)
    before = state(app, base, filing_id)
    with app.test_request_context(), scoped_to(base.id):
        services.generate(db.session.get(Base, base.id), 2026, 3, today=date(2026, 10, 21))
        db.session.rollback()
    kept = state(app, base, filing_id)
    assert kept["files"] == before["files"] and all(kept["on_disk"].values()) and kept["rows"] == before["rows"]
    with app.test_request_context(), scoped_to(base.id):
        services.generate(db.session.get(Base, base.id), 2026, 3, today=date(2026, 10, 21))
        db.session.commit()
    after = state(app, base, filing_id)
    assert after["rows"] == before["rows"] and all(after["on_disk"].values())
    with app.app_context():
        assert not any(storage().path(key).exists() for key in before["files"].values())


def test_the_provincial_files_are_in_chinese_whatever_the_manager_s_language(app, factory, browser):
    base, filing_id = draft_filing(app, factory)
    browser.login(base.owner)
    browser.get("/lang/en")
    page = f"/b/{base.slug}/filings/{filing_id}"
    browser.post(f"/b/{base.slug}/filings/quarterly/2026/3/generate", form_page=page)
    data = browser.get(f"{page}/download/xlsx").data
    names = openpyxl.load_workbook(io.BytesIO(data)).sheetnames
    csv_text = browser.get(f"{page}/download/csv").data.decode("utf-8-sig")
    assert names[0] == "汇总" and "营业收入" in csv_text, "the file for the province was written in English"


def _key(app, base, filing_id):
    with app.app_context(), scoped_to(base.id):
        filing = db.session.get(QuarterlyFiling, filing_id)
        return endpoint.idempotency_key(filing, endpoint.document_bytes(filing)), dict(filing.figures["indicators"])


def test_a_regeneration_with_the_same_figures_keeps_the_idempotency_key(app, factory):
    base, filing_id = draft_filing(app, factory)
    first, figures_1 = _key(app, base, filing_id)
    with app.test_request_context(), scoped_to(base.id):
        services.generate(db.session.get(Base, base.id), 2026, 3, today=date(2026, 10, 21))  # the nightly job
        db.session.commit()
    second, figures_2 = _key(app, base, filing_id)
    assert figures_1 == figures_2
    assert first == second, "same figures, but a new key: the platform cannot drop the repeat"


def test_the_owner_table_shows_no_quarter_before_a_new_base_existed_as_overdue(app, factory, browser):
    base = factory.base()
    factory.another_base_of(base, "brand-new")          # created today
    browser.login(base.owner)
    html = browser.get("/operator/filings").get_data(as_text=True)
    row = html[html.index('data-base="brand-new"'):]
    row = row[:row.index("</tr>")]
    red = row.count("text-danger")
    assert row.count('data-status="not_owed"') == 4
    assert red == 0, f"{red} quarters shown overdue for a base created today"


def test_a_draft_follows_a_new_deadline_rule(app, factory, browser):
    base, filing_id = draft_filing(app, factory)
    browser.login(base.owner)
    browser.post(f"/b/{base.slug}/filings/settings", {"deadline_days": "15", "deadline_in_working_days": "y",
                                                      "endpoint_url": "", "endpoint_token": ""})
    with app.test_request_context(), scoped_to(base.id):
        services.generate(db.session.get(Base, base.id), 2026, 3, today=date(2026, 10, 21))   # regenerated draft
        db.session.commit()
        filing = db.session.get(QuarterlyFiling, filing_id)
        rule = services.deadline(2026, 3, services.settings_of(db.session.get(Base, base.id)))
        assert filing.deadline_on == rule, "the draft, regenerated daily, still counts down to the old rule"


def test_two_first_saves_of_the_settings_at_once_answer_without_an_error(app, factory, browser, monkeypatch):
    base = factory.base()
    browser.login(base.owner)
    calls = []

    def racing_select(*args):
        calls.append(args)
        import inspect
        if args == (FilingSettings,) and inspect.stack()[1].function == 'save_settings':
            # save_settings reads "no row yet"; the other tab's first save commits right after that read
            with raw_connection(base.id) as connection:
                connection.execute(text(
                    "INSERT INTO filing_settings (base_id, deadline_days, deadline_in_working_days, endpoint_url,"
                    " endpoint_token, updated_at, version) VALUES (:b, 10, false, '', '', CURRENT_TIMESTAMP, 1)"),
                    {"b": base.id})
            return real_select(FilingSettings).where(false())
        return real_select(*args)

    monkeypatch.setattr(services, "select", racing_select)
    response = browser.post(f"/b/{base.slug}/filings/settings", {"deadline_days": "12", "endpoint_url": "",
                                                                  "endpoint_token": ""})
    assert response.status_code == 409 and calls, response.status_code   # the form again, with the warning

def test_a_download_racing_the_nightly_regeneration_sends_the_manager_back(app, factory, browser):
    base, filing_id = draft_filing(app, factory)
    with app.app_context(), scoped_to(base.id):
        storage().delete(db.session.get(QuarterlyFiling, filing_id).json_file.key)  # the job's commit removed it
    browser.login(base.owner)
    response = browser.get(f"/b/{base.slug}/filings/{filing_id}/download/json")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/filings/{filing_id}")


def test_a_released_savepoint_keeps_the_discarded_files_until_the_commit(app, factory):
    base, filing_id = draft_filing(app, factory)
    before = state(app, base, filing_id)
    with app.test_request_context(), scoped_to(base.id):
        services.generate(db.session.get(Base, base.id), 2026, 3, today=date(2026, 10, 21))  # old files queued
        with db.session.begin_nested():  # another quarter's claim, released
            pass
        db.session.rollback()  # and then the base's work fails
    kept = state(app, base, filing_id)
    assert kept["files"] == before["files"] and all(kept["on_disk"].values()) and kept["rows"] == before["rows"]
