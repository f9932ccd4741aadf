"""The accountant's workbook: three sheets with amounts as numbers in yuan, user text kept as text (a company
named like a formula too), the date range and its checks, roles, and queries that do not grow with the rows."""
from datetime import date
from io import BytesIO

import openpyxl
import pytest

from billing import exports
from operator_app.accounts.models import Base
from operator_app.db import scoped_to
from operator_app.extensions import db

from .test_payments_support import counting_queries, credit, make_bill, money, pay, text_of, zh  # noqa: F401

FORMULA = '=HYPERLINK("http://x")'


def _workbook(response):
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return openpyxl.load_workbook(BytesIO(response.data))


def _rows(sheet):
    return [list(row) for row in sheet.iter_rows(min_row=2, values_only=True)]


@pytest.fixture
def books(app, factory, money):
    base, company, other = money
    formula = factory.company(base, name=FORMULA, uscc=None, is_team=True, team_evidence="团队")
    march = make_bill(app, base, company, 100_000, issued_on=date(2026, 3, 1), period="2026-03")
    april = make_bill(app, base, company, 100_000, issued_on=date(2026, 4, 1), period="2026-04")
    make_bill(app, base, formula, 12_345, issued_on=date(2026, 4, 2))
    pay(app, base, company, 150_000, received_on=date(2026, 3, 20), reference="=1+1")
    credit(app, base, april, 20_000, issued_on=date(2026, 4, 5), reason="@SUM(A1)")
    pay(app, base, formula, 20_000, received_on=date(2026, 4, 10), method="cash")
    make_bill(app, base, other, 5_000, issued_on=date(2026, 5, 1))
    return base, company, other, formula, march, april


def test_the_workbook_has_bills_payments_and_credit_notes_as_the_accountant_reads_them(app, browser, books):
    base, company, other, formula, march, april = books
    browser.login(base.users["staff"])
    workbook = _workbook(browser.get(f"/b/{base.slug}/billing/export?download=1"))
    assert workbook.sheetnames == [zh(app, "Bill list"), zh(app, "Payments"), zh(app, "Credit notes"), zh(app, "About")]
    bills, payments_sheet, notes = (workbook[name] for name in workbook.sheetnames[:3])
    rows = _rows(bills)
    assert [row[0] for row in rows] == ["1", "2", "3", "4"]
    first = rows[0]
    assert first[1] == "甲科技有限公司" and first[2] and first[3] == "2026-03"
    assert first[4].date() == date(2026, 3, 1) and first[5].date() == date(2026, 3, 16)
    assert [cell.value for cell in bills[1]][6:] == [zh(app, "Total"), zh(app, "Credit notes issued on this bill"),
                                                      zh(app, "Settled by credit notes"), zh(app, "Amount paid"),
                                                      zh(app, "Outstanding")]
    # Total, credit notes issued on it, settled by credit notes, paid, outstanding.
    # March: 1,000 paid. April: a 200 credit note on it settles it; 1,000 − 200 − 500 paid = 300 owed.
    assert first[6:] == [1000.0, 0.0, 0.0, 1000.0, 0.0]
    assert rows[1][6:] == [1000.0, 200.0, 200.0, 500.0, 300.0]
    # The team named like a formula: text, no credit code; 123.45 billed, 200 paid → settled, 76.55 credit.
    assert rows[2][1] == FORMULA and rows[2][2] is None and rows[2][6:] == [123.45, 0.0, 0.0, 123.45, 0.0]
    assert rows[3][1] == "乙科技有限公司" and rows[3][10] == 50.0
    assert bills["B4"].data_type == "s" and bills["G3"].data_type == "n"
    assert bills["G3"].number_format == "#,##0.00"
    pay_rows = _rows(payments_sheet)
    assert [row[1] for row in pay_rows] == ["甲科技有限公司", FORMULA]
    assert pay_rows[0][2] == 1500.0 and pay_rows[0][4] == "=1+1" and pay_rows[0][6] == 0.0
    assert pay_rows[0][5] == "1（1000.00）、2（500.00）"
    assert pay_rows[1][3] == zh(app, "Cash") and pay_rows[1][6] == 76.55
    assert payments_sheet["B3"].data_type == "s" and payments_sheet["E2"].data_type == "s"
    note_rows = _rows(notes)
    assert note_rows == [[1, note_rows[0][1], "甲科技有限公司", "2", 200.0, "@SUM(A1)", "2（200.00）", 0.0]]
    assert notes["F2"].data_type == "s"


