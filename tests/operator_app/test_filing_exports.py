"""A quarterly filing's files, read back as a person and a machine would: the workbook's summary equals the
snapshot and the figures computed by hand, each company's row its own reports, a name that looks like a formula
stays text (xlsx) or is neutralised (CSV), and the JSON carries the exact fen."""
import csv
import io
import json
import zipfile
from datetime import date, datetime, timezone

import openpyxl
from flask_babel import force_locale

from operator_app.accounts.constants import SERVICE_FUNCTIONS
from operator_app.accounts.models import Base, User
from operator_app.db import scoped_to
from operator_app.extensions import db
from operator_app.filings import exports, services
from operator_app.filings.labels import INDICATOR_LABELS, UNIT_LABELS
from operator_app.filings.models import QuarterlyFiling
from operator_app.filings.quarterly import quarter_months
from operator_app.filings.snapshot import INDICATORS
from operator_app.storage import storage
from tenants import report_services
from tenants import services as tenant_services
from tenants.models import TenantCompany

from ..helpers import valid_uscc

JUL, AUG, SEP = quarter_months(2026, 3)
FORMULA = '=HYPERLINK("http://x","y")'
INVALID_SHEET_CHARACTERS = set("[]:*?/\\")


def reports(app, base, company_id, rows):
    with app.test_request_context(), scoped_to(base.id):
        owner = db.session.get(User, base.owner.id)
        for month_on, revenue, tax, employees in rows:
            report_services.save_report(db.session.get(TenantCompany, company_id), month_on,
                                        {"revenue_fen": revenue, "tax_fen": tax, "employees": employees},
                                        base=db.session.get(Base, base.id), submit=True, reason="",
                                        today=date(2026, 10, 5), by=owner, on_behalf=True)
        db.session.commit()


def generate(app, base):
    """Generate the 2026 Q3 filing (as the job would on 20 October) and commit; returns its id."""
    with app.test_request_context(), scoped_to(base.id):
        filing = services.generate(db.session.get(Base, base.id), 2026, 3, today=date(2026, 10, 20))
        db.session.commit()
        return filing.id


def stored(app, base, filing_id):
    """(snapshot, {kind: bytes}) of the filing, the files as stored."""
    with app.app_context(), scoped_to(base.id):
        filing = db.session.get(QuarterlyFiling, filing_id)
        return filing.figures, {kind: storage().read(getattr(filing, f"{kind}_file").key)
                                for kind in ("xlsx", "csv", "json")}


def quarter_with_everything(app, factory, base_name=None):
    """A base whose 2026 Q3 has a steady company, one that moved in mid-quarter (named like a formula), one that
    graduated, one that missed August, and a service of each kind. Returns (base, {name: company id})."""
    base = factory.base(name=base_name)
    ids = {"甲": factory.company(base, n=1, name="甲", moved_in_on=date(2025, 3, 1)),
           FORMULA: factory.company(base, n=2, name=FORMULA, moved_in_on=date(2026, 8, 15)),
           "丙": factory.company(base, n=3, name="丙", moved_in_on=date(2025, 1, 1)),
           "丁": factory.company(base, n=4, name="丁", moved_in_on=date(2025, 1, 1))}
    reports(app, base, ids["甲"], [(JUL, 1_000_000, 50_000, 5), (AUG, 1_200_000, 60_000, 5),
                                   (SEP, 1_400_000, 70_000, 6)])
    reports(app, base, ids[FORMULA], [(AUG, 250_000, 12_345, 2), (SEP, 300_000, 15_000, 3)])
    reports(app, base, ids["丙"], [(JUL, 500_000, 20_000, 4)])
    reports(app, base, ids["丁"], [(JUL, 100_000, 0, 1), (SEP, 100_005, 0, 1)])
    with app.test_request_context(), scoped_to(base.id):
        tenant_services.record_exit(db.session.get(TenantCompany, ids["丙"]), reason="graduation",
                                    exit_on=date(2026, 8, 20), today=date(2026, 8, 21), keys_returned=True,
                                    rent_settled=True, deposit_settled=True, notes="",
                                    by=db.session.get(User, base.owner.id))
        db.session.commit()
    staff = factory.service_person(base)
    factory.service_request(base, ids["甲"], category="financing",
                            received_at=datetime(2026, 7, 10, 2, tzinfo=timezone.utc))
    factory.visit(base, ids[FORMULA], staff_id=staff, category="coaching", occurred_on=date(2026, 8, 25))
    september = factory.activity(base, organiser_id=staff, category="training", title="=1+1 路演",
                                 starts_at=datetime(2026, 9, 3, 6, tzinfo=timezone.utc))
    for n in range(3):
        factory.signin(base, september, phone=f"1380000000{n}")
    return base, ids


