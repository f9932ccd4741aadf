"""Roster import and company export: all-or-nothing imports with row errors, the template, safe exports."""
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO

import pytest
from flask_babel import force_locale, lazy_gettext as _l
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from stdnum.cn import uscc as uscc_module
from werkzeug.datastructures import FileStorage

from operator_app.accounts.models import Base, User
from operator_app.audit import AuditEntry
from operator_app.db import scoped_to
from operator_app.extensions import db
from tenants import constants as c
from tenants import services
from tenants.exports import EXPORT_COLUMNS, companies_xlsx
from tenants.imports import COLUMNS, COLUMNS_BY_FIELD, MAX_IMPORT_ROWS, import_roster, roster_template
from tenants.models import TenantCompany


def code(n, prefix="91140100"):
    """A valid unified social credit code, different for each ``n``."""
    base17 = prefix + f"{n:09d}"
    number = base17 + uscc_module.calc_check_digit(base17)
    assert uscc_module.is_valid(number)
    return number


def english_headers():
    with force_locale("en"):
        return [str(column.header) for column in COLUMNS]


@pytest.fixture
def header(app):
    """The header an error names: the column's header in the user's locale (Chinese by default)."""
    def in_locale(field):
        with app.test_request_context():
            return str(COLUMNS_BY_FIELD[field].header)
    return in_locale


def row_values(n, **changes):
    values = {
        "name": f"测试企业{n}有限公司", "uscc": code(n), "is_team": "否", "team_evidence": None,
        "legal_representative": "张三", "contact_name": "李四", "contact_phone": "13800000000",
        "contact_email": f"c{n}@example.com", "main_business": "软件开发", "industry": "I", "zone": "孵化区",
        "unit": f"A-{n}", "is_workstation": "否", "workstation_count": None, "area_m2": 50.5,
        "moved_in_on": datetime(2024, 1, 2), "licence_in_base": "是", "staff_on_site": "是",
        "equipment_on_site": "Y",
    }
    values.update(changes)
    return [values[column.field] for column in COLUMNS]


def xlsx(rows, headers=None):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers or english_headers())
    for row in rows:
        sheet.append(row)
    output = BytesIO()
    workbook.save(output)
    return output.getvalue()


def upload(data, filename="roster.xlsx"):
    return FileStorage(stream=BytesIO(data), filename=filename,
                       content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@pytest.fixture
def base(app, factory):
    """A base whose profile has a tenant-count standard (100), so workstation companies can be entered."""
    created = factory.base(roles=())
    with app.app_context():
        db.session.get(Base, created.id).tenant_count_standard = 100
        db.session.commit()
    return created


@pytest.fixture
def in_base(app, base):
    """Runs ``fn(user)`` in a request of the base's manager, the base set as in a view; commits after."""
    def run(fn):
        with app.test_request_context(), scoped_to(base.id):
            user = db.session.get(User, base.owner.id)
            result = fn(user)
            db.session.commit()
            return result
    return run


def stored_count(app, base):
    with app.app_context(), scoped_to(base.id):
        return db.session.scalar(select(func.count(TenantCompany.id)))


def stored(app, base, *fields):
    """The base's companies in the order they were created, as tuples of ``fields``."""
    with app.app_context(), scoped_to(base.id):
        companies = db.session.scalars(select(TenantCompany).order_by(TenantCompany.id))
        return [tuple(getattr(company, name) for name in fields) for company in companies]


def run_import(in_base, data, filename="roster.xlsx"):
    return in_base(lambda user: import_roster(upload(data, filename), by=user))


def error_cells(result):
    return {(error.row, error.column) for error in result.errors}


def test_a_valid_roster_of_500_rows_is_imported(app, base, in_base):
    result = run_import(in_base, xlsx([row_values(n) for n in range(1, 501)]))

    assert result.ok, result.errors[:5]
    assert len(result.created) == 500
    assert stored_count(app, base) == 500
    with app.app_context(), scoped_to(base.id):
        company = db.session.scalar(select(TenantCompany).where(TenantCompany.uscc == code(42)))
        assert company.name == "测试企业42有限公司"
        assert company.status == c.STATUS_IN_RESIDENCE
        assert company.base_id == base.id
        assert (company.industry, company.zone, company.unit) == ("I", "incubation", "A-42")
        assert company.area_m2 == Decimal("50.50")
        assert company.moved_in_on == date(2024, 1, 2)
        assert company.workstation_count is None
        assert (company.is_team, company.is_workstation) == (False, False)
        assert (company.licence_in_base, company.staff_on_site, company.equipment_on_site) == (True, True, True)
        assert (company.legal_representative, company.contact_email) == ("张三", "c42@example.com")
        audited = db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "tenant.create"))
        assert audited == 500


