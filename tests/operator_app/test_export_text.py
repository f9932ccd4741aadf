"""Every spreadsheet the app exports writes user text as text (issue 10, item 7): a company named
``=HYPERLINK(...)``, a ledger entry reading ``=1+1`` or a payment reference ``=cmd|' /C calc'!A0`` come out as
string cells, never as formulas; the filing's CSV neutralises them with a leading quote; the JSON keeps them
literally.

The app writes no formula on purpose in any export (the ledger's file links are hyperlinks written with
``write_url`` to the app's own addresses, not formulas), so no cell of any sheet may hold one."""
import csv
import io
import json
from datetime import date, datetime, timezone

import openpyxl
import pytest
from werkzeug.datastructures import FileStorage

from operator_app.accounts.models import User
from operator_app.db import scoped_to
from operator_app.extensions import db
from operator_app.timeutil import utcnow

from ..helpers import PDF_BYTES

from .test_isolation import billing_ids, filing_ids

EVIL_LINK = '=HYPERLINK("http://evil.example","x")'
PLUS = "+1+1"
MINUS = "-2+3"
AT = "@SUM(A1)"
ENTRY = "=1+1"
DDE = "=cmd|' /C calc'!A0"
FORMULA_STARTS = ("=", "+", "-", "@")


def _rows(app, factory):
    """A base named like a formula, companies named like formulas, and a formula in every kind of record the
    exports show: a lease's units, a quote, a ledger entry, a workstation person, a payment and a credit note."""
    from billing import payments
    from ledger import services as ledger_services
    from ledger.models import Activity
    from operator_app.accounts.models import Base
    from tenants import rent_services
    from tenants.models import TenantCompany

    base = factory.base("evil", name=EVIL_LINK)
    link_company = factory.company(base, name=EVIL_LINK, moved_in_on=date(2025, 3, 1))
    factory.company(base, name=PLUS, moved_in_on=date(2025, 3, 1))
    desk_company = factory.company(base, name=AT, is_workstation=True, workstation_count=2, zone="incubation",
                                   area_m2=None)
    lease_company = factory.company(base, name=MINUS, moved_in_on=date(2025, 3, 1))
    lease_id = factory.lease(base, lease_company, units=ENTRY)
    factory.person(base, desk_company, name=MINUS, active_from=date(2026, 1, 1))
    factory.service_request(base, link_company, content=ENTRY)
    activity = factory.activity(base, title=PLUS)
    ids = filing_ids(factory, base)
    ids.update(billing_ids(factory, base, lease_id))
    with app.test_request_context(), scoped_to(base.id):
        owner = db.session.get(User, base.owner.id)
        rent_services.record_quote({"quoted_on": date.today(), "source": "agency", "source_name": DDE,
                                    "location": PLUS, "space_type": "office", "price_fen": 5000, "notes": AT},
                                   by=owner)
        payments.record_payment(db.session.get(TenantCompany, lease_company), {
            "amount_fen": 2_000, "received_on": date(2026, 3, 8), "method": "bank_transfer", "reference": DDE,
            "notes": EVIL_LINK}, by=owner, allow_duplicate=True)
        ledger_services.create_request({"company_id": lease_company, "channel": "phone", "category": "financing",
                                        "content": AT, "received_at": datetime(2025, 8, 2, 2, tzinfo=timezone.utc),
                                        "handler_id": None}, base=db.session.get(Base, base.id), by=owner)
        upload = FileStorage(stream=io.BytesIO(PDF_BYTES), filename=EVIL_LINK + ".pdf")
        ledger_services.add_activity_files(db.session.get(Activity, activity), "notice", [upload], now=utcnow(),
                                           by=owner)
        db.session.commit()
    return base, ids


@pytest.fixture
def evil(app, factory):
    return _rows(app, factory)


