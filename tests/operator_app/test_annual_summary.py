"""The annual work summary (年度工作总结) on a hand-built base over two years: the figures against values computed
by hand, the Word document and its annex, the January job made once, the manager's text kept through a refresh
and through a conflicting save, and who may do what."""
import html
import io
import re
from datetime import date, datetime, timedelta, timezone

import pytest
from docx import Document
from docx.oxml.ns import qn
from flask import g, render_template
from flask_babel import force_locale, gettext
from openpyxl import load_workbook
from sqlalchemy import event, func, select, update

from operator_app.accounts.models import Base, User
from operator_app.db import scoped_to, unscoped
from operator_app.extensions import db
from operator_app.filings import annual
from operator_app.filings.annual_jobs import ANNUAL_JOB, annual_period
from operator_app.filings.models import AnnualSummary
from operator_app.scheduler import run_job
from operator_app.timeutil import to_local
from tenants import report_services
from tenants import services as tenant_services
from tenants.models import TenantCompany

from ..helpers import field_errors

YEAR, PREVIOUS = 2025, 2024
TODAY = date(2026, 1, 10)  # the base's day the figures are computed on in the direct tests
CREATED = date(2022, 1, 1)  # the day the two-year base is made to look created (a test base is created today)
MEASURES = "今年基地建立了“店小二式”服务机制，全年开展创业培训。"


def _months(year, first=1, last=12, skip=()):
    return [date(year, month, 1) for month in range(first, last + 1) if month not in skip]


def _reports(app, base, company_id, months, revenue, tax, employees):
    with app.test_request_context(), scoped_to(base.id):
        company = db.session.get(TenantCompany, company_id)
        owner = db.session.get(User, base.owner.id)
        for month_on in months:
            report_services.save_report(company, month_on, {"revenue_fen": revenue, "tax_fen": tax,
                                                            "employees": employees},
                                        base=db.session.get(Base, base.id), submit=True, reason="",
                                        today=TODAY, by=owner, on_behalf=True)
        db.session.commit()


def _exit(app, base, company_id, reason, exit_on):
    with app.test_request_context(), scoped_to(base.id):
        tenant_services.record_exit(db.session.get(TenantCompany, company_id), reason=reason, exit_on=exit_on,
                                    today=exit_on, keys_returned=True, rent_settled=True, deposit_settled=True,
                                    notes="", by=db.session.get(User, base.owner.id))
        db.session.commit()


def _milestone(app, base, company_id, kind, title, occurred_on, amount_fen=None):
    with app.test_request_context(), scoped_to(base.id):
        tenant_services.add_milestone(db.session.get(TenantCompany, company_id), occurred_on=occurred_on, kind=kind,
                                      title=title, amount_fen=amount_fen, by=db.session.get(User, base.owner.id))
        db.session.commit()


def backdate(app, base, created):
    """Make the base look created on ``created``."""
    with app.app_context(), unscoped("the test backdates a base"):
        db.session.execute(update(Base).where(Base.id == base.id).values(
            created_at=datetime.combine(created, datetime.min.time(), timezone.utc)))
        db.session.commit()


def build_two_years(app, factory, slug="alpha"):
    """甲 housed both years; 乙 moved in April 2025 and missed August; 丙 graduated 30 June 2025; 丁 left
    (voluntarily) 15 September 2024; the base was created on CREATED. Returns the base and the companies'
    ids."""
    base = factory.base(slug, name="晋阳双创基地")
    backdate(app, base, CREATED)
    a = factory.company(base, n=1, name="甲", moved_in_on=date(2023, 3, 1))
    b = factory.company(base, n=2, name="乙", moved_in_on=date(2025, 4, 10))
    c = factory.company(base, n=3, name="丙", moved_in_on=date(2022, 1, 1))
    d = factory.company(base, n=4, name="丁", moved_in_on=date(2022, 1, 1))
    _reports(app, base, a, _months(PREVIOUS), 1_000_000, 50_000, 10)
    _reports(app, base, a, _months(YEAR), 1_500_000, 60_000, 12)
    _reports(app, base, b, _months(YEAR, 4, 12, skip=(8,)), 200_000, 0, 3)
    _reports(app, base, c, _months(PREVIOUS), 2_000_000, 80_000, 18)
    _reports(app, base, c, _months(YEAR, 1, 6), 3_000_000, 100_000, 20)
    _reports(app, base, d, _months(PREVIOUS, 1, 8), 500_000, 10_000, 5)
    _exit(app, base, c, "graduation", date(2025, 6, 30))
    _exit(app, base, d, "voluntary", date(2024, 9, 15))
    _milestone(app, base, a, "patent", "发明专利授权", date(2024, 5, 1))
    _milestone(app, base, a, "patent", "实用新型专利", date(2025, 3, 1))
    _milestone(app, base, a, "high_tech", "认定为高新技术企业", date(2025, 11, 20))
    _milestone(app, base, b, "financing", "天使轮融资", date(2025, 9, 1), amount_fen=5_000_000)
    staff = factory.service_person(base)
    request_id = factory.service_request(base, a, category="financing",
                                         received_at=datetime(2025, 3, 10, 2, tzinfo=timezone.utc))
    factory.visit(base, b, staff_id=staff, category="coaching", occurred_on=date(2025, 5, 20))
    factory.visit(base, a, staff_id=staff, category="coaching", occurred_on=date(2024, 6, 1))
    training = factory.activity(base, organiser_id=staff, category="training",
                                starts_at=datetime(2025, 9, 3, 6, tzinfo=timezone.utc))
    for n in range(3):
        factory.signin(base, training, phone=f"1380000000{n}")
    factory.feedback(base, a, "request", request_id, rating=4)
    factory.feedback(base, b, "activity", training, rating=5)
    return base, {"甲": a, "乙": b, "丙": c, "丁": d}


