"""The import and export pages as a user uses them: template, upload, the row-by-row report, the export."""
import re
from io import BytesIO

import openpyxl
import xlsxwriter
from sqlalchemy import func, select

from operator_app.db import unscoped
from operator_app.extensions import db
from tenants.models import TenantCompany

from ..helpers import valid_uscc


def _count(app, base):
    with app.app_context(), unscoped("test counts companies"):
        return db.session.scalar(select(func.count(TenantCompany.id)).where(TenantCompany.base_id == base.id))


def _upload(browser, base, data, name="roster.xlsx"):
    page = f"/b/{base.slug}/tenants/import"
    token = browser.csrf_token(page)
    return browser.client.post(page, data={"csrf_token": token, "file": (BytesIO(data), name)})


def _filled_template(browser, base, rows):
    template = browser.get(f"/b/{base.slug}/tenants/import/template.xlsx")
    assert template.status_code == 200
    workbook = openpyxl.load_workbook(BytesIO(template.data))
    sheet = workbook.worksheets[0]
    headers = [cell.value for cell in next(sheet.iter_rows(min_row=1, max_row=1))]
    sheet.delete_rows(2, sheet.max_row)
    for row in rows:
        sheet.append([row.get(header, "") for header in headers])
    out = BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_the_roster_is_imported_through_the_page_with_a_report_of_bad_rows(app, factory, browser):
    base = factory.base("alpha")
    browser.login(base.users["staff"])
    rows = [{"企业或团队名称": f"导入企业{n}", "统一社会信用代码": valid_uscc(500 + n), "所属行业": "I",
             "区域": "成长区", "入驻日期": "2025-01-15"} for n in range(500)]
    rows[10]["统一社会信用代码"] = "91140100000000001X"
    rows[250]["入驻日期"] = "2025-13-01"
    rows[499]["企业或团队名称"] = ""
    response = _upload(browser, base, _filled_template(browser, base, rows))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert sorted(int(row) for row in re.findall(r'<tr data-row="(\d+)">', page)) == [12, 252, 501]
    assert "不是有效的统一社会信用代码" in page and "未导入任何数据" in page
    assert _count(app, base) == 0

    rows[10]["统一社会信用代码"] = valid_uscc(10_000)
    rows[250]["入驻日期"] = "2025-12-01"
    rows[499]["企业或团队名称"] = "导入企业499"
    response = _upload(browser, base, _filled_template(browser, base, rows))
    assert response.status_code == 302
    assert "已导入 500 家企业" in browser.get(response.headers["Location"]).get_data(as_text=True)
    assert _count(app, base) == 500
    again = _upload(browser, base, _filled_template(browser, base, rows[:3]))
    assert again.status_code == 422 and "基地档案中已有使用此代码的企业" in again.get_data(as_text=True)
    assert _count(app, base) == 500


def test_wrong_damaged_and_huge_files_get_a_clear_message(app, factory, browser):
    base = factory.base("alpha")
    browser.login(base.users["staff"])
    for data, name in ((b"name,uscc\n", "roster.csv"), (b"PK\x03\x04broken", "roster.xlsx"), (b"", "empty.xlsx")):
        response = _upload(browser, base, data, name)
        assert response.status_code == 422, name
        assert re.search(r'<tr data-row="0">', response.get_data(as_text=True)), name
    huge = BytesIO()
    workbook = xlsxwriter.Workbook(huge, {"constant_memory": True})
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, ["企业或团队名称", "统一社会信用代码", "所属行业"])
    for row in range(1, 100_001):
        sheet.write_row(row, 0, [f"企业{row}", "", "I"])
    workbook.close()
    response = _upload(browser, base, huge.getvalue())
    assert response.status_code == 422 and "企业超过 2000 家；每次最多导入 2000 家" in response.get_data(as_text=True)
    assert _count(app, base) == 0


def test_the_export_holds_exactly_the_filtered_list(app, factory, browser):
    base = factory.base("alpha")
    for n in range(1, 8):
        factory.company(base, n=n, name=f"企业{n}", zone="incubation" if n <= 3 else "growth",
                        industry="C" if n % 2 else "I")
    browser.login(base.users["mentor"])
    query = "zone=growth&sort=name&direction=desc"
    listing = browser.get(f"/b/{base.slug}/tenants/?{query}").get_data(as_text=True)
    listed = re.findall(r'data-company-id="\d+">\s*<td><a href="[^"]+">([^<]+)</a>', listing)
    export = browser.get(f"/b/{base.slug}/tenants/export.xlsx?{query}")
    assert export.headers["Content-Disposition"].startswith("attachment")
    sheet = openpyxl.load_workbook(BytesIO(export.data)).worksheets[0]
    exported = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert exported == listed == ["企业7", "企业6", "企业5", "企业4"]
