"""Daily journeys (issue 12), driven in Chromium as people use the app: a workstation person checks in on a phone
and a tenant contact files the month and rates a service (4); staff run an activity from creation to a complete
archive and export the ledger (5); the quarterly filing made by the job is read, downloaded, submitted and stays
frozen (6). Each page visited is checked for untranslated English, and on a phone for horizontal scrolling."""
from datetime import date, datetime, timedelta, timezone
from io import BytesIO
from zoneinfo import ZoneInfo

import openpyxl
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select, update

from ledger.models import Activity, Feedback, SignIn
from operator_app.accounts.models import Base
from operator_app.db import scoped_to, unscoped
from operator_app.extensions import db
from operator_app.filings import services as filing_services
from operator_app.filings.jobs import QUARTERLY_JOB
from operator_app.filings.models import QuarterlyFiling
from operator_app.filings.quarterly import quarter_bounds, quarter_months
from operator_app.scheduler import run_job
from operator_app.timeutil import today_in
from tenants.models import Attendance, MonthlyReport

from ..helpers import PDF_BYTES
from ..operator_app.test_quarterly_filing import report
from .conftest import PHONE, log_in, no_horizontal_scroll, untranslated

SHANGHAI = ZoneInfo("Asia/Shanghai")
SCREENSHOTS = "/tmp"


def looks_right(window):
    """Every page: all in Chinese; on a phone, nothing wider than the screen."""
    assert untranslated(window) == [], window.url
    if window.viewport_size == PHONE:
        assert no_horizontal_scroll(window), window.url


def today_here():
    return today_in("Asia/Shanghai")


def jpeg(colour):
    """A small JPEG as a phone would send it."""
    buffer = BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, "JPEG")
    return buffer.getvalue()


# --- Journey 4 ---------------------------------------------------------------------------------------------

