"""Long actions show progress (issue 12, the UX bar): a form marked data-busy, once submitted, disables its button and
says what is under way in a live status until the answer arrives; the answer with errors gives a form that can be
sent again, and is. The form's state is read at the moment of submission by a listener the test adds after the
app's own (listeners run in order), and kept in the tab's sessionStorage across the navigation that follows."""
from io import BytesIO
from pathlib import Path

from openpyxl import load_workbook
from playwright.sync_api import expect

from operator_app.timeutil import today_in

from ..helpers import valid_uscc
from .conftest import log_in, untranslated
from .test_journeys_setup import roster_company, roster_rows, workbook_bytes, xlsx_upload

WATCH = """(selector) => document.querySelector(selector).addEventListener('submit', (event) => {
  const form = event.target, status = form.querySelector('[role=status]');
  sessionStorage.setItem('submitted', JSON.stringify({
    status: status ? status.textContent.trim() : null, live: status && status.getAttribute('aria-live'),
    busy: form.getAttribute('aria-busy'),
    disabled: [...form.querySelectorAll('button[type=submit]')].every((button) => button.disabled)}));
})"""


def watch(page, form):
    """Keep the state of ``form`` as it is once submitted (read it with ``submitted``)."""
    page.evaluate("sessionStorage.removeItem('submitted')")
    page.evaluate(WATCH, form)


def submitted(page):
    return page.evaluate("JSON.parse(sessionStorage.getItem('submitted'))")


def showed_progress(page, text):
    """The submitted form said ``text`` in a live status, with its button disabled."""
    assert submitted(page) == {"status": text, "live": "polite", "busy": "true", "disabled": True}


def test_an_import_shows_progress_and_a_corrected_file_can_be_sent_again(factory, page):
    base = factory.base()
    log_in(page, base.owner.email, base.owner.password)
    page.goto(f"/b/{base.slug}/tenants/import")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载模板").click()
    template = load_workbook(BytesIO(Path(download.value.path()).read_bytes()))
    sheet = template.worksheets[0]
    good = roster_company("太原云杉软件有限公司", valid_uscc(301), "A-301")
    roster_rows(sheet, [{**good, "统一社会信用代码": "not-a-code"}])
    form = page.locator("#import-form")
    status = form.get_by_role("status")
    expect(status).to_have_text("")                                       # nothing under way yet
    expect(status).to_have_attribute("aria-live", "polite")

    page.get_by_label("Excel 文件（.xlsx）").set_input_files(xlsx_upload(workbook_bytes(template)))
    watch(page, "#import-form")
    with page.expect_navigation():
        page.get_by_role("button", name="检查并导入").click()
    showed_progress(page, "正在检查并导入文件…")
    # The form comes back with the problem, ready to be sent again.
    expect(page.locator("#import-errors")).to_be_visible()
    expect(form.get_by_role("button", name="检查并导入")).to_be_enabled()
    expect(form.get_by_role("status")).to_have_text("")
    assert untranslated(page) == []

    roster_rows(sheet, [good])
    page.get_by_label("Excel 文件（.xlsx）").set_input_files(xlsx_upload(workbook_bytes(template)))
    watch(page, "#import-form")
    with page.expect_navigation(url=f"**/b/{base.slug}/tenants/"):
        page.get_by_role("button", name="检查并导入").click()
    showed_progress(page, "正在检查并导入文件…")
    assert page.url.endswith(f"/b/{base.slug}/tenants/")
    expect(page.get_by_text("已导入 1 家企业。")).to_be_visible()


def test_generating_a_filing_shows_progress_then_the_filing(factory, page):
    base = factory.base()
    log_in(page, base.owner.email, base.owner.password)
    today = today_in("Asia/Shanghai")
    year, quarter = (today.year, (today.month - 1) // 3) if today.month > 3 else (today.year - 1, 4)
    page.goto(f"/b/{base.slug}/filings/quarterly/{year}/{quarter}")
    watch(page, "form[data-busy]")
    with page.expect_navigation(url="**/filings/*"):
        page.get_by_role("button", name="立即生成报送").click()
    showed_progress(page, "正在生成报送…")
    expect(page.locator("#indicators")).to_be_visible()
    assert untranslated(page) == []