def test_a_date_range_picks_bills_and_credit_notes_by_issue_and_payments_by_receipt(app, browser, books):
    base, *_ = books
    browser.login(base.owner)
    workbook = _workbook(browser.get(f"/b/{base.slug}/billing/export?download=1&start_on=2026-04-01"
                                     f"&end_on=2026-04-30"))
    bills, payments_sheet, notes = (workbook[name] for name in workbook.sheetnames[:3])
    assert [row[0] for row in _rows(bills)] == ["2", "3"]
    assert [row[2] for row in _rows(payments_sheet)] == [200.0]
    assert [row[0] for row in _rows(notes)] == [1]
    about = {row[0]: row[1] for row in workbook[workbook.sheetnames[3]].iter_rows(values_only=True)}
    assert about[zh(app, "From")] == "2026-04-01" and about[zh(app, "To")] == "2026-04-30"
    only_start = _workbook(browser.get(f"/b/{base.slug}/billing/export?download=1&start_on=2026-05-01"))
    assert [row[0] for row in _rows(only_start[only_start.sheetnames[0]])] == ["4"]


@pytest.mark.parametrize("query, field, message", [
    ("start_on=2026-05-01&end_on=2026-04-01", "end_on", "The end of the range cannot be before its start."),
    ("start_on=2026-13-01", "start_on", None),
    ("end_on=0001-01-01", "end_on", None),
])
def test_a_wrong_range_is_answered_on_the_field_without_a_file(app, browser, money, query, field, message):
    from ..helpers import field_errors

    base, *_ = money
    browser.login(base.owner)
    response = browser.get(f"/b/{base.slug}/billing/export?download=1&{query}")
    assert response.status_code == 200 and response.mimetype == "text/html"
    errors = field_errors(response)
    assert list(errors) == [field]
    if message:
        assert errors[field] == [zh(app, message)]


def test_the_export_page_and_its_roles(app, browser, new_browser, money):
    base, *_ = money
    browser.login(base.users["staff"])
    page = text_of(browser.get(f"/b/{base.slug}/billing/export"))
    assert 'id="export-form"' in page and 'name="download"' in page
    empty = _workbook(browser.get(f"/b/{base.slug}/billing/export?download=1"))
    assert [_rows(empty[name]) for name in empty.sheetnames[:3]] == [[], [], []]
    for role, status in (("mentor", 403), ("tenant", 403)):
        other = new_browser()
        other.login(base.users[role])
        assert other.get(f"/b/{base.slug}/billing/export?download=1").status_code == status


def test_the_workbook_takes_the_same_queries_however_many_rows(app, factory, books):
    base, company, *_ = books

    def build():
        with app.test_request_context(), scoped_to(base.id):
            return exports.accounts_xlsx(db.session.get(Base, base.id), today=date(2026, 6, 30))

    with counting_queries(app) as few:
        build()
    for n in range(15):
        extra = factory.company(base, name=f"公司{n:02d}")
        bill = make_bill(app, base, extra, 10_000, issued_on=date(2026, 5, 2))
        pay(app, base, extra, 4_000, received_on=date(2026, 5, 3))
        credit(app, base, bill, 1_000, issued_on=date(2026, 5, 4))
    with counting_queries(app) as many:
        build()
    assert many[0] == few[0] <= 8