def test_a_workstation_person_checks_in_and_the_tenant_files_the_month_and_rates_a_service(
        app, factory, screens, page, phone):
    base = factory.base()
    company = factory.company(base, name="晋阳云帆科技有限公司", is_workstation=True, workstation_count=4)
    person_id, pin = factory.person(base, company, name="刘洋", phone="13912345678")
    factory.link_tenant(base, company)
    staff_member = factory.service_person(base, name="李娜")
    factory.visit(base, company, staff_id=staff_member, category="coaching", occurred_on=today_here())

    # The manager adds the entrance as a check-in point and opens its QR code of the day.
    log_in(page, base.owner.email, base.owner.password)
    page.goto(f"/b/{base.slug}/tenants/attendance/points")
    looks_right(page)
    expect(page.locator("#no-points")).to_be_visible()                            # the empty list says what to do
    page.get_by_label("入口或区域").fill("一楼大厅")
    page.get_by_role("button", name="添加签到点").click()
    page.get_by_role("link", name="今日二维码").click()
    looks_right(page)
    assert page.locator("#qr svg").count() == 1
    checkin_link = page.locator("code").inner_text().strip()
    assert "/checkin/" in checkin_link

    # On their phone, the person scans the code: a mistyped PIN keeps the number typed; the right one checks in.
    phone.goto(checkin_link)
    looks_right(phone)
    phone.get_by_label("手机号码").fill("13912345678")
    phone.get_by_label("签到码").fill("000000" if pin != "000000" else "111111")
    phone.get_by_role("button", name="签到", exact=True).click()
    expect(phone.get_by_text("手机号和签到码与本基地登记的人员不符。")).to_be_visible()
    assert phone.get_by_label("手机号码").input_value() == "13912345678"
    looks_right(phone)
    phone.get_by_label("签到码").fill(pin)
    phone.get_by_role("button", name="签到", exact=True).click()
    expect(phone.get_by_role("heading", name="签到成功")).to_be_visible()
    assert "刘洋" in phone.locator(".lead").inner_text() and today_here().isoformat() in phone.inner_text("body")
    looks_right(phone)
    phone.screenshot(path=f"{SCREENSHOTS}/journey4-checked-in.png", full_page=True)
    with app.app_context(), scoped_to(base.id):
        days = db.session.execute(select(Attendance.present_on, Attendance.source)
                                  .where(Attendance.person_id == person_id)).all()
        assert days == [(today_here(), "qr")]
    phone.goto(checkin_link)                                                    # the phone remembers them
    expect(phone.get_by_role("heading", name="今天已经签到")).to_be_visible()

    # The tenant contact, on another phone: the portal says the month's report is due.
    tenant = screens.open(PHONE)
    log_in(tenant, base.users["tenant"].email, base.users["tenant"].password)
    tenant.goto(f"/b/{base.slug}/tenants/portal")
    looks_right(tenant)
    banner = tenant.locator("#report-banner")
    expect(banner).to_be_visible()
    assert "经营数据" in banner.inner_text()
    banner.get_by_role("link", name="立即填报").click()
    looks_right(tenant)
    tenant.get_by_label("营业收入（元）").fill("125000.50")
    tenant.get_by_role("button", name="提交", exact=True).click()                # tax and headcount forgotten
    assert tenant.locator("[data-field=tax_yuan]").inner_text() == "提交前请填写此项（没有请填 0）。"
    assert tenant.get_by_label("营业收入（元）").input_value() == "125000.50"
    looks_right(tenant)
    tenant.get_by_label("上缴税金（元）").fill("3600")
    tenant.get_by_label("从业人员（人）").fill("6")
    tenant.get_by_role("button", name="提交", exact=True).click()
    tenant.wait_for_url("**/tenants/portal")
    assert "的报表已填报" in tenant.locator(".alert-success").inner_text()
    assert tenant.locator("#report-banner").count() == 0
    assert tenant.locator("[data-filing]").get_attribute("data-filing") in ("filed", "late_filed")
    looks_right(tenant)
    tenant.screenshot(path=f"{SCREENSHOTS}/journey4-portal-filed.png", full_page=True)
    with app.app_context(), scoped_to(base.id):
        report = db.session.scalars(select(MonthlyReport).where(MonthlyReport.company_id == company)).one()
        assert (report.status, report.revenue_fen, report.tax_fen, report.employees) == (
            "submitted", 12_500_050, 360_000, 6)

    # Their services: no request yet (the list says how to ask), the base's visit to rate.
    tenant.get_by_role("link", name="我的服务：提出诉求、评价服务").click()
    looks_right(tenant)
    assert "请通过表单向基地提出" in tenant.locator("#my-requests").inner_text()
    visit = tenant.locator("#my-visits [data-rate^=visit-]")
    visit.get_by_label("意见").fill("辅导很及时，解决了融资材料的问题")
    visit.get_by_role("button", name="提交评价").click()                        # no rating chosen
    visit = tenant.locator("#my-visits [data-rate^=visit-]")
    assert visit.locator("[data-field=rating]").inner_text() == "请选择 1 到 5 分。"
    assert visit.get_by_label("意见").input_value() == "辅导很及时，解决了融资材料的问题"
    looks_right(tenant)
    visit.get_by_label("5", exact=True).check()
    visit.get_by_role("button", name="提交评价").click()
    expect(tenant.get_by_text("感谢评价，已记录。")).to_be_visible()
    assert tenant.locator("#my-visits [data-feedback]").get_attribute("data-feedback") == "5"
    looks_right(tenant)
    tenant.screenshot(path=f"{SCREENSHOTS}/journey4-services-rated.png", full_page=True)
    with app.app_context(), scoped_to(base.id):
        rating = db.session.scalars(select(Feedback).where(Feedback.company_id == company)).one()
        assert (rating.rating, rating.comment, rating.category) == (5, "辅导很及时，解决了融资材料的问题", "coaching")


# --- Journey 5 ---------------------------------------------------------------------------------------------