def _figures(app, base, year=YEAR, today=TODAY):
    with app.test_request_context(), scoped_to(base.id):
        return annual.year_figures(db.session.get(Base, base.id), year, today)


def test_the_year_adds_up_to_the_hand_computed_figures(app, factory):
    base, ids = build_two_years(app, factory)
    figures = _figures(app, base)
    now, before = figures["current"], figures["previous"]
    assert (figures["year"], figures["previous_year"], figures["gap_treatment"]) == (YEAR, PREVIOUS, "left_out")
    ind = now["indicators"]
    assert (ind["housed"], ind["moved_in"], ind["exited"], ind["graduates"], ind["followed"]) == (2, 1, 1, 1, 1)
    # 甲 12 × 1.5 + 乙 8 × 0.2 (August missing, left out) + 丙 6 × 3 (until it graduated)
    assert now["money_fen"]["revenue"] == 37_600_000 and ind["revenue_wan"] == "37.60"
    assert now["money_fen"]["tax"] == 1_320_000 and ind["tax_wan"] == "1.32"
    assert ind["employees"] == 12 + 3 and now["december_unreported"] == []   # December's reports
    assert ind["months_missing"] == 1 and now["gaps"] == [
        {"company_id": ids["乙"], "company_name": "乙", "month": "2025-08", "treatment": "left_out"}]
    assert now["reports_used"] == 12 + 8 + 6
    assert [row["name"] for row in now["graduates"]] == ["丙"]
    assert now["graduates"][0]["moved_out_on"] == "2025-06-30" and now["graduates"][0]["tracked_until"]
    by_kind = {row["kind"]: row for row in now["cultivated"]}
    assert (by_kind["patent"]["names"], by_kind["high_tech"]["names"], by_kind["financing"]["names"]) == (
        ["甲"], ["甲"], ["乙"])
    assert by_kind["listing"]["companies"] == 0 and ind["cultivated"] == 2 and ind["financing_wan"] == "5.00"
    assert (ind["service_requests"], ind["visits"], ind["activities"], ind["participants"]) == (1, 1, 1, 3)
    assert now["feedback_count"] == 2 and ind["feedback_average"] == "4.50"
    assert [row["title"] for row in now["archives_late"]] == ["创业培训沙龙"]  # no notice, photos or sheet
    assert now["rent"]["status"] == "unknown"
    assert sum(m["reports"] for m in now["monthly"]) == 26 and now["monthly"][7]["missing"] == 1

    prev = before["indicators"]
    assert (prev["housed"], prev["moved_in"], prev["exited"], prev["graduates"], prev["followed"]) == (2, 0, 1, 0, 0)
    assert prev["revenue_wan"] == "40.00" and prev["tax_wan"] == "1.64" and prev["employees"] == 10 + 18
    assert prev["months_missing"] == 0 and prev["cultivated"] == 1 and prev["financing_wan"] == "0.00"
    assert (prev["visits"], prev["feedback_average"]) == (1, None)

    rows = {row["key"]: row for row in figures["indicators"]}
    assert [row["key"] for row in figures["indicators"]] == [key for key, _ in annual.INDICATORS]
    # 2025 misses a report: its money is not comparable with 2024's (no change, no percent, a note).
    for key in ("revenue_wan", "tax_wan"):
        assert (rows[key]["change"], rows[key]["change_percent"], rows[key]["note"]) == (None, None, "incomplete")
    assert (rows["employees"]["change"], rows["employees"]["change_percent"]) == ("-13", "-46.4")
    assert rows["employees"]["note"] is None                                # every December is in
    assert (rows["housed"]["change"], rows["moved_in"]["change"], rows["moved_in"]["change_percent"]) == (
        "0", "+1", None)
    assert rows["feedback_average"]["change"] is None


def test_the_drafts_are_written_from_the_figures(app, factory):
    base, _ = build_two_years(app, factory)
    figures = _figures(app, base)
    with app.test_request_context():
        sections = annual.draft_sections(figures)
    assert list(sections) == list(annual.SECTION_KEYS) and all(sections.values())
    assert "37.60" in sections["indicators"] and "1.32" in sections["indicators"]
    assert "乙" in sections["indicators"]                          # the company whose report is missing
    assert "甲" in sections["results"] and "乙" in sections["results"] and "丙" in sections["results"]
    assert str(YEAR + 1) in sections["plan"]


def _count_queries(app, base):
    statements = []

    def count(*args):
        statements.append(1)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            _figures(app, base)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
    return len(statements)