def rows_of(sheet):
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def test_the_workbook_holds_the_snapshot_and_the_hand_computed_figures(app, factory):
    base, ids = quarter_with_everything(app, factory)
    figures, files = stored(app, base, generate(app, base))
    book = openpyxl.load_workbook(io.BytesIO(files["xlsx"]))
    assert book.sheetnames == ["汇总", "企业数据", "毕业企业", "分类服务统计", "未报送的月度数据"]

    summary = rows_of(book["汇总"])
    assert summary[0][0] == "2026年第3季度报送"
    header = {row[0]: row[1] for row in summary[1:8] if row[0]}
    assert header["基地"] == base.name and header["季度"] == "2026年第3季度" and header["版本"] == 1
    assert header["统计期间"] == "2026-07-01 至 2026-09-30" and header["数据截至"] == "2026-10-20"
    assert any(row[0] == "未报送月度数据的月份不计入合计，不按零计算。" for row in summary)
    start = next(i for i, row in enumerate(summary) if row[:3] == ["指标", "数值", "计量单位"]) + 1
    assert book["汇总"].freeze_panes == f"A{start + 1}"
    indicator_rows = summary[start:start + len(INDICATORS)]
    with app.test_request_context():
        assert [row[0] for row in indicator_rows] == [str(INDICATOR_LABELS[key]) for key, _ in INDICATORS]
        assert [row[2] for row in indicator_rows] == [str(UNIT_LABELS[unit]) for _, unit in INDICATORS]
        category_labels = {key: str(label) for key, label in SERVICE_FUNCTIONS.items()}
    values = {key: row[1] for (key, _), row in zip(INDICATORS, indicator_rows)}
    # Revenue in 万元: 甲 3.60 + 0.55 (moved in mid-August) + 丙 0.50 (July, before it graduated) + 丁 0.200005
    # (August missing, left out) = 4,850,005 fen; tax 180,000 + 27,345 + 20,000 = 227,345 fen.
    assert figures["money_fen"] == {"revenue": 4_850_005, "tax": 227_345}
    assert values == {"housed": 3, "moved_in": 1, "exited": 1, "revenue_wan": 4.85, "tax_wan": 0.23,
                      "employees": 6 + 3 + 1, "graduates": 1, "followed": 1, "service_requests": 1, "visits": 1,
                      "activities": 1, "participants": 3, "rent_discount_percent": "未知", "attendance_below": 0,
                      "months_missing": 1}
    for key, unit in INDICATORS:       # the snapshot's own figures, numbers written as numbers
        snapshot_value = figures["indicators"][key]
        if unit == "wan":
            assert values[key] == float(snapshot_value)
        elif snapshot_value is not None:
            assert values[key] == snapshot_value and isinstance(values[key], int)
    cells = {row[0].value: row[1] for row in book["汇总"].iter_rows(min_row=start + 1)}
    assert cells[str_label(app, "revenue_wan")].number_format == "0.00"
    assert cells[str_label(app, "housed")].data_type == "n"

    companies = rows_of(book["企业数据"])
    assert companies[0] == ["企业名称", "统一社会信用代码", "季末在驻", "本季度入驻", "本季度迁出", "营业收入（万元）",
                            "上缴税金（万元）", "从业人员", "已报送月份", "未报送月份"]
    by_name = {row[0]: row[1:] for row in companies[1:]}
    assert by_name == {
        "甲": [valid_uscc(1), "是", "否", "否", 3.6, 0.18, 6, "2026-07、2026-08、2026-09", None],
        FORMULA: [valid_uscc(2), "是", "是", "否", 0.55, 0.03, 3, "2026-08、2026-09", None],
        "丁": [valid_uscc(4), "是", "否", "否", 0.2, 0.0, 1, "2026-07、2026-09", "2026-08"],
        "丙": [valid_uscc(3), "否", "否", "是", 0.5, 0.02, None, "2026-07", None],
        "合计": [None, None, None, None, 4.85, 0.23, 10, None, None]}
    assert [row[0] for row in companies[1:]] == [entry["name"] for entry in figures["companies"]] + ["合计"]
    formula_cell = next(row[0] for row in book["企业数据"].iter_rows(min_row=2) if row[0].value == FORMULA)
    assert formula_cell.data_type == "s"                       # text, not a formula
    with zipfile.ZipFile(io.BytesIO(files["xlsx"])) as archive:   # no formula and no link anywhere in the file
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                xml = archive.read(name).decode()
                assert "<f>" not in xml and "<f " not in xml and "hyperlink" not in xml.lower()

    graduates = rows_of(book["毕业企业"])
    assert graduates[0] == ["企业名称", "统一社会信用代码", "迁出日期", "跟踪至", "本季度毕业", "跟踪中"]
    tracked_until = date.fromisoformat(figures["graduates"][0]["tracked_until"])
    assert graduates[1:] == [["丙", valid_uscc(3), datetime(2026, 8, 20),
                              datetime(tracked_until.year, tracked_until.month, tracked_until.day), "是", "是"]]

    services_rows = rows_of(book["分类服务统计"])
    assert services_rows[0] == ["类别", "服务诉求", "入企服务", "组织活动", "活动参与人数"]
    assert services_rows[1:5] == [[category_labels["coaching"], 0, 1, 0, 0],
                                  [category_labels["training"], 0, 0, 1, 3],
                                  [category_labels["financing"], 1, 0, 0, 0],
                                  ["合计", 1, 1, 1, 3]]
    assert services_rows[6][0] == "计入的台账记录" and services_rows[7][:4] == ["日期", "类型", "类别", "标题"]
    entries = services_rows[8:]
    assert [(row[0], row[2], row[3]) for row in entries] == [
        (datetime(2026, 7, 10), category_labels["financing"], "想了解创业担保贷款"),
        (datetime(2026, 8, 25), category_labels["coaching"], "走访了解经营情况"),
        (datetime(2026, 9, 3), category_labels["training"], "=1+1 路演")]
    assert book["分类服务统计"].cell(row=11, column=4).data_type == "s"

    assert rows_of(book["未报送的月度数据"]) == [["企业名称", "月份", "处理方式"],
                                            ["丁", "2026-08", "不计入合计（未按零计）"]]
    for name in book.sheetnames[1:]:
        assert book[name].freeze_panes == "B2"


