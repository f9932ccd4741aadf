"""Browser journeys of setting a base up (issue 12), driven in Chromium as people use the app:

1. a new operator signs up, fills the base profile and invites a colleague, who accepts the mailed link in a
   second window, sets a password, logs in and sees the base;
2. staff import the roster from the template the app offers (a bad row first), admit an applicant through the
   review checks and record a graduation;
3. the manager records market quotes and a lease, watching the rent discount and its compliance while typing,
   and the rent compliance page shows the status after saving (the whole journey on a phone).

Every page visited is checked for untranslated English, forms keep what was typed when validation fails, and
the pages fit a phone's width without scrolling sideways.
"""
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from email import message_from_bytes, policy
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlalchemy import select

from operator_app.accounts.models import Base, Membership, User
from operator_app.db import scoped_to
from operator_app.extensions import db
from tenants import services as tenant_services
from tenants.models import Lease, MarketQuote, TenantCompany

from ..helpers import PDF_BYTES, valid_uscc
from .conftest import PHONE, log_in, no_horizontal_scroll, untranslated

PASSWORD = "Correct-horse-battery-9"
SCREENSHOTS = "/tmp/journeys-setup"


LABELS_OF_SHARED_IDS = """() => [...document.querySelectorAll('label[for]')].map((label) => label.htmlFor)
    .filter((id) => document.querySelectorAll('#' + CSS.escape(id)).length > 1)"""


def seen(page, phone=False):
    """The checks every page of a journey passes: all in Chinese, every label names one control, and (on a
    phone) no sideways scrolling."""
    page.wait_for_load_state()
    assert untranslated(page) == [], page.url
    assert page.evaluate(LABELS_OF_SHARED_IDS) == [], page.url
    if phone:
        assert no_horizontal_scroll(page), page.url
    return page


ONE_LINE = """(element) => {
    const range = document.createRange();
    range.selectNodeContents(element);
    return new Set([...range.getClientRects()].map((rect) => Math.round(rect.top))).size === 1;
}"""


def on_one_line(locator):
    """A name in a table on a phone reads on one line (the table scrolls sideways in its box), not squeezed
    to a character per line."""
    return locator.evaluate(ONE_LINE)


def stored(app, base_id, read):
    """What the database holds, read as the app would within the base."""
    with app.app_context(), scoped_to(base_id):
        try:
            return read()
        finally:
            db.session.remove()


def last_screen(page, name):
    page.screenshot(path=f"{SCREENSHOTS}-{name}.png", full_page=True)


# ------------------------------------------------------------------------------------------------ journey 1