def test_the_number_of_queries_does_not_grow_with_the_companies(app, factory):
    base, _ = build_two_years(app, factory)
    _figures(app, base)  # the base's rules row is made on first use
    few = _count_queries(app, base)
    for n in range(5, 9):
        company = factory.company(base, n=n, name=f"新公司{n}", moved_in_on=date(2024, 2, 1))
        _reports(app, base, company, _months(YEAR), 100_000, 1_000, 2)
        _milestone(app, base, company, "award", "创客中国获奖", date(2025, 7, 1))
        factory.visit(base, company, category="coaching", occurred_on=date(2025, 7, 2))
    assert _count_queries(app, base) == few < 150, few


def _summary_url(base, year=YEAR, suffix=""):
    return f"/b/{base.slug}/filings/annual/{year}{suffix}"


def _stored(app, base, year=YEAR):
    with app.app_context(), scoped_to(base.id):
        summary = db.session.scalar(select(AnnualSummary).where(AnnualSummary.year == year))
        if summary is None:
            return None
        return {"sections": dict(summary.sections), "figures": summary.figures, "version": summary.version,
                "sent_on": summary.sent_on}


def _draft(browser, base, year=YEAR):
    response = browser.post(_summary_url(base, year, "/draft"), form_page=f"/b/{base.slug}/filings/annual")
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def _text_of(document):
    parts = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def test_the_manager_drafts_edits_and_downloads_the_document_and_annex(app, factory, browser):
    base, _ = build_two_years(app, factory)
    browser.login(base.owner)
    listing = browser.get(f"/b/{base.slug}/filings/annual")
    assert listing.status_code == 200 and 'id="annual-list"' in listing.get_data(as_text=True)
    _draft(browser, base)
    stored = _stored(app, base)
    assert stored["figures"]["current"]["indicators"]["revenue_wan"] == "37.60"
    assert stored["sections"]["indicators"] == stored["figures"]["drafted_sections"]["indicators"]
    # Drafting again changes nothing.
    _draft(browser, base)
    assert _stored(app, base)["version"] == stored["version"]

    page = browser.get(_summary_url(base))
    assert page.status_code == 200 and 'id="summary-form"' in page.get_data(as_text=True)
    response = browser.post(_summary_url(base), {"measures": MEASURES + "\r\n第二段。"})
    assert response.status_code == 302
    saved = _stored(app, base)
    assert saved["sections"]["measures"] == MEASURES + "\n第二段。"
    assert saved["sections"]["results"] == stored["sections"]["results"]        # not posted: untouched

    docx = browser.get(_summary_url(base, suffix="/summary.docx"))
    assert docx.status_code == 200 and docx.mimetype.endswith("wordprocessingml.document")
    document = Document(io.BytesIO(docx.data))
    text = _text_of(document)
    assert "晋阳双创基地" in document.paragraphs[0].text and str(YEAR) in document.paragraphs[0].text
    assert MEASURES in text and "第二段。" in text
    assert "37.60" in text and "40.00" in text and "1.32" in text
    with app.test_request_context(), force_locale(annual.document_locale()):
        incomplete = str(annual.note_label("incomplete"))
    revenue = [cell.text for cell in document.tables[0].rows[6].cells]
    assert revenue[1:] == ["37.60", "40.00", incomplete] and "-2.40" not in text
    assert "甲" in text and "乙" in text and "丙" in text                     # results and graduates tables
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    with app.test_request_context(), force_locale(annual.document_locale()):
        assert headings == [str(annual.SECTION_HEADINGS[key]) for key in annual.SECTION_KEYS]  # 001 §四's order
    indicators = document.tables[0]
    assert [cell.text for cell in indicators.rows[0].cells][1:3] == [str(YEAR), str(PREVIOUS)]
    housed, employees = ([cell.text for cell in indicators.rows[n].cells] for n in (1, 8))
    assert housed[1:3] == ["2", "2"] and housed[3].startswith("0")
    assert employees[1:3] == ["15", "28"] and employees[3].startswith("-13") and "-46.4" in employees[3]
    fonts = document.styles["Normal"].element.rPr.rFonts
    assert fonts.get(qn("w:eastAsia")) == "SimSun"

    annex = browser.get(_summary_url(base, suffix="/annex.xlsx"))
    assert annex.status_code == 200
    book = load_workbook(io.BytesIO(annex.data))
    assert len(book.sheetnames) == 6
    cells = [str(cell) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for cell in row]
    assert "乙" in cells and "2025-08" in cells
    revenue = next(book.worksheets[0].iter_rows(min_row=7, max_row=7))    # the sixth indicator, after its header
    assert [(cell.value, cell.data_type) for cell in revenue[1:]] == [
        (37.6, "n"), (40, "n"), (incomplete, "s")]                          # numbers as numbers, notes as text