def _xlsx_texts(data):
    """Every cell's text of every sheet; fails on any formula cell or a hyperlink off the app."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    texts = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value is None:
                    continue
                assert cell.data_type != "f", f"formula in {sheet.title}!{cell.coordinate}: {cell.value!r}"
                if isinstance(cell.value, str):
                    if cell.value.startswith(FORMULA_STARTS):
                        assert cell.data_type == "s", (sheet.title, cell.coordinate, cell.data_type)
                    texts.append(cell.value)
                if cell.hyperlink is not None:
                    assert "evil.example" not in (cell.hyperlink.target or ""), (sheet.title, cell.coordinate)
    return texts


def _strings(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def _download(browser, url):
    response = browser.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.data


EXPORTS = {
    # name: (url under /b/<slug>/, the formula-like texts the export must show as they are)
    "companies": ("tenants/export.xlsx?status=all", [EVIL_LINK, PLUS, AT, MINUS]),
    "rent": ("tenants/rent/export.xlsx", [MINUS, ENTRY, DDE, PLUS]),
    "attendance": ("tenants/attendance/sheet.xlsx?month=2026-01", [EVIL_LINK, MINUS]),
    "ledger": ("ledger/export.xlsx", [ENTRY, AT, EVIL_LINK, PLUS, EVIL_LINK + ".pdf"]),
    "billing": ("billing/export?download=1", [MINUS, DDE]),
    "annual annex": ("filings/annual/2025/annex.xlsx", []),
    "import template": ("tenants/import/template.xlsx", []),
}


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_every_xlsx_export_writes_user_text_as_text(evil, browser, name):
    base, _ = evil
    path, expected = EXPORTS[name]
    browser.login(base.owner)
    texts = _xlsx_texts(_download(browser, f"/b/{base.slug}/{path}"))
    for value in expected:
        assert value in texts, f"{name}: {value!r} is not a cell of its own"


def test_the_ledger_links_its_files_into_the_app_with_the_file_name_as_text(evil, browser):
    """The only links any export writes: the ledger's activity files, to the app's own file view; the link's
    text is the uploaded file's name, a string cell."""
    base, _ = evil
    browser.login(base.owner)
    sheet = openpyxl.load_workbook(io.BytesIO(_download(browser, f"/b/{base.slug}/ledger/export.xlsx"))).active
    links = [cell for row in sheet.iter_rows() for cell in row if cell.hyperlink is not None]
    assert [(cell.value, cell.data_type) for cell in links] == [(EVIL_LINK + ".pdf", "s")]
    assert links[0].hyperlink.target.startswith(f"http://localhost/b/{base.slug}/ledger/activities/")


def test_quarterly_filing_xlsx_csv_and_json_keep_user_text_inert(evil, browser):
    from operator_app.filings.exports import _text

    base, ids = evil
    browser.login(base.owner)
    prefix = f"/b/{base.slug}/filings/{ids['filing_id']}/download"
    texts = _xlsx_texts(_download(browser, f"{prefix}/xlsx"))
    for value in (EVIL_LINK, PLUS, MINUS, AT):  # base name, companies' names (companies, gaps), ledger entry
        assert value in texts, value

    rows = list(csv.reader(io.StringIO(_download(browser, f"{prefix}/csv").decode("utf-8-sig"))))
    cells = [cell for row in rows for cell in row]
    assert "'" + EVIL_LINK in cells  # the base's name, behind a quote
    assert EVIL_LINK not in cells
    for cell in cells:
        assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
        assert not cell.startswith("-") or _text(cell) == cell, cell  # only a plain negative number

    document = json.loads(_download(browser, f"{prefix}/json"))
    assert document["base"]["name"] == EVIL_LINK  # JSON is data: the name as it is
    assert {PLUS, MINUS} <= set(_strings(document))


@pytest.mark.parametrize("value, expected", [
    (EVIL_LINK, "'" + EVIL_LINK), (PLUS, "'+1+1"), (MINUS, "'-2+3"), (AT, "'@SUM(A1)"), (DDE, "'" + DDE),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("-1.5", "-1.5"), ("+3", "+3"), ("-inf", "'-inf"), ("-nan", "'-nan"),
    (" -1", " -1"), ("公司", "公司"), (None, ""),
])
def test_csv_cells_are_neutralised_like_the_app_does(value, expected):
    from operator_app.filings.exports import _text

    assert _text(value) == expected