def test_an_operator_signs_up_sets_the_base_up_and_a_colleague_joins(app, screens, smtp_server, monkeypatch):
    # Invitations go out through a real SMTP server on loopback.
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", smtp_server.port)
    monkeypatch.setitem(app.config, "MAIL_USE_TLS", False)
    page = screens.open()

    # The public landing page leads to the sign-up.
    page.goto("/")
    seen(page)
    page.get_by_role("link", name="注册您的基地").click()
    seen(page)
    assert page.get_by_role("heading", name="注册您的基地").is_visible()

    # A first try with passwords that differ: the error is shown and nothing typed elsewhere is lost.
    page.get_by_label("运营单位").fill("太原汾河创业服务有限公司")
    page.get_by_label("基地名称").fill("汾河小微企业双创基地")
    page.get_by_label("基地类型").select_option(label="产业集聚型")
    page.get_by_label("基地网址").fill("fenhe")
    page.get_by_label("您的姓名").fill("刘海")
    page.get_by_label("电子邮箱").fill("liuhai@fenhe.example")
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_label("确认密码").fill(PASSWORD + "x")
    page.get_by_role("button", name="创建基地").click()
    seen(page)
    assert page.get_by_text("两次输入的密码不一致。").is_visible()
    assert page.get_by_label("运营单位").input_value() == "太原汾河创业服务有限公司"
    assert page.get_by_label("基地名称").input_value() == "汾河小微企业双创基地"
    assert page.get_by_label("基地类型").input_value() == "industrial"
    assert page.get_by_label("基地网址").input_value() == "fenhe"
    assert page.get_by_label("您的姓名").input_value() == "刘海"
    assert page.get_by_label("电子邮箱").input_value() == "liuhai@fenhe.example"
    with app.app_context():
        assert db.session.scalar(select(Base).where(Base.slug == "fenhe")) is None
        db.session.remove()

    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_label("确认密码").fill(PASSWORD)
    page.get_by_role("button", name="创建基地").click()

    # The sign-up creates the base and leads to its profile.
    page.wait_for_url("**/b/fenhe/profile")
    seen(page)
    assert page.get_by_text("欢迎！请先完善基地信息，以便系统进行合规检查。").is_visible()
    assert page.get_by_label("基地名称").input_value() == "汾河小微企业双创基地"
    with app.app_context():
        base = db.session.scalar(select(Base).where(Base.slug == "fenhe"))
        base_id = base.id
        assert base.operator.name == "太原汾河创业服务有限公司"
        db.session.remove()

    # The profile, first with zones larger than the whole site: refused, everything typed still there.
    page.get_by_label("地址").fill("太原市小店区汾河街 18 号")
    page.get_by_label("本类型基地的企业数量标准").fill("60")
    page.get_by_label("正式运营日期").fill("2024-03-01")
    page.get_by_label("自有产权").check()
    page.get_by_label("总面积（平方米）").fill("1000")
    page.get_by_role("group", name="孵化区").get_by_label("面积（平方米）").fill("600")
    page.get_by_role("group", name="成长区").get_by_label("面积（平方米）").fill("600")
    for function in ("信息服务", "创业辅导", "创新支持", "人员培训"):
        page.get_by_label(function).check()
    page.get_by_role("button", name="保存基地信息").click()
    seen(page)
    assert page.get_by_text("各区域面积之和超过了总面积。").is_visible()
    assert page.get_by_label("地址").input_value() == "太原市小店区汾河街 18 号"
    assert page.get_by_label("本类型基地的企业数量标准").input_value() == "60"
    assert page.get_by_label("正式运营日期").input_value() == "2024-03-01"
    assert page.get_by_label("自有产权").is_checked()
    assert page.get_by_role("group", name="成长区").get_by_label("面积（平方米）").input_value() == "600"
    assert all(page.get_by_label(name).is_checked() for name in ("信息服务", "创业辅导", "创新支持", "人员培训"))

    page.get_by_role("group", name="成长区").get_by_label("面积（平方米）").fill("300")
    page.get_by_role("button", name="保存基地信息").click()
    seen(page)
    assert page.get_by_text("基地信息已保存。").is_visible()
    assert page.get_by_label("地址").input_value() == "太原市小店区汾河街 18 号"

    def profile():
        base = db.session.get(Base, base_id)
        zones = {zone.kind: zone.area_m2 for zone in base.ordered_zones()}
        return (base.address, base.tenant_count_standard, base.operating_since_on, base.site_ownership,
                base.total_area_m2, zones["incubation"], zones["growth"], sorted(base.service_functions))
    assert stored(app, base_id, profile) == (
        "太原市小店区汾河街 18 号", 60, date(2024, 3, 1), "owned", 1000, 600, 300,
        ["coaching", "information", "innovation", "training"])

    # The manager invites a colleague as service staff; the link is shown once and mailed.
    page.get_by_role("button", name="设置").click()
    page.get_by_role("link", name="成员与邀请").click()
    seen(page)
    page.get_by_label("同事的电子邮箱").fill("not-an-email")
    page.get_by_label("角色").select_option(label="服务人员")
    page.get_by_role("button", name="生成邀请链接").click()
    seen(page)
    assert page.locator(".invalid-feedback[data-field=email]").is_visible()
    assert page.get_by_label("同事的电子邮箱").input_value() == "not-an-email"
    assert page.get_by_label("角色").input_value() == "staff"
    page.get_by_label("同事的电子邮箱").fill("wangfang@fenhe.example")
    page.get_by_role("button", name="生成邀请链接").click()
    seen(page)
    assert page.get_by_text("邀请链接已同时通过邮件发送。").is_visible()
    shown_link = page.locator("#invite-link").input_value()
    pending = page.locator(".card", has=page.get_by_text("待接受的邀请"))
    assert pending.get_by_role("cell", name="wangfang@fenhe.example").is_visible()

    assert len(smtp_server.received) == 1
    envelope = smtp_server.received[0]
    assert envelope.rcpt_tos == ["wangfang@fenhe.example"]
    mail = message_from_bytes(envelope.content, policy=policy.default)
    assert mail["Subject"] == "邀请您加入汾河小微企业双创基地"
    mailed_link = re.search(r"https?://\S+/invite/\S+", mail.get_content()).group(0)
    assert mailed_link == shown_link

    # The colleague opens the mailed link on a phone of her own, sets her password and joins.
    colleague = screens.open(PHONE)
    colleague.goto(mailed_link)
    seen(colleague, phone=True)
    assert colleague.get_by_role("heading", name="加入汾河小微企业双创基地").is_visible()
    colleague.get_by_label("您的姓名").fill("王芳")
    colleague.get_by_label("手机号码").fill("13912345678")
    colleague.get_by_label("密码", exact=True).fill(PASSWORD)
    colleague.get_by_role("button", name="创建账号并加入").click()
    seen(colleague, phone=True)
    assert colleague.get_by_text("此项为必填项。").is_visible()  # the repeated password is missing
    assert colleague.get_by_label("您的姓名").input_value() == "王芳"
    assert colleague.get_by_label("手机号码").input_value() == "13912345678"
    colleague.get_by_label("密码", exact=True).fill(PASSWORD)
    colleague.get_by_label("确认密码").fill(PASSWORD)
    colleague.get_by_role("button", name="创建账号并加入").click()
    colleague.wait_for_url("**/b/fenhe/")
    seen(colleague, phone=True)
    assert colleague.get_by_text("欢迎加入汾河小微企业双创基地。").is_visible()

    # She logs out and in again with the password she set, and lands in the base.
    colleague.get_by_role("button", name="菜单").click()
    colleague.get_by_role("button", name="王芳").click()
    colleague.get_by_role("button", name="退出登录").click()
    seen(colleague, phone=True)
    assert colleague.get_by_text("您已退出登录。").is_visible()
    log_in(colleague, "wangfang@fenhe.example", PASSWORD)
    colleague.wait_for_url("**/b/fenhe/")
    seen(colleague, phone=True)
    assert colleague.get_by_role("link", name=re.compile("汾河小微企业双创基地")).is_visible()
    assert "服务人员" in colleague.locator(".navbar-brand").inner_text()

    def membership():
        user = db.session.scalar(select(User).where(User.email == "wangfang@fenhe.example"))
        joined = db.session.scalar(select(Membership).where(Membership.user_id == user.id,
                                                            Membership.base_id == base_id))
        return user.name, user.phone, joined.role
    assert stored(app, base_id, membership) == ("王芳", "13912345678", "staff")

    # The manager sees her among the people of the base, the invitation used.
    page.goto("/b/fenhe/members")  # not a reload: that would post the invitation again
    seen(page)
    people = page.locator(".card", has=page.get_by_text("本基地人员"))
    assert people.get_by_role("cell", name="王芳").is_visible()
    assert pending.get_by_role("cell", name="wangfang@fenhe.example").count() == 0

    # The manager's pages of this journey fit a phone too.
    manager_phone = screens.open(PHONE)
    log_in(manager_phone, "liuhai@fenhe.example", PASSWORD)
    for path in ("/b/fenhe/profile", "/b/fenhe/members", "/b/fenhe/"):
        manager_phone.goto(path)
        seen(manager_phone, phone=True)
        if path.endswith("members"):
            assert on_one_line(manager_phone.get_by_role("cell", name="刘海"))
    manager_phone.context.clear_cookies()
    manager_phone.goto("/signup")
    seen(manager_phone, phone=True)
    last_screen(colleague, "1-colleague-phone")
    last_screen(page, "1-members")