def test_refreshing_the_figures_keeps_the_edited_text(app, factory, browser):
    base, ids = build_two_years(app, factory)
    browser.login(base.owner)
    _draft(browser, base)
    assert browser.post(_summary_url(base), {"measures": MEASURES}).status_code == 302
    before = _stored(app, base)
    # 乙 files its missing August report (0.2 万元 more) and 丙's result arrives.
    _reports(app, base, ids["乙"], [date(2025, 8, 1)], 200_000, 0, 3)
    _milestone(app, base, ids["丙"], "above_scale", "升规入统", date(2025, 5, 1))
    response = browser.post(_summary_url(base, suffix="/refresh"), form_page=_summary_url(base))
    assert response.status_code == 302
    after = _stored(app, base)
    assert after["figures"]["current"]["indicators"]["revenue_wan"] == "37.80"
    assert after["figures"]["current"]["indicators"]["months_missing"] == 0
    assert after["sections"]["measures"] == MEASURES                          # edited: kept
    assert "37.80" in after["sections"]["indicators"] and "37.60" not in after["sections"]["indicators"]
    assert "丙" in after["sections"]["results"] and after["sections"]["results"] != before["sections"]["results"]
    assert after["version"] > before["version"]


def test_a_stale_save_is_a_conflict_that_keeps_the_typed_text(app, factory, browser, new_browser):
    base, _ = build_two_years(app, factory)
    browser.login(base.owner)
    _draft(browser, base)
    opened = browser.hidden_fields(_summary_url(base))                     # the form as first opened
    other = new_browser()
    other.login(base.owner)
    assert other.post(_summary_url(base), {"plan": "另一位管理员写的计划"}).status_code == 302
    typed = "我在另一个窗口写的措施"
    response = browser.client.post(_summary_url(base), data={**opened, "measures": typed, "plan": "我的计划"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert typed in page and "我的计划" in page and "另一位管理员写的计划" in page
    stored = _stored(app, base)
    assert stored["sections"]["plan"] == "另一位管理员写的计划" and stored["sections"]["measures"] != typed
    # The conflict page carries the current version: saving from it now succeeds.
    again = {**browser.hidden_fields(_summary_url(base)), "measures": typed}
    assert browser.client.post(_summary_url(base), data=again).status_code == 302
    assert _stored(app, base)["sections"]["measures"] == typed


def test_the_summary_marked_sent_is_kept_until_the_mark_is_withdrawn(app, factory, browser):
    base, _ = build_two_years(app, factory)
    browser.login(base.owner)
    _draft(browser, base)
    url = _summary_url(base, suffix="/sent")
    future = (datetime.now(timezone.utc) + timedelta(days=3)).date().isoformat()
    for bad, expected in (("abc", 422), (future, 422), (f"{YEAR}-12-31", 422), ("", 422)):
        response = browser.post(url, {"sent_on": bad}, form_page=_summary_url(base))
        assert response.status_code == expected and field_errors(response).get("sent_on"), bad
        assert _stored(app, base)["sent_on"] is None
    assert browser.post(url, {"sent_on": f"{YEAR + 1}-01-12"}, form_page=_summary_url(base)).status_code == 302
    assert _stored(app, base)["sent_on"] == date(YEAR + 1, 1, 12)
    sections = _stored(app, base)["sections"]
    response = browser.post(_summary_url(base), {"measures": "改动", "version": str(_stored(app, base)["version"])},
                            form_page=_summary_url(base))
    assert response.status_code == 409 and _stored(app, base)["sections"] == sections
    browser.post(_summary_url(base, suffix="/refresh"), form_page=_summary_url(base))
    assert _stored(app, base)["sections"] == sections
    assert browser.post(url, {"action": "withdraw"}, form_page=_summary_url(base)).status_code == 302
    assert _stored(app, base)["sent_on"] is None


def test_bad_input_is_refused_on_the_field_and_out_of_range_years_are_404(app, factory, browser):
    base, _ = build_two_years(app, factory)
    browser.login(base.owner)
    _draft(browser, base)
    before = _stored(app, base)
    response = browser.post(_summary_url(base), {"measures": "长" * (annual.SECTION_MAX + 1)})
    assert response.status_code == 422 and field_errors(response).get("measures")
    response = browser.post(_summary_url(base), {"measures": "含控制字符\x00"})
    assert response.status_code == 422 and field_errors(response).get("measures")
    assert _stored(app, base) == before
    this_year = to_local(datetime.now(timezone.utc), "Asia/Shanghai").year
    for year in (1999, this_year, this_year + 1):
        assert browser.get(_summary_url(base, year)).status_code == 404
        assert browser.get(_summary_url(base, year, "/summary.docx")).status_code == 404
    assert browser.post(_summary_url(base, this_year, "/draft"),
                        form_page=f"/b/{base.slug}/filings/annual").status_code == 404
    # A year without a summary: the page offers to draft it; its files and actions are 404.
    assert browser.get(_summary_url(base, 2023)).status_code == 200
    assert browser.get(_summary_url(base, 2023, "/annex.xlsx")).status_code == 404
    assert browser.post(_summary_url(base, 2023, "/refresh"),
                        form_page=f"/b/{base.slug}/filings/annual").status_code == 404
    # A year that ended before the base existed (created on 1 January 2022) owes no summary.
    assert browser.get(_summary_url(base, 2021)).status_code == 404
    assert browser.post(_summary_url(base, 2021, "/draft"),
                        form_page=f"/b/{base.slug}/filings/annual").status_code == 404


def test_staff_read_tenants_and_mentors_are_refused_and_another_base_is_404(app, factory, browser, new_browser):
    base, _ = build_two_years(app, factory)
    other = factory.base("bravo")
    manager = new_browser()
    manager.login(base.owner)
    _draft(manager, base)
    before = _stored(app, base)
    browser.login(base.users["staff"])
    page = browser.get(_summary_url(base))
    assert page.status_code == 200 and 'id="summary-text"' in page.get_data(as_text=True)
    assert 'id="summary-form"' not in page.get_data(as_text=True)
    assert browser.get(_summary_url(base, suffix="/summary.docx")).status_code == 200
    assert browser.get(_summary_url(base, suffix="/annex.xlsx")).status_code == 200
    for suffix, data in (("", {"measures": "员工改的"}), ("/refresh", {}), ("/sent", {"sent_on": "2026-01-05"}),
                         ("/draft", {})):
        assert browser.post(_summary_url(base, suffix=suffix), data,
                            form_page=f"/b/{base.slug}/filings/annual").status_code == 403
    assert _stored(app, base) == before
    for role in ("tenant", "mentor"):
        user = new_browser()
        user.login(base.users[role])
        assert user.get(f"/b/{base.slug}/filings/annual").status_code == 403
        assert user.get(_summary_url(base)).status_code == 403
        assert user.get(_summary_url(base, suffix="/summary.docx")).status_code == 403
    outsider = new_browser()
    outsider.login(other.owner)
    assert outsider.get(_summary_url(base)).status_code == 404
    assert outsider.get(_summary_url(base, suffix="/summary.docx")).status_code == 404
    anonymous = new_browser()
    assert anonymous.get(_summary_url(base)).status_code == 302
    # The other base's own page for the year knows nothing of this base's summary.
    assert 'id="summary-form"' not in outsider.get(_summary_url(other)).get_data(as_text=True)


def test_the_january_job_drafts_the_year_before_once(app, factory):
    base, _ = build_two_years(app, factory)
    with app.app_context(), unscoped("test reads the base's creation"):
        created = db.session.get(Base, base.id)
        created_year = to_local(created.created_at, created.timezone).year
    # December's reports are due on the 10th (the default rule): until then December would read as missing.
    january = datetime(created_year + 1, 1, 11, 1, 10, tzinfo=timezone.utc)
    with app.app_context():
        early = run_job(ANNUAL_JOB, now=datetime(created_year + 1, 1, 10, 15, tzinfo=timezone.utc))
        first = run_job(ANNUAL_JOB, now=january)
        second = run_job(ANNUAL_JOB, now=january + timedelta(days=1))
        catch_up = run_job(ANNUAL_JOB, now=datetime(created_year + 1, 2, 20, 1, tzinfo=timezone.utc))
    assert base.id in early.skipped
    assert base.id in first.done and base.id in second.skipped and base.id in catch_up.skipped
    with app.app_context(), scoped_to(base.id):
        assert db.session.scalar(select(func.count(AnnualSummary.id))) == 1
        summary = db.session.scalar(select(AnnualSummary))
        assert summary.year == created_year and summary.sections["measures"]
    with app.app_context(), unscoped("test reads the base"):
        stored = db.session.get(Base, base.id)
        assert annual_period(stored, january) == str(created_year)
        assert annual_period(stored, datetime(created_year + 1, 4, 1, 1, tzinfo=timezone.utc)) is None
        assert annual_period(stored, datetime(created_year + 1, 12, 1, 1, tzinfo=timezone.utc)) is None
        # A base created this year owes no summary of the year before.
        assert annual_period(stored, datetime(created_year, 12, 31, 1, tzinfo=timezone.utc)) is None


def test_the_dashboard_counts_down_to_15_january(app, factory):
    base, _ = build_two_years(app, factory)
    with app.test_request_context(), scoped_to(base.id):
        stored = db.session.get(Base, base.id)
        created_year = to_local(stored.created_at, stored.timezone).year
        next_year = created_year + 1
        due = annual.annual_due(stored, date(next_year, 1, 10))
        assert (due.year, due.deadline_on, due.days_left, due.summary) == (
            created_year, date(next_year, 1, 15), 5, None)
        assert annual.annual_due(stored, date(next_year, 1, 20)).days_left == -5
        assert annual.annual_due(stored, date(next_year, 4, 1)) is None
        assert annual.annual_due(stored, date(created_year, 12, 31)) is None       # the base is new this year
        summary = annual.ensure_summary(stored, created_year, today=date(next_year, 1, 10),
                                        now=datetime.now(timezone.utc))
        annual.mark_sent(summary, date(next_year, 1, 12), None)
        assert annual.annual_due(stored, date(next_year, 1, 14)).sent_on == date(next_year, 1, 12)
        assert annual.annual_due(stored, date(next_year, 1, 16)) is None          # sent: no more reminders
        g.base = stored
        html = render_template("filings/_annual_panel.html",
                               panel={"annual": annual.annual_due(stored, date(next_year, 1, 14))})
        assert 'id="annual-summary-panel"' in html and f"/filings/annual/{created_year}" in html
        db.session.rollback()


@pytest.mark.parametrize("kind", ["docx", "xlsx"])
def test_the_files_are_written_from_a_summary_without_figures(app, factory, kind):
    """A summary row whose figures are empty (made by hand or by an older version) still gives a document."""
    from operator_app.filings.annual_docx import summary_annex_xlsx, summary_docx

    base = factory.base("gamma")
    with app.test_request_context(), scoped_to(base.id):
        summary = AnnualSummary(year=YEAR, figures={}, sections={"measures": MEASURES})
        data = summary_docx(summary, db.session.get(Base, base.id)) if kind == "docx" else summary_annex_xlsx(summary)
    if kind == "docx":
        assert MEASURES in _text_of(Document(io.BytesIO(data)))
    else:
        assert load_workbook(io.BytesIO(data)).sheetnames


# --- Regression tests of the review ----------------------------------------------------------------------------

def _one_company_base(app, factory, slug, reported_2025):
    """A base with one company housed since 2023 that reported every month of 2024 and ``reported_2025``."""
    base = factory.base(slug)
    company = factory.company(base, n=11, name="甲", moved_in_on=date(2023, 3, 1))
    _reports(app, base, company, _months(PREVIOUS), 1_000_000, 50_000, 10)
    _reports(app, base, company, reported_2025, 1_500_000, 60_000, 12)
    return base, company


def test_the_headcount_at_the_years_end_is_unknown_while_a_housed_company_has_not_reported_december(
        app, factory):
    base, company = _one_company_base(app, factory, "beta", _months(YEAR, 1, 11))
    figures = _figures(app, base, today=date(2026, 1, 2))
    ind, rows = figures["current"]["indicators"], {row["key"]: row for row in figures["indicators"]}
    assert ind["employees"] is None and ind["months_missing"] == 1
    assert figures["current"]["december_unreported"] == [{"company_id": company, "company_name": "甲"}]
    assert (rows["employees"]["change"], rows["employees"]["note"]) == (None, "incomplete")
    with app.test_request_context(), force_locale(annual.document_locale()):
        text = annual.draft_sections(figures)["indicators"]
        unknown = gettext("The headcount at the year's end is not known: %(n)d companies housed have not "
                          "reported December (%(companies)s).", n=1, companies="甲")
    assert unknown in text                                                  # no headcount made up


def test_a_year_without_any_report_has_no_revenue_and_is_not_compared(app, factory):
    base, _ = _one_company_base(app, factory, "gamma", [])
    figures = _figures(app, base, today=date(2026, 2, 1))
    ind, rows = figures["current"]["indicators"], {row["key"]: row for row in figures["indicators"]}
    assert (ind["revenue_wan"], ind["tax_wan"], ind["employees"], ind["months_missing"]) == (None, None, None, 12)
    assert figures["current"]["money_fen"]["revenue"] is None
    for key in ("revenue_wan", "tax_wan", "employees"):
        assert (rows[key]["change"], rows[key]["change_percent"], rows[key]["note"]) == (None, None, "incomplete")
    assert all(month["revenue_wan"] is None and month["reports"] == 0 for month in figures["current"]["monthly"])
    with app.test_request_context():
        text = annual.draft_sections(figures)["indicators"]
    assert "100" not in text and "0.00" not in text                            # never "down 100%" nor zero


def test_only_results_reached_in_the_base_or_while_it_follows_a_graduate_count(app, factory):
    base = factory.base("delta")
    gone = factory.company(base, n=13, name="戊", moved_in_on=date(2020, 1, 1))
    graduate = factory.company(base, n=14, name="己", moved_in_on=date(2020, 1, 1))
    late = factory.company(base, n=15, name="庚", moved_in_on=date(2025, 6, 1))
    _exit(app, base, gone, "voluntary", date(2023, 6, 30))
    _exit(app, base, graduate, "graduation", date(2023, 6, 30))
    _milestone(app, base, gone, "listing", "在创业板上市", date(2025, 8, 1))       # after it left: not the base's
    _milestone(app, base, graduate, "listing", "在主板上市", date(2025, 8, 1))     # followed until 2026: counts
    _milestone(app, base, late, "patent", "入驻前的专利", date(2025, 3, 1))          # before it moved in
    _milestone(app, base, late, "patent", "入驻后的专利", date(2025, 7, 1))
    by_kind = {row["kind"]: row for row in _figures(app, base, today=date(2026, 2, 1))["current"]["cultivated"]}
    assert by_kind["listing"]["names"] == ["己"]
    assert [item["title"] for item in by_kind["patent"]["items"]] == ["入驻后的专利"]


def test_the_january_job_waits_until_decembers_reports_are_due_and_catches_up_until_march(app, factory):
    base, _ = build_two_years(app, factory)
    with app.app_context(), scoped_to(base.id):
        from tenants.rules import rules_of

        stored = db.session.get(Base, base.id)
        rules_of(stored).report_due_day = 20
        db.session.commit()
        shanghai = timezone(timedelta(hours=8))
        for day, expected in ((date(2026, 1, 1), None), (date(2026, 1, 20), None), (date(2026, 1, 21), "2025"),
                              (date(2026, 3, 31), "2025"), (date(2026, 4, 1), None)):
            now = datetime.combine(day, datetime.min.time(), shanghai) + timedelta(hours=23, minutes=30)
            assert annual_period(stored, now) == expected, day


def test_a_base_created_this_year_owes_no_summary_of_the_year_before(app, factory, browser):
    base = factory.base("echo")
    browser.login(base.owner)
    this_year = to_local(datetime.now(timezone.utc), "Asia/Shanghai").year
    listing = browser.get(f"/b/{base.slug}/filings/annual").get_data(as_text=True)
    assert f'data-year="{this_year - 1}"' not in listing and "text-bg-danger" not in listing
    assert browser.get(_summary_url(base, this_year - 1)).status_code == 404
    assert browser.post(_summary_url(base, this_year - 1, "/draft"),
                        form_page=f"/b/{base.slug}/filings/annual").status_code == 404
    # A summary made for it anyway (by the service, as the isolation tests do) is shown, never as late.
    with app.test_request_context(), scoped_to(base.id):
        annual.ensure_summary(db.session.get(Base, base.id), this_year - 1, today=date(this_year, 1, 20),
                              now=datetime.now(timezone.utc))
        db.session.commit()
    listing = browser.get(f"/b/{base.slug}/filings/annual").get_data(as_text=True)
    assert f'data-year="{this_year - 1}"' in listing and "text-bg-danger" not in listing
    assert browser.get(_summary_url(base, this_year - 1)).status_code == 200


TEXTAREA = re.compile(r'<textarea[^>]*name="([a-z_]+)"[^>]*>(.*?)</textarea>', re.S)


def _as_a_browser_submits(page):
    """The summary form as a browser submits it: every textarea (its first line end dropped, line ends sent as
    CR LF) and every hidden input of the form."""
    form = page[page.index('id="summary-form"'):]
    form = form[:form.index("</form>")]
    data = {}
    for name, text in TEXTAREA.findall(form):
        text = html.unescape(text)
        text = text[2:] if text.startswith("\r\n") else text[1:] if text.startswith("\n") else text
        data[name] = text.replace("\r\n", "\n").replace("\n", "\r\n")
    for tag in re.findall(r"<input\b[^>]*>", form):
        attributes = dict(re.findall(r'([\w-]+)="([^"]*)"', tag))
        if attributes.get("type") == "hidden" and "name" in attributes:
            data[attributes["name"]] = html.unescape(attributes.get("value", ""))
    assert set(annual.SECTION_KEYS) <= set(data) and data.get("shown")
    return data


def _open(client, base):
    return _as_a_browser_submits(client.get(_summary_url(base)).get_data(as_text=True))


def test_saving_again_from_the_conflict_page_keeps_the_other_managers_section(app, factory, browser, new_browser):
    base, _ = build_two_years(app, factory)
    browser.login(base.owner)
    _draft(browser, base)
    mine = _open(browser.client, base)                                      # A opens the page
    other = new_browser()
    other.login(base.owner)
    theirs = _open(other.client, base)                                      # B opens it too
    assert other.client.post(_summary_url(base), data={**theirs, "plan": "B 写的明年计划"}).status_code == 302
    # A changed the measures only: B's plan is kept, nothing is in conflict.
    assert browser.client.post(_summary_url(base), data={**mine, "measures": "A 写的工作措施"}).status_code == 302
    sections = _stored(app, base)["sections"]
    assert (sections["measures"], sections["plan"]) == ("A 写的工作措施", "B 写的明年计划")

    # Both change the plan: a conflict. The page keeps A's plan beside B's, shows B's measures... and saving
    # from it writes A's plan without bringing back any text A did not touch.
    mine, theirs = _open(browser.client, base), _open(other.client, base)
    assert other.client.post(_summary_url(base), data={**theirs, "plan": "B 改的计划",
                                                       "problems": "B 写的问题"}).status_code == 302
    conflict = browser.client.post(_summary_url(base), data={**mine, "plan": "A 改的计划"})
    assert conflict.status_code == 409
    page = conflict.get_data(as_text=True)
    assert 'data-saved="plan"' in page and "B 改的计划" in page and 'data-saved="problems"' not in page
    again = _as_a_browser_submits(page)
    assert (again["plan"], again["problems"]) == ("A 改的计划", "B 写的问题")
    assert browser.client.post(_summary_url(base), data=again).status_code == 302
    sections = _stored(app, base)["sections"]
    assert (sections["plan"], sections["problems"], sections["measures"]) == ("A 改的计划", "B 写的问题",
                                                                              "A 写的工作措施")


def test_a_refresh_during_an_edit_keeps_the_untouched_sections_drafts(app, factory, browser, new_browser):
    base, ids = build_two_years(app, factory)
    browser.login(base.owner)
    _draft(browser, base)
    mine = _open(browser.client, base)
    _reports(app, base, ids["乙"], [date(2025, 8, 1)], 200_000, 0, 3)         # the missing report arrives
    other = new_browser()
    other.login(base.owner)
    assert other.post(_summary_url(base, suffix="/refresh"), form_page=_summary_url(base)).status_code == 302
    assert browser.client.post(_summary_url(base), data={**mine, "measures": MEASURES}).status_code == 302
    stored = _stored(app, base)
    drafted = stored["figures"]["drafted_sections"]
    assert stored["sections"]["measures"] == MEASURES
    assert "37.80" in stored["sections"]["indicators"] and "37.60" not in stored["sections"]["indicators"]
    assert all(stored["sections"][key] == drafted[key] for key in annual.SECTION_KEYS if key != "measures")


def test_a_refresh_that_redrafts_the_section_being_edited_is_a_conflict(app, factory, browser, new_browser):
    base, ids = build_two_years(app, factory)
    browser.login(base.owner)
    _draft(browser, base)
    mine = _open(browser.client, base)
    _reports(app, base, ids["乙"], [date(2025, 8, 1)], 200_000, 0, 3)
    other = new_browser()
    other.login(base.owner)
    assert other.post(_summary_url(base, suffix="/refresh"), form_page=_summary_url(base)).status_code == 302
    conflict = browser.client.post(_summary_url(base), data={**mine, "indicators": "我写的指标说明"})
    assert conflict.status_code == 409
    again = _as_a_browser_submits(conflict.get_data(as_text=True))
    assert again["indicators"] == "我写的指标说明" and "37.80" in conflict.get_data(as_text=True)
    assert browser.client.post(_summary_url(base), data=again).status_code == 302
    stored = _stored(app, base)
    drafted = stored["figures"]["drafted_sections"]
    assert stored["sections"]["indicators"] == "我写的指标说明"
    assert all(stored["sections"][key] == drafted[key] for key in annual.SECTION_KEYS if key != "indicators")


def _statements_of_year_figures(app, base):
    statements = []

    def count(*args):
        statements.append(1)

    with app.test_request_context(), scoped_to(base.id):
        stored = db.session.get(Base, base.id)
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            annual.year_figures(stored, YEAR, TODAY)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
    return len(statements)


def test_the_number_of_statements_does_not_grow_with_the_activities(app, factory):
    base, _ = build_two_years(app, factory)
    _figures(app, base)  # the base's rules row is made on first use
    staff = factory.service_person(base)
    for year in (YEAR - 1, YEAR):  # one activity in each of the eight quarters: each quarter counts its sign-ins
        for month in (2, 5, 8, 11):
            factory.activity(base, organiser_id=staff, title=f"季度活动{year}-{month}",
                             starts_at=datetime(year, month, 5, 6, tzinfo=timezone.utc))
    few = _statements_of_year_figures(app, base)
    for n in range(8):
        activity = factory.activity(base, organiser_id=staff, title=f"路演活动{n}",
                                    starts_at=datetime(YEAR - n % 2, 3 + n, 5, 6, tzinfo=timezone.utc))
        for k in range(2):
            factory.signin(base, activity, phone=f"139000{n:02d}{k:03d}")
    assert _statements_of_year_figures(app, base) == few


def test_a_base_name_with_characters_a_document_cannot_hold_still_gives_the_document(app, factory, browser):
    from types import SimpleNamespace

    from operator_app.filings.annual_docx import summary_docx

    base, _ = build_two_years(app, factory)
    browser.login(base.owner)
    _draft(browser, base)
    with app.app_context(), unscoped("the test names the base"):
        db.session.execute(update(Base).where(Base.id == base.id).values(name="晋阳\uffff\x01基地"))
        db.session.commit()
    response = browser.get(_summary_url(base, suffix="/summary.docx"))
    assert response.status_code == 200
    document = Document(io.BytesIO(response.data))
    assert document.core_properties.title.startswith("晋阳基地") and document.paragraphs[0].text.startswith("晋阳基地")
    with app.test_request_context(), scoped_to(base.id):
        summary = db.session.scalar(select(AnnualSummary))
        data = summary_docx(summary, SimpleNamespace(name="长\ud800" * 300))
    assert len(Document(io.BytesIO(data)).core_properties.title) == 255


def test_the_annex_leaves_a_month_without_reports_empty_and_writes_text_as_text(app, factory):
    from operator_app.filings.annual_docx import summary_annex_xlsx

    base, _ = _one_company_base(app, factory, "foxtrot", _months(YEAR, 1, 6))
    evil = factory.company(base, n=12, name='=HYPERLINK("http://x","y")', moved_in_on=date(2023, 1, 1))
    _milestone(app, base, evil, "award", "+cmd|' /C calc'!A0", date(2025, 5, 1))
    with app.test_request_context(), scoped_to(base.id):
        summary = annual.ensure_summary(db.session.get(Base, base.id), YEAR, today=date(2026, 2, 1),
                                        now=datetime.now(timezone.utc))
        book = load_workbook(io.BytesIO(summary_annex_xlsx(summary)))
        db.session.rollback()
    months = {row[0].value: row for row in book.worksheets[1].iter_rows(min_row=2)}
    assert [(cell.value, cell.data_type) for cell in months["2025-06"][1:4]] == [(1.5, "n"), (0.06, "n"), (1, "n")]
    assert [cell.value for cell in months["2025-07"][1:5]] == [None, None, 0, 2]   # empty, never 0.00
    results = [cell for row in book.worksheets[3].iter_rows(min_row=2) for cell in row]
    assert {(cell.value, cell.data_type) for cell in results if cell.value in (
        '=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0")} == {
        ('=HYPERLINK("http://x","y")', "s"), ("+cmd|' /C calc'!A0", "s")}