def test_three_bad_rows_are_reported_and_nothing_is_written(app, base, in_base, header):
    rows = [row_values(n) for n in range(1, 501)]
    rows[9] = row_values(10, uscc="911401000000000099")  # wrong check character; spreadsheet row 11
    rows[199] = row_values(200, moved_in_on="2024-13-45")  # row 201
    rows[499] = row_values(500, name=None)  # row 501

    result = run_import(in_base, xlsx(rows))

    assert not result.ok
    assert result.created == []
    assert error_cells(result) == {(11, header("uscc")), (201, header("moved_in_on")), (501, header("name"))}
    assert [error.row for error in result.errors] == [11, 201, 501]
    assert all(error.message for error in result.errors)
    assert stored_count(app, base) == 0
    with app.app_context(), scoped_to(base.id):
        assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "tenant.create")) == 0


def test_duplicate_codes_in_the_file_and_in_the_base_are_reported(app, base, in_base, header):
    def existing(user):
        values = {"name": "已在册企业", "uscc": code(1), "industry": "C", "is_team": False}
        services.create_company(values, status=c.STATUS_IN_RESIDENCE, by=user)
    in_base(existing)

    rows = [row_values(1), row_values(2), row_values(3), row_values(4, uscc=code(2)),
            row_values(5, uscc=" " + code(3).lower())]
    result = run_import(in_base, xlsx(rows))

    assert error_cells(result) == {(2, header("uscc")), (5, header("uscc")), (6, header("uscc"))}
    messages = {error.row: error.message for error in result.errors}
    assert "3" in messages[5] and "4" in messages[6]  # "the same code as row 3 / 4"
    assert stored_count(app, base) == 1


def test_a_formula_is_refused(app, base, in_base, header):
    result = run_import(in_base, xlsx([row_values(1), row_values(2, contact_phone="=1+1")]))

    assert error_cells(result) == {(3, header("contact_phone"))}
    assert "formula" in result.errors[0].message.lower() or "公式" in result.errors[0].message
    assert stored_count(app, base) == 0