def str_label(app, key):
    with app.test_request_context():
        return str(INDICATOR_LABELS[key])


def test_the_csv_keeps_the_summary_and_neutralises_formulas(app, factory):
    base, _ids = quarter_with_everything(app, factory, base_name=FORMULA)
    figures, files = stored(app, base, generate(app, base))
    assert files["csv"].startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(files["csv"].decode("utf-8-sig"))))
    assert rows[0] == ["基地", "'" + FORMULA]                    # the base's name, never read as a formula
    assert ["季度", "2026年第3季度"] in rows and ["版本", "1"] in rows
    start = rows.index(["指标", "数值", "计量单位"]) + 1
    table = rows[start:]
    assert len(table) == len(INDICATORS)
    assert [row[1] for row in table] == ["" if figures["indicators"][key] is None
                                         else str(figures["indicators"][key]) for key, _ in INDICATORS]
    assert table[3][1:] == ["4.85", "万元"] and table[4][1] == "0.23"
    assert all(not cell.startswith(("=", "+", "@")) for row in rows for cell in row)

    book = openpyxl.load_workbook(io.BytesIO(files["xlsx"]))
    assert book["汇总"]["B2"].value == FORMULA and book["汇总"]["B2"].data_type == "s"


def test_a_cell_is_neutralised_only_when_a_spreadsheet_would_compute_it():
    assert exports._text('=HYPERLINK("http://x","y")') == '\'=HYPERLINK("http://x","y")'
    assert [exports._text(value) for value in ("@SUM(A1)", "+86 139", "-2+3+cmd|' /C calc'!A0", "\tx", "-",
                                               "-nan", "+inf")] == [
        "'@SUM(A1)", "'+86 139", "'-2+3+cmd|' /C calc'!A0", "'\tx", "'-", "'-nan", "'+inf"]
    assert [exports._text(value) for value in ("-1.5", "4.85", "12.5", "甲", None, 3)] == [
        "-1.5", "4.85", "12.5", "甲", "", "3"]


def test_the_json_carries_the_exact_fen_and_which_version_it_is(app, factory):
    base, ids = quarter_with_everything(app, factory)
    figures, files = stored(app, base, generate(app, base))
    document = json.loads(files["json"].decode("utf-8"))
    assert document["filing"]["period"] == "2026Q3" and document["filing"]["version"] == 1
    assert document["money_fen"] == {"revenue": 4_850_005, "tax": 227_345}
    assert (document["indicators"]["revenue_wan"], document["indicators"]["tax_wan"]) == ("4.85", "0.23")
    by_id = {company["id"]: company for company in document["companies"]}
    assert (by_id[ids["丁"]]["revenue_fen"], by_id[ids["丁"]]["revenue_wan"]) == (200_005, "0.20")
    assert by_id[ids[FORMULA]]["name"] == FORMULA and by_id[ids[FORMULA]]["tax_fen"] == 12_345 + 15_000
    assert document["gap_treatment"] == "left_out" and document["gaps"][0]["month"] == "2026-08-01"
    assert b'"\xe4\xb8\x81"' in files["json"]                  # UTF-8 as it is ("丁"), not \u escapes
    assert document["companies"] == figures["companies"]


def test_sheet_names_are_valid_for_excel_in_every_language(app, factory):
    base, _ids = quarter_with_everything(app, factory)
    filing_id = generate(app, base)
    with app.test_request_context(), scoped_to(base.id):
        filing = db.session.get(QuarterlyFiling, filing_id)
        for locale in app.config["LANGUAGES"]:
            with force_locale(locale):
                book = openpyxl.load_workbook(io.BytesIO(exports.filing_xlsx(filing)))
            for name in book.sheetnames:
                assert 0 < len(name) <= 31 and not INVALID_SHEET_CHARACTERS & set(name), (locale, name)
            if locale == "en":
                assert book.sheetnames == ["Summary", "Company figures", "Graduates", "Services by category",
                                           "Missing monthly reports"]
                assert book["Summary"]["A1"].value == "Quarterly filing for 2026 Q3"