# ------------------------------------------------------------------------------------------------ journey 2


def base_today():
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def roster_rows(sheet, rows):
    """Write ``rows`` (header text -> value) under the template's header row, replacing its example row."""
    headers = {cell.value: cell.column for cell in sheet[1] if cell.value}
    sheet.delete_rows(2, sheet.max_row)
    for number, values in enumerate(rows, start=2):
        for header, value in values.items():
            sheet.cell(row=number, column=headers[header], value=value)


def workbook_bytes(workbook):
    output = BytesIO()
    workbook.save(output)
    return output.getvalue()


def roster_company(name, code, unit, zone="成长区"):
    return {"企业或团队名称": name, "统一社会信用代码": code, "法定代表人或负责人": "张强", "联系人": "李静",
            "联系电话": "13800001111", "主营业务": "工业软件开发", "所属行业": "信息传输、软件和信息技术服务业",
            "区域": zone, "房间号或工位号": unit, "面积（平方米）": 120, "入驻日期": datetime(2025, 3, 1),
            "营业执照地址在基地内（是/否）": "是",
            "主要人员在基地内（是/否）": "是", "设备在基地内（是/否）": "是"}


def xlsx_upload(data):
    return {"name": "入驻企业名册.xlsx", "buffer": data,
            "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def test_staff_import_the_roster_admit_an_applicant_and_graduate_a_company(app, factory, screens):
    base = factory.base("qingxu", name="清徐小微企业双创基地")
    with app.test_request_context(), scoped_to(base.id):  # the base's rules: a licence before admission
        tenant_services.save_rules(db.session.get(Base, base.id), {
            "entry_conditions": "", "procedure": "", "management_rules": "", "exit_conditions": "",
            "allowed_industries": [], "required_documents": ["licence"], "workstation_quota_percent": 20,
            "is_published": False, "accepts_applications": False},
            by=db.session.get(User, base.owner.id))
        db.session.commit()
    staff = base.users["staff"]
    today = base_today()
    page = screens.open()
    log_in(page, staff.email, staff.password)
    seen(page)

    # From the list to the import page, and the template the app offers.
    page.get_by_role("link", name="入驻企业", exact=True).first.click()
    seen(page)
    # The empty list says what to do, with the way to do it.
    page.locator("#company-table .empty-state").get_by_role("link", name="从 Excel 导入").click()
    seen(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="下载模板").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    template = load_workbook(BytesIO(Path(download.value.path()).read_bytes()))
    assert template.sheetnames == ["入驻企业", "填写说明"]
    sheet = template.worksheets[0]
    assert [cell.value for cell in sheet[1]][:3] == ["企业或团队名称", "统一社会信用代码", "是否创业团队（是/否）"]

    good = [roster_company("太原云杉软件有限公司", valid_uscc(101), "A-101"),
            roster_company("太原汾源数据科技有限公司", valid_uscc(102), "A-102"),
            roster_company("清徐智造装备有限公司", valid_uscc(103), "A-103")]
    bad_code = valid_uscc(102)[:-1] + ("0" if valid_uscc(102)[-1] != "0" else "1")
    roster_rows(sheet, [good[0], {**good[1], "统一社会信用代码": bad_code}, good[2]])

    # One bad row: nothing is imported and the problem is named by row and column.
    page.get_by_label("Excel 文件（.xlsx）").set_input_files(xlsx_upload(workbook_bytes(template)))
    page.get_by_role("button", name="检查并导入").click()
    seen(page)
    assert page.get_by_text("未导入任何数据。请修改以下各行后重新上传。").is_visible()
    problems = page.locator("#import-errors tbody tr")
    assert problems.count() == 1
    assert problems.first.locator("td").all_inner_texts() == [
        "3", "统一社会信用代码", "这不是有效的统一社会信用代码（应为 18 位，最后一位为校验码）。"]
    assert stored(app, base.id, lambda: db.session.scalars(select(TenantCompany)).all()) == []
    bad_file = workbook_bytes(template)

    # Corrected, the same file goes in whole.
    roster_rows(sheet, good)
    page.get_by_label("Excel 文件（.xlsx）").set_input_files(xlsx_upload(workbook_bytes(template)))
    page.get_by_role("button", name="检查并导入").click()
    page.wait_for_url("**/b/qingxu/tenants/")
    seen(page)
    assert page.get_by_text("已导入 3 家企业。").is_visible()
    listed = page.locator("#company-table tbody")
    for company in good:
        row = listed.get_by_role("row").filter(has_text=company["企业或团队名称"])
        assert row.get_by_text(company["统一社会信用代码"]).is_visible()
        assert row.get_by_text("在孵").is_visible()
    assert page.locator("#company-total").inner_text() == "3"

    def roster():
        return sorted((company.name, company.uscc, company.status, company.zone, company.unit, company.industry)
                      for company in db.session.scalars(select(TenantCompany)))
    assert stored(app, base.id, roster) == sorted(
        (company["企业或团队名称"], company["统一社会信用代码"], "in_residence", "growth", company["房间号或工位号"],
         "I") for company in good)

    # An applicant: recorded by staff, first with a mistyped code (the rest of the form is kept).
    page.get_by_role("link", name="登记入驻申请").click()
    seen(page)
    page.get_by_label("企业或团队名称").fill("山西晋创新材料有限公司")
    page.get_by_label("统一社会信用代码").fill("91140100ABC")
    page.get_by_label("法定代表人或负责人").fill("周明")
    page.get_by_label("所属行业").select_option(label="制造业")
    page.get_by_label("主营业务").fill("石墨烯导热膜研发")
    page.get_by_label("联系人").fill("周明")
    page.get_by_label("联系电话").fill("13700002222")
    page.get_by_role("button", name="保存档案").click()
    seen(page)
    assert page.locator(".invalid-feedback[data-field=uscc]").inner_text() == \
        "这不是有效的统一社会信用代码（应为 18 位，最后一位为校验码）。"
    assert page.get_by_label("企业或团队名称").input_value() == "山西晋创新材料有限公司"
    assert page.get_by_label("法定代表人或负责人").input_value() == "周明"
    assert page.get_by_label("所属行业").input_value() == "C"
    assert page.get_by_label("主营业务").input_value() == "石墨烯导热膜研发"
    assert page.get_by_label("联系电话").input_value() == "13700002222"
    page.get_by_label("统一社会信用代码").fill(valid_uscc(201))
    page.get_by_role("button", name="保存档案").click()
    seen(page)
    assert page.get_by_text("已将山西晋创新材料有限公司加入企业档案。").is_visible()

    # The review shows the base's checks: the licence the rules require is missing, and staff cannot admit.
    page.get_by_role("link", name="审核入驻申请").click()
    seen(page)
    assert page.get_by_role("heading", name="审核山西晋创新材料有限公司的入驻申请").is_visible()
    checks = page.locator("#admission-checks")
    assert checks.locator("[data-check=industry]").get_attribute("data-passed") == "yes"
    assert checks.locator("[data-check=documents]").get_attribute("data-passed") == "no"
    assert checks.locator("[data-check=documents]").get_by_text("缺少：营业执照。").is_visible()
    admit = page.locator("form", has=page.get_by_role("button", name="批准入驻"))
    admit.get_by_label("区域").select_option(label="孵化区")
    admit.get_by_label("房间号或工位号").fill("B-201")
    admit.get_by_label("面积（平方米）").fill("80")
    admit.get_by_label("入驻日期").fill(today.isoformat())
    admit.get_by_role("button", name="批准入驻").click()
    seen(page)
    assert page.get_by_text("有检查项未通过，不能批准入驻。基地负责人可填写理由后仍予批准。").is_visible()
    assert admit.get_by_label("房间号或工位号").input_value() == "B-201"
    assert admit.get_by_label("面积（平方米）").input_value() == "80"
    assert admit.get_by_label("区域").input_value() == "incubation"

    # The licence goes into the file; the review then passes and the company is admitted.
    page.get_by_role("link", name="查看档案和材料").click()
    seen(page)
    documents = page.locator("#documents")
    documents.get_by_label("材料类型").select_option(label="营业执照")
    documents.get_by_label("文件（PDF、JPG、PNG 或 WEBP）").set_input_files(
        {"name": "营业执照.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES})
    documents.get_by_role("button", name="上传").click()
    seen(page)
    assert page.get_by_text("材料已添加。").is_visible()
    assert page.locator("#documents").get_by_role("link", name="营业执照.pdf").is_visible()
    page.get_by_role("link", name="审核入驻申请").click()
    seen(page)
    assert checks.locator("[data-check=documents]").get_attribute("data-passed") == "yes"
    assert checks.locator("[data-check=documents]").get_by_text("所需材料已齐全。").is_visible()
    admit.get_by_label("区域").select_option(label="孵化区")
    admit.get_by_label("房间号或工位号").fill("B-201")
    admit.get_by_label("面积（平方米）").fill("80")
    admit.get_by_label("入驻日期").fill(today.isoformat())
    admit.get_by_role("button", name="批准入驻").click()
    seen(page)
    assert page.get_by_text("已批准山西晋创新材料有限公司入驻。").is_visible()

    def applicant():
        company = db.session.scalar(select(TenantCompany).where(TenantCompany.name == "山西晋创新材料有限公司"))
        decision = tenant_services.decisions_of(company)[0]
        return (company.status, company.zone, company.unit, company.area_m2, company.moved_in_on,
                decision.decision, {check["key"]: check["passed"] for check in decision.checks})
    assert stored(app, base.id, applicant) == ("in_residence", "incubation", "B-201", 80, today, "admit",
                                                {"industry": True, "documents": True})

    # A company graduates: its exit is recorded (dated tomorrow first: refused, the choices kept) ...
    page.get_by_role("link", name="入驻企业", exact=True).first.click()
    page.get_by_role("link", name="太原云杉软件有限公司").click()
    seen(page)
    page.get_by_role("link", name="办理退出").click()
    seen(page)
    page.get_by_label("孵化毕业").check()
    page.get_by_label("钥匙和门禁卡已交还").check()
    page.get_by_label("租金和费用已结清").check()
    page.get_by_label("备注").fill("获评高新技术企业，迁入自有厂房")
    page.get_by_label("退出日期").fill((today + timedelta(days=1)).isoformat())
    page.get_by_role("button", name="办理退出").click()
    seen(page)
    assert page.locator(".invalid-feedback[data-field=exit_on]").inner_text() == \
        "退出日期在今天之后。请在实际退出当天或之后办理。"
    assert page.get_by_label("孵化毕业").is_checked()
    assert page.get_by_label("钥匙和门禁卡已交还").is_checked()
    assert not page.get_by_label("押金已结算").is_checked()
    assert page.get_by_label("备注").input_value() == "获评高新技术企业，迁入自有厂房"
    page.get_by_label("退出日期").fill(today.isoformat())
    page.get_by_label("押金已结算").check()
    page.get_by_role("button", name="办理退出").click()
    seen(page)
    assert page.get_by_text("已办理太原云杉软件有限公司的退出。").is_visible()

    # ... and it is among the graduates, followed from today.
    page.get_by_role("link", name="入驻企业", exact=True).first.click()
    page.get_by_role("link", name="毕业企业").click()
    seen(page)
    graduate = page.locator("[data-graduate]").filter(has_text="太原云杉软件有限公司")
    assert graduate.count() == 1
    assert graduate.get_attribute("data-tracking") == "followed"
    assert graduate.get_by_text(today.isoformat()).first.is_visible()
    assert page.locator(f"[data-cohort='{today.year}']").get_by_text(f"{today.year} 年毕业").is_visible()

    def graduated():
        company = db.session.scalar(select(TenantCompany).where(TenantCompany.name == "太原云杉软件有限公司"))
        record = tenant_services.exit_record_of(company)
        return (company.status, company.moved_out_on, record.reason, record.keys_returned, record.rent_settled,
                record.deposit_settled)
    assert stored(app, base.id, graduated) == ("graduated", today, "graduation", True, True, True)
    last_screen(page, "2-graduates")

    # The journey's key pages on a phone: the list, the import with its problems, the review, the exit form and
    # the graduates.
    phone = screens.open(PHONE)
    log_in(phone, staff.email, staff.password)
    phone.goto("/b/qingxu/tenants/")
    seen(phone, phone=True)
    assert on_one_line(phone.get_by_role("link", name="山西晋创新材料有限公司"))
    phone.goto("/b/qingxu/tenants/import")
    phone.get_by_label("Excel 文件（.xlsx）").set_input_files(xlsx_upload(bad_file))
    phone.get_by_role("button", name="检查并导入").click()
    seen(phone, phone=True)
    assert phone.locator("#import-errors tr[data-row='3']").is_visible()
    phone.goto("/b/qingxu/tenants/")
    phone.get_by_role("link", name="山西晋创新材料有限公司").click()
    seen(phone, phone=True)
    phone.get_by_role("link", name="办理退出").click()
    seen(phone, phone=True)
    phone.goto("/b/qingxu/tenants/graduates")
    seen(phone, phone=True)
    assert on_one_line(phone.get_by_role("link", name="太原云杉软件有限公司"))
    last_screen(phone, "2-graduates-phone")


# ------------------------------------------------------------------------------------------------ journey 3


def record_quote(page, today, price, source_name, bad_price=None):
    form = page.locator("form", has=page.get_by_role("button", name="登记询价"))
    form.get_by_label("询价日期").fill(today.isoformat())
    form.get_by_label("来源").select_option(label="房产中介")
    form.get_by_label("中介、挂牌信息或园区名称").fill(source_name)
    form.get_by_label("询价场地位置").fill("晋源区晋祠路写字楼")
    form.get_by_label("办公用房（元/平方米/月）").check()
    form.get_by_label("佐证材料（PDF 或图片：截图、报价单）").set_input_files(
        {"name": "询价单.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES})
    if bad_price is not None:
        form.get_by_label("市场租金（元/平方米/月 或 元/工位/月）").fill(bad_price)
        form.get_by_role("button", name="登记询价").click()
        seen(page, phone=True)
        assert form.locator(".invalid-feedback[data-field=price_yuan]").is_visible()
        # Everything else typed is still there (a file is never kept by a browser: chosen again).
        assert form.get_by_label("询价日期").input_value() == today.isoformat()
        assert form.get_by_label("来源").input_value() == "agency"
        assert form.get_by_label("中介、挂牌信息或园区名称").input_value() == source_name
        assert form.get_by_label("询价场地位置").input_value() == "晋源区晋祠路写字楼"
        assert form.get_by_label("办公用房（元/平方米/月）").is_checked()
        assert form.get_by_label("市场租金（元/平方米/月 或 元/工位/月）").input_value() == bad_price
        form.get_by_label("佐证材料（PDF 或图片：截图、报价单）").set_input_files(
            {"name": "询价单.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES})
    form.get_by_label("市场租金（元/平方米/月 或 元/工位/月）").fill(price)
    form.get_by_role("button", name="登记询价").click()
    seen(page, phone=True)
    assert page.get_by_text("市场询价已登记。").is_visible()


def check_page_shows(page, state, verdict, overall):
    """Open the rent check and read its verdict: the status, its word and the overall discount."""
    page.goto("/b/jinyuan/tenants/rent")
    seen(page, phone=True)
    status = page.locator("#rent-status")
    assert status.get_attribute("data-status") == state
    assert status.get_by_text(verdict, exact=True).is_visible()
    assert status.locator("[data-figure=overall]").inner_text() == overall


def preview_shows(page, discount, verdict):
    """The lease form's comparison shows ``discount`` and ``verdict``, in its card and, on a phone, right under
    the rent being typed."""
    card = page.locator("#lease-reference")
    expect(card.locator("#discount-figure")).to_have_text(discount)
    expect(card.locator("#verdict-badge")).to_have_text(verdict)
    echo = page.locator("#discount-echo")
    expect(echo.locator("[data-discount-echo]")).to_have_text(discount)
    expect(echo.locator("[data-verdict-echo]")).to_have_text(verdict)
    gap = echo.evaluate("""(echo) => {
        const field = document.getElementById('actual_rent_yuan').getBoundingClientRect();
        const box = echo.getBoundingClientRect();
        return box.height > 0 ? box.top - field.bottom : null;
    }""")  # measured at once: the page may be scrolling smoothly
    assert gap is not None and 0 <= gap < 80  # right under the field (and its error, if any)


def type_rent(field, text):
    """Replace the field's value keystroke by keystroke, as a person types it."""
    field.fill("")
    field.press_sequentially(text, delay=20)


def test_the_manager_records_quotes_and_leases_and_watches_the_rent_discount_on_a_phone(app, factory, screens):
    base = factory.base("jinyuan", name="晋源小微企业双创基地")
    first = factory.company(base, 301, name="太原晋祠文创有限公司", unit="C-301", area_m2=Decimal("120.00"))
    second = factory.company(base, 302, name="太原古城营软件有限公司", unit="C-302", area_m2=Decimal("120.00"))
    today = base_today()
    phone = screens.open(PHONE)
    log_in(phone, base.owner.email, base.owner.password)
    seen(phone, phone=True)  # the operator owner's bases
    phone.get_by_role("link", name=re.compile("晋源小微企业双创基地")).last.click()
    seen(phone, phone=True)

    # Through the menu to the tenant files, then to the rent discount check: nothing to check yet.
    phone.get_by_role("button", name="菜单").click()
    phone.get_by_role("link", name="入驻企业", exact=True).click()
    seen(phone, phone=True)
    phone.get_by_role("link", name="租金优惠").click()
    seen(phone, phone=True)
    status = phone.locator("#rent-status")
    assert status.get_attribute("data-status") == "unknown"
    assert status.get_by_text("无法核对").is_visible()

    # Two market quotes with their evidence (the first with a mistyped price: refused, the rest kept).
    record_quote(phone, today, "48", "太原链家晋源店", bad_price="0")
    record_quote(phone, today, "52", "我爱我家晋祠路店")
    quotes = phone.locator("#quotes tbody tr")
    assert quotes.count() == 2
    assert sorted(quotes.locator("td.text-end").all_inner_texts()) == ["48.00", "52.00"]

    # The first company's lease: the market reference is there, the discount and its verdict follow the typing.
    phone.goto("/b/jinyuan/tenants/")
    phone.get_by_role("link", name="太原晋祠文创有限公司").click()
    seen(phone, phone=True)
    phone.locator("#leases .card-header").get_by_role("link", name="新增租约").click()
    seen(phone, phone=True)
    assert phone.get_by_role("heading", name="太原晋祠文创有限公司的租约").is_visible()
    assert phone.get_by_label("房间或工位").input_value() == "C-301"
    assert phone.get_by_label("面积（平方米）").input_value() == "120.00"
    preview = phone.locator("#lease-reference")
    assert preview.locator("#reference-figure").inner_text() == "50.00"
    assert preview.get_by_text("要求：低于市场询价至少 20%").is_visible()
    assert preview.locator("#verdict-badge").is_hidden()  # no rent typed yet
    phone.get_by_label("起租日期").fill("2026-01-01")
    phone.get_by_label("到期日期").fill("2028-12-31")
    phone.get_by_label("挂牌租金（元/平方米/月 或 元/工位/月）").fill("50")
    actual = phone.get_by_label("实际租金（元/平方米/月 或 元/工位/月）")

    type_rent(actual, "35")  # 30% below the market
    expect(preview.locator("#effective-figure")).to_have_text("35.00")
    preview_shows(phone, "30.00%", "达标")
    type_rent(actual, "45")  # 10% below
    preview_shows(phone, "10.00%", "未达标")
    type_rent(actual, "40")  # exactly 20% below: enough
    preview_shows(phone, "20.00%", "达标")
    type_rent(actual, "40.01")
    preview_shows(phone, "19.98%", "未达标")
    phone.get_by_label("起租免租月数").fill("12")  # a free year of three: 24 × 40.01 ÷ 36 = 26.67
    expect(preview.locator("#effective-figure")).to_have_text("26.67")
    preview_shows(phone, "46.65%", "达标")
    phone.get_by_label("起租免租月数").fill("0")
    preview_shows(phone, "19.98%", "未达标")

    # The list rent typed below the rent: refused, and what was typed stays (the preview with it).
    phone.get_by_label("挂牌租金（元/平方米/月 或 元/工位/月）").fill("38")
    phone.get_by_label("押金（元）").fill("12000")
    phone.get_by_role("button", name="保存租约").click()
    seen(phone, phone=True)
    assert phone.get_by_text("实际租金高于挂牌租金，不存在可申报的优惠，请核对两项金额。").is_visible()
    assert phone.get_by_label("房间或工位").input_value() == "C-301"
    assert phone.get_by_label("起租日期").input_value() == "2026-01-01"
    assert phone.get_by_label("到期日期").input_value() == "2028-12-31"
    assert actual.input_value() == "40.01"
    assert phone.get_by_label("押金（元）").input_value() == "12000"
    preview_shows(phone, "19.98%", "未达标")  # worked out again from what the page kept
    phone.get_by_label("挂牌租金（元/平方米/月 或 元/工位/月）").fill("50")
    type_rent(actual, "35")
    preview_shows(phone, "30.00%", "达标")
    phone.get_by_role("button", name="保存租约").click()
    seen(phone, phone=True)
    assert phone.get_by_text("租约已保存。").is_visible()

    # The check page: the lease 30% below the market, the base compliant.
    check_page_shows(phone, "met", "达标", "30.00%")
    lease_row = phone.locator("#lease-checks tbody tr", has_text="太原晋祠文创有限公司")
    assert lease_row.locator("[data-discount]").inner_text() == "30.00%"
    assert on_one_line(lease_row.get_by_role("link", name="太原晋祠文创有限公司"))

    # The second company's lease barely below the market pulls the whole base under 20%.
    phone.goto(f"/b/jinyuan/tenants/{second}")
    phone.locator("#leases .card-header").get_by_role("link", name="新增租约").click()
    seen(phone, phone=True)
    phone.get_by_label("起租日期").fill("2026-01-01")
    phone.get_by_label("到期日期").fill("2028-12-31")
    phone.get_by_label("挂牌租金（元/平方米/月 或 元/工位/月）").fill("50")
    type_rent(phone.get_by_label("实际租金（元/平方米/月 或 元/工位/月）"), "48")
    preview_shows(phone, "4.00%", "未达标")
    phone.get_by_role("button", name="保存租约").click()
    seen(phone, phone=True)
    assert phone.get_by_text("租约已保存。").is_visible()
    check_page_shows(phone, "not_met", "未达标", "17.00%")  # 1 − (35 + 48) × 120 ÷ (50 × 240)

    def rent_records():
        leases = sorted((lease.company_id, lease.units, lease.area_m2, lease.starts_on, lease.ends_on,
                         lease.list_rent_fen, lease.actual_rent_fen, lease.free_months, lease.deposit_fen)
                        for lease in db.session.scalars(select(Lease)))
        quotes = sorted((quote.price_fen, quote.source, quote.source_name, quote.file_id is not None)
                        for quote in db.session.scalars(select(MarketQuote)))
        return leases, quotes
    assert stored(app, base.id, rent_records) == (
        [(first, "C-301", 120, date(2026, 1, 1), date(2028, 12, 31), 5000, 3500, 0, 1_200_000),
         (second, "C-302", 120, date(2026, 1, 1), date(2028, 12, 31), 5000, 4800, 0, 0)],
        [(4800, "agency", "太原链家晋源店", True), (5200, "agency", "我爱我家晋祠路店", True)])
    last_screen(phone, "3-rent-phone")