@pytest.mark.parametrize("make", [
    lambda good: b"name,uscc\nACME,91140100000000005F\n",  # a CSV renamed .xlsx
    lambda good: good[: len(good) // 2],  # a truncated download
    lambda good: good[:30] + b"\x00" * 200 + good[230:],  # damaged in the middle
    lambda good: b"",
], ids=["text", "truncated", "damaged", "empty"])
def test_an_unreadable_file_is_one_clear_error(app, base, in_base, make):
    data = make(xlsx([row_values(n) for n in range(1, 30)]))

    result = run_import(in_base, data)

    assert len(result.errors) == 1
    assert result.errors[0].row == 0 and result.errors[0].message
    assert stored_count(app, base) == 0


def test_a_file_larger_than_the_limit_is_refused(app, base, in_base):
    app.config["MAX_UPLOAD_BYTES"], limit = 1000, app.config["MAX_UPLOAD_BYTES"]
    try:
        result = run_import(in_base, xlsx([row_values(n) for n in range(1, 30)]))
    finally:
        app.config["MAX_UPLOAD_BYTES"] = limit
    assert [error.row for error in result.errors] == [0]
    assert stored_count(app, base) == 0


def test_too_many_rows_are_refused(app, base, in_base):
    rows = [row_values(n) for n in range(1, 2501)]

    result = run_import(in_base, xlsx(rows))

    assert len(result.errors) == 1
    assert result.errors[0].row == 0 and str(MAX_IMPORT_ROWS) in result.errors[0].message
    assert stored_count(app, base) == 0


def test_unknown_and_missing_columns_are_reported(app, base, in_base, header):
    headers = english_headers()
    headers[1] = "备注"  # the code column replaced by an unknown one
    result = run_import(in_base, xlsx([row_values(1)], headers=headers))

    assert error_cells(result) == {(1, "备注"), (1, header("uscc"))}
    assert stored_count(app, base) == 0


def test_columns_may_come_in_any_order_and_optional_ones_may_be_missing(app, base, in_base):
    headers = [" unified social credit CODE ", "Industry", "Company or team name"]
    rows = [[code(1), "Manufacturing", "甲公司"], [code(2), "信息传输、软件和信息技术服务业", "乙公司"]]

    result = run_import(in_base, xlsx(rows, headers=headers))

    assert result.ok, result.errors
    assert stored(app, base, "name", "industry", "zone", "licence_in_base") == [
        ("甲公司", "C", None, False), ("乙公司", "I", None, False)]


def test_accepted_spellings_of_yes_no_zone_industry_and_dates(app, base, in_base):
    rows = [
        row_values(1, is_workstation="√", workstation_count=3, zone="incubation", industry="m",
                   moved_in_on="2024/03/05", licence_in_base=1, staff_on_site=True, equipment_on_site="false"),
        row_values(2, uscc=None, is_team="yes", team_evidence="省级创业大赛获奖团队", zone="成长区",
                   industry="制造业", moved_in_on="2023-11-30", area_m2="88.8", licence_in_base=None,
                   staff_on_site="N", equipment_on_site="✓"),
    ]
    result = run_import(in_base, xlsx(rows))

    assert result.ok, result.errors
    assert stored(app, base, "uscc", "is_team", "team_evidence", "is_workstation", "workstation_count", "zone",
                  "industry", "moved_in_on", "area_m2", "licence_in_base", "staff_on_site", "equipment_on_site") == [
        (code(1), False, "", True, 3, "incubation", "M", date(2024, 3, 5), Decimal("50.50"), True, True, False),
        (None, True, "省级创业大赛获奖团队", False, None, "growth", "C", date(2023, 11, 30), Decimal("88.80"),
         False, False, True)]


def test_unknown_words_in_coded_columns_are_errors_on_their_cells(app, base, in_base, header):
    # The last row breaks a rule of the web form (workstations are in the incubation zone).
    rows = [row_values(1, is_team="maybe"), row_values(2, zone="公共服务区"), row_values(3, industry="Z"),
            row_values(4, is_workstation="是", zone="成长区", workstation_count=2)]

    result = run_import(in_base, xlsx(rows))

    assert error_cells(result) == {(2, header("is_team")), (3, header("zone")), (4, header("industry")),
                                   (5, header("is_workstation"))}
    assert stored_count(app, base) == 0


def test_the_template_round_trips(app, base, in_base):
    def fill(user):
        template = load_workbook(BytesIO(roster_template()))
        sheet = template.worksheets[0]
        assert [cell.value for cell in sheet[1]] == [str(column.header) for column in COLUMNS]
        explained = {row[0] for row in template.worksheets[1].iter_rows(values_only=True)}
        assert set(c.INDUSTRIES) <= explained
        sheet.append(row_values(7))  # below the example row, which is left in place
        sheet.append(row_values(8, zone=str(sheet.cell(2, 11).value), industry=sheet.cell(2, 10).value))
        output = BytesIO()
        template.save(output)
        return import_roster(upload(output.getvalue()), by=user)

    result = in_base(fill)

    assert result.ok, result.errors
    assert len(result.created) == 2
    assert stored(app, base, "uscc", "zone", "industry") == [(code(7), "incubation", "I"), (code(8), "incubation", "I")]


def test_an_untouched_template_imports_nothing(app, base, in_base):
    result = in_base(lambda user: import_roster(upload(roster_template()), by=user))

    assert [error.row for error in result.errors] == [0]
    assert stored_count(app, base) == 0


def test_the_export_has_one_row_per_company_and_text_stays_text(app, base, in_base):
    def make_and_export(user):
        first = services.create_company({
            "name": '=HYPERLINK("http://evil.example","点我")', "uscc": code(1), "industry": "I", "zone": "incubation",
            "unit": "B-2", "is_workstation": True, "workstation_count": 4, "area_m2": Decimal("12.50"),
            "moved_in_on": date(2024, 5, 6), "licence_in_base": True, "contact_phone": "+8613800000000",
            "main_business": "http://example.com @SUM(1)"}, status=c.STATUS_IN_RESIDENCE, by=user)
        second = services.create_company({"name": "乙团队", "uscc": None, "is_team": True, "team_evidence": "x",
                                          "industry": "C"}, status=c.STATUS_APPLICANT, by=user)
        data = companies_xlsx([first, second])
        labels = {key: str(value) for key, value in
                  {"yes": _l("Yes"), "no": _l("No"),
                   "industry": c.INDUSTRIES["I"], "resident": c.STATUS_LABELS[c.STATUS_IN_RESIDENCE],
                   "applicant": c.STATUS_LABELS[c.STATUS_APPLICANT]}.items()}
        headers = [str(column.header) for column in EXPORT_COLUMNS]
        return data, labels, headers

    data, labels, headers = in_base(make_and_export)

    sheet = load_workbook(BytesIO(data)).worksheets[0]
    rows = list(sheet.iter_rows())
    assert len(rows) == 3
    assert [cell.value for cell in rows[0]] == headers
    first = {column.field: cell for column, cell in zip(EXPORT_COLUMNS, rows[1])}
    assert first["name"].value == '=HYPERLINK("http://evil.example","点我")'
    assert first["name"].data_type == "s" and first["name"].hyperlink is None
    assert first["main_business"].data_type == "s" and first["main_business"].hyperlink is None
    assert first["uscc"].value == code(1) and first["uscc"].data_type == "s"
    assert first["contact_phone"].value == "+8613800000000"
    assert first["industry"].value == labels["industry"]
    assert first["zone"].value == "孵化区"  # the current locale is Chinese
    assert (first["is_workstation"].value, first["is_team"].value) == (labels["yes"], labels["no"])
    assert first["workstation_count"].value == 4 and first["area_m2"].value == 12.5
    assert first["moved_in_on"].value == datetime(2024, 5, 6) and first["moved_in_on"].is_date
    assert first["status"].value == labels["resident"]
    assert first["moved_out_on"].value is None
    second = {column.field: cell.value for column, cell in zip(EXPORT_COLUMNS, rows[2])}
    assert (second["name"], second["uscc"], second["status"]) == ("乙团队", None, labels["applicant"])
    assert (labels["yes"], labels["no"]) == ("是", "否")