def test_staff_run_an_activity_to_a_complete_archive_and_export_the_ledger(app, factory, screens, page):
    base = factory.base()
    factory.service_person(base, name="王老师")
    log_in(page, base.users["staff"].email, base.users["staff"].password)
    page.goto(f"/b/{base.slug}/ledger/")
    looks_right(page)
    assert "请登记诉求、入企服务或创建活动" in page.locator("#ledger-table").inner_text()   # empty: what to do

    # Staff create the activity starting half an hour ago; an end before the start is refused, typing kept.
    starts = datetime.now(SHANGHAI).replace(second=0, microsecond=0, tzinfo=None) - timedelta(minutes=30)
    page.get_by_role("link", name="创建活动").click()
    looks_right(page)
    page.get_by_label("标题").fill("创业担保贷款政策宣讲会")
    page.get_by_label("服务类别").select_option(label="人员培训")
    page.get_by_label("开始时间").fill(f"{starts:%Y-%m-%dT%H:%M}")
    page.get_by_label("结束时间").fill(f"{starts - timedelta(hours=1):%Y-%m-%dT%H:%M}")
    page.get_by_label("地点").fill("一楼路演厅")
    page.get_by_label("组织人").select_option(label="王老师（专员）")
    page.get_by_role("button", name="保存").click()
    assert page.locator("[data-field=ends_at]").inner_text() == "活动结束时间必须晚于开始时间。"
    assert page.get_by_label("标题").input_value() == "创业担保贷款政策宣讲会"
    assert page.get_by_label("地点").input_value() == "一楼路演厅"
    looks_right(page)
    page.get_by_label("结束时间").fill(f"{starts + timedelta(hours=2):%Y-%m-%dT%H:%M}")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url("**/ledger/activities/*")
    looks_right(page)
    assert page.locator("#archive [data-archive]").get_attribute("data-archive") == "pending"
    assert "尚无人签到。请在入口展示签到二维码" in page.locator("#signins").inner_text()

    # The notice, then two photos at once.
    page.get_by_label("正式文件（活动通知）").check()
    page.get_by_label("文件", exact=True).set_input_files(
        [{"name": "活动通知.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}])
    page.get_by_role("button", name="上传").click()
    expect(page.get_by_text("已添加 1 个文件。")).to_be_visible()
    page.get_by_label("现场照片").check()
    page.get_by_label("文件", exact=True).set_input_files(
        [{"name": "现场1.jpg", "mimeType": "image/jpeg", "buffer": jpeg((200, 40, 40))},
         {"name": "现场2.jpg", "mimeType": "image/jpeg", "buffer": jpeg((40, 40, 200))}])
    page.get_by_role("button", name="上传").click()
    expect(page.get_by_text("已添加 2 个文件。")).to_be_visible()
    assert page.locator("[data-files=photo] img").count() == 2
    assert page.locator("#archive-missing").inner_text() == "仍缺少： 签到记录"        # only the sign-ins
    looks_right(page)

    # Three participants sign in on their own phones by the QR link.
    page.get_by_role("link", name="签到二维码").click()
    looks_right(page)
    signin_link = page.locator(".qr + p a").inner_text().strip()
    participants = [("张三", "13800000001", "太原星火软件有限公司"),
                    ("李四", "13800000002", "山西晋商物联科技有限公司"),
                    ("王五", "13800000003", "太原星火软件有限公司")]
    for n, (name, mobile, company_name) in enumerate(participants):
        guest = screens.open(PHONE)
        guest.goto(signin_link)
        looks_right(guest)
        if n == 0:
            guest.screenshot(path=f"{SCREENSHOTS}/journey5-signin-form.png", full_page=True)
        guest.get_by_label("您的姓名").fill(name)
        guest.get_by_label("手机号码").fill(mobile)
        guest.get_by_label("企业名称").fill(company_name)
        guest.get_by_role("button", name="签到", exact=True).click()
        assert guest.locator("#signin-result").inner_text() == "签到成功。"
        looks_right(guest)
        if n == 0:
            guest.screenshot(path=f"{SCREENSHOTS}/journey5-signed-in.png", full_page=True)

    page.get_by_role("link", name="返回活动").click()
    assert page.locator("#archive [data-archive]").get_attribute("data-archive") == "complete"
    assert page.locator("#archive [data-archive]").inner_text() == "已归档"
    assert page.locator("#archive-missing").count() == 0
    assert page.locator("#participation").inner_text().startswith("2 家企业，3 人")
    looks_right(page)
    with app.app_context(), scoped_to(base.id):
        activity = db.session.scalars(select(Activity)).one()
        assert activity.archived_at is not None and activity.first_archived_at is not None
        assert len(activity.files) == 3
        assert sorted(db.session.scalars(select(SignIn.name))) == ["张三", "李四", "王五"]

    # The ledger export downloads at once and opens with the activity in it.
    page.goto(f"/b/{base.slug}/ledger/")
    looks_right(page)
    assert page.locator("[data-entry^=activity-] [data-archive]").inner_text() == "已归档"
    with page.expect_download() as download_info:
        page.get_by_role("link", name="导出 Excel").click()
    download = download_info.value
    data = download.path().read_bytes()
    assert download.suggested_filename.endswith(".xlsx")
    sheet = openpyxl.load_workbook(BytesIO(data)).active
    header = [cell.value for cell in sheet[1]]
    rows = [dict(zip(header, (cell.value for cell in row))) for row in sheet.iter_rows(min_row=2)]
    assert len(rows) == 1
    assert rows[0]["标题或内容"] == "创业担保贷款政策宣讲会"
    assert rows[0]["参与人数"] == 3 and rows[0]["归档"] == "已归档"


# --- Journey 6 ---------------------------------------------------------------------------------------------

def quarterly_job(app, day):
    """The scheduled job as it runs at 01:00 in Shanghai on ``day``."""
    with app.app_context():
        result = run_job(QUARTERLY_JOB, datetime(day.year, day.month, day.day, 1, tzinfo=SHANGHAI))
    assert not result.failed


def test_the_quarterly_filing_is_drafted_by_the_job_downloaded_submitted_and_stays_frozen(
        app, factory, screens, page):
    year, quarter = filing_services.previous_quarter(*filing_services.quarter_of(today_here()))
    first, second, third = quarter_months(year, quarter)
    end = quarter_bounds(year, quarter)[1]
    base = factory.base()
    with app.app_context(), unscoped("the journey backdates the base"):
        db.session.execute(update(Base).where(Base.id == base.id).values(
            created_at=datetime.combine(end - timedelta(days=200), datetime.min.time(), timezone.utc)))
        db.session.commit()
    company = factory.company(base, n=1, name="甲科技有限公司", moved_in_on=first - timedelta(days=90))
    factory.company(base, n=2, name="乙科技有限公司", moved_in_on=first - timedelta(days=90))
    for month_on, revenue in ((first, 1_000_000), (second, 2_000_000), (third, 3_000_000)):
        report(app, base, company, month_on, revenue, today=end + timedelta(days=2))

    # Before the job: the quarter is listed as not generated, and its page says what happens and what to do.
    log_in(page, base.owner.email, base.owner.password)
    page.goto(f"/b/{base.slug}/filings/")
    looks_right(page)
    row = page.locator(f"[data-period='{year}Q{quarter}']")
    assert row.get_attribute("data-status") == "none" and "尚未生成" in row.inner_text()
    row.get_by_role("link", name="打开").click()
    looks_right(page)
    assert "每日任务会为最近的季度生成草稿" in page.inner_text("body")
    expect(page.get_by_role("button", name="立即生成报送")).to_be_visible()

    # The manager sets the deadline rule: a typo is refused with what was typed kept.
    page.goto(f"/b/{base.slug}/filings/settings")
    looks_right(page)
    page.get_by_label("季度结束后报送期限（天）").fill("0")
    page.get_by_label("省级平台上传地址").fill("")
    page.get_by_role("button", name="保存设置").click()
    assert page.locator("[data-field=deadline_days]").inner_text() == "请输入 1 到 60 之间的天数。"
    assert page.get_by_label("季度结束后报送期限（天）").input_value() == "0"
    looks_right(page)
    page.get_by_label("季度结束后报送期限（天）").fill("10")
    page.get_by_role("button", name="保存设置").click()
    expect(page.locator(".alert-success")).to_be_visible()

    # The day after the quarter ends, the job drafts the filing.
    quarterly_job(app, end + timedelta(days=1))
    page.goto(f"/b/{base.slug}/filings/")
    row = page.locator(f"[data-period='{year}Q{quarter}']")
    assert row.get_attribute("data-status") == "draft"
    row.get_by_role("link", name="打开").click()
    looks_right(page)
    assert page.locator("#filing-status").get_attribute("data-status") == "draft"
    revenue_row = page.locator("[data-indicator=revenue_wan]")
    revenue_label = revenue_row.locator("th").inner_text().strip()
    revenue_on_page = revenue_row.locator("td a").inner_text().strip()
    assert revenue_on_page == "6.00"
    assert page.locator("[data-company]").count() == 2 and page.locator("[data-gap]").count() == 3
    filing_url = page.url

    # The xlsx downloads at once and says what the page says.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="XLSX").click()
    download = download_info.value
    data = download.path().read_bytes()
    assert download.suggested_filename == f"{base.slug}-{year}Q{quarter}-v1.xlsx"
    summary = openpyxl.load_workbook(BytesIO(data)).worksheets[0]
    figures = {row[0]: row[1] for row in summary.iter_rows(values_only=True) if row and row[0]}
    assert f"{figures[revenue_label]:.2f}" == revenue_on_page

    # On a phone, the manager reads the same filing.
    phone = screens.open(PHONE)
    log_in(phone, base.owner.email, base.owner.password)
    phone.goto(filing_url)
    looks_right(phone)
    assert phone.locator("[data-indicator=revenue_wan] td a").inner_text().strip() == revenue_on_page
    phone.screenshot(path=f"{SCREENSHOTS}/journey6-filing-phone.png", full_page=True)

    # Marked as uploaded by hand: frozen, no regeneration offered.
    page.get_by_label("备注（在何处、以何种方式上传）").fill("已在省中小企业公共服务平台上传")
    page.get_by_role("button", name="记录为已手工上传").click()
    expect(page.get_by_text("已标记为已报送；此版本现已冻结。")).to_be_visible()
    assert page.locator("#filing-status").get_attribute("data-status") == "submitted"
    assert page.get_by_role("button", name="立即重新生成").count() == 0
    expect(page.get_by_role("button", name="生成新版本")).to_be_visible()
    looks_right(page)
    with app.app_context(), scoped_to(base.id):
        frozen = db.session.scalars(select(QuarterlyFiling).where(QuarterlyFiling.year == year,
                                                                  QuarterlyFiling.quarter == quarter)).one()
        assert (frozen.status, frozen.submission_note) == ("submitted", "已在省中小企业公共服务平台上传")
        frozen_figures, frozen_file = frozen.figures, frozen.xlsx_file_id

    # New records and the next morning's job change nothing; a regeneration sent anyway is refused.
    report(app, base, company, first, 1_500_000, today=end + timedelta(days=3), reason="补记收入")
    quarterly_job(app, end + timedelta(days=3))
    token = page.locator("form[action$='/new-version'] input[name=csrf_token]").get_attribute("value")
    refused = page.request.post(f"/b/{base.slug}/filings/quarterly/{year}/{quarter}/generate",
                                form={"csrf_token": token})
    assert refused.ok and "本季度报送已提交并冻结" in refused.text()
    page.goto(filing_url)
    assert page.locator("[data-indicator=revenue_wan] td a").inner_text().strip() == revenue_on_page
    assert page.locator("#filing-status").get_attribute("data-status") == "submitted"
    looks_right(page)
    with app.app_context(), scoped_to(base.id):
        versions = db.session.scalars(select(QuarterlyFiling).where(QuarterlyFiling.year == year,
                                                                    QuarterlyFiling.quarter == quarter)).all()
        assert len(versions) == 1
        assert (versions[0].figures, versions[0].xlsx_file_id) == (frozen_figures, frozen_file)
    assert date.fromisoformat(frozen_figures["end"]) == end
