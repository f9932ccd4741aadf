"""The annual work summary (年度工作总结) on a hand-built base over two years: the figures against values computed
by hand, the Word document and its annex, the January job made once, the manager's text kept through a refresh
and through a conflicting save, and who may do what."""
import io
from datetime import date, datetime, timedelta, timezone

import pytest
from docx import Document
from docx.oxml.ns import qn
from flask import g, render_template
from flask_babel import force_locale
from openpyxl import load_workbook
from sqlalchemy import event, func, select

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


def build_two_years(app, factory, slug="alpha"):
    """甲 housed both years; 乙 moved in April 2025 and missed August; 丙 graduated 30 June 2025; 丁 left
    (voluntarily) 15 September 2024. Returns the base and the companies' ids."""
    base = factory.base(slug, name="晋阳双创基地")
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
    assert ind["employees"] == 12 + 3                                        # December's reports
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
    assert (rows["revenue_wan"]["change"], rows["revenue_wan"]["change_percent"]) == ("-2.40", "-6.0")
    assert (rows["employees"]["change"], rows["employees"]["change_percent"]) == ("-13", "-46.4")
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
    assert "37.60" in text and "40.00" in text and "-2.40" in text and "1.32" in text
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
    assert "37.60" in cells and "乙" in cells and "2025-08" in cells


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
    assert browser.get(_summary_url(base, 2020)).status_code == 200
    assert browser.get(_summary_url(base, 2020, "/annex.xlsx")).status_code == 404
    assert browser.post(_summary_url(base, 2020, "/refresh"),
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
    january = datetime(created_year + 1, 1, 3, 1, 10, tzinfo=timezone.utc)
    with app.app_context():
        first = run_job(ANNUAL_JOB, now=january)
        second = run_job(ANNUAL_JOB, now=january + timedelta(days=1))
        catch_up = run_job(ANNUAL_JOB, now=datetime(created_year + 1, 2, 20, 1, tzinfo=timezone.utc))
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
