"""Regressions of the rent bills found in review (issue 9): a billed lease cannot be removed (its months would be
billed twice), the first month billed cannot move before the bills issued, list pages keep only their own
filters in their links, the export tells the credit notes issued on a bill from the credit that settled it, and
a payment's company posted as the text "None" is a field error."""
import re
from datetime import date
from decimal import Decimal
from io import BytesIO

import openpyxl
import pytest

from billing import invoicing
from operator_app.accounts.models import User
from operator_app.db import scoped_to
from operator_app.extensions import db
from tenants import rent_services
from tenants.models import Lease

from ..helpers import field_errors
from .test_invoicing_issue import bills, enable, issue
from .test_invoicing_pages import SETTINGS_FORM, stored_settings
from .test_payments_support import credit, make_bill, money, pay, text_of, zh  # noqa: F401

BILLED_LEASE = ("Bills have been issued for this lease, so it cannot be removed; if a bill is wrong, have the base "
                "manager issue a credit note against it, or correct the lease.")
FIRST_MONTH_LOCKED = ("Bills have been issued from %(month)s: the first month billed cannot be earlier, or every "
                      "month before it would be billed at the next run.")


def url(base, path=""):
    return f"/b/{base.slug}/billing/{path}"


@pytest.fixture
def base(factory):
    return factory.base()


def _lease_removed(app, base, lease_id):
    with app.app_context(), scoped_to(base.id):
        return db.session.get(Lease, lease_id).deleted_at is not None


# --- A billed lease stays ---------------------------------------------------------------------------------------

def test_a_billed_lease_cannot_be_removed_and_entered_again_to_bill_its_month_twice(app, factory, base, browser):
    company = factory.company(base, n=1)
    lease = factory.lease(base, company)
    enable(app, base)
    issue(app, base, date(2026, 3, 1))
    browser.login(base.owner)
    company_page = f"/b/{base.slug}/tenants/{company}"
    response = browser.post(f"{company_page}/leases/{lease}/delete", form_page=company_page, follow_redirects=True)
    assert response.status_code == 200
    assert zh(app, BILLED_LEASE) in text_of(response)
    assert not _lease_removed(app, base, lease)
    # The service refuses it too, whoever calls it; the lease is still the one billed: no second March bill.
    with app.test_request_context(), scoped_to(base.id):
        with pytest.raises(rent_services.LeaseInUse):
            rent_services.remove_lease(db.session.get(Lease, lease), by=db.session.get(User, base.owner.id))
        db.session.rollback()
    assert issue(app, base, date(2026, 3, 2)) == []
    assert [(b["period"], b["lease_id"]) for b in bills(app, base)] == [("2026-03", lease)]


def test_a_lease_without_bills_can_still_be_removed_and_a_billed_one_edited(app, factory, base, browser):
    company = factory.company(base, n=1)
    billed = factory.lease(base, company)
    enable(app, base)
    issue(app, base, date(2026, 3, 1))
    other = factory.company(base, n=2)
    unbilled = factory.lease(base, other, starts_on=date(2027, 1, 1), ends_on=date(2027, 12, 31))
    browser.login(base.owner)
    other_page = f"/b/{base.slug}/tenants/{other}"
    assert browser.post(f"{other_page}/leases/{unbilled}/delete", form_page=other_page).status_code == 302
    assert _lease_removed(app, base, unbilled)
    with app.test_request_context(), scoped_to(base.id):  # correcting a billed lease stays possible
        row = db.session.get(Lease, billed)
        values = {field: getattr(row, field) for field in rent_services.LEASE_FIELDS} | {"area_m2": Decimal("90.00")}
        rent_services.update_lease(row, values, by=db.session.get(User, base.owner.id))
        db.session.commit()
    assert issue(app, base, date(2026, 3, 2)) == []


# --- The first month billed cannot move before the bills ------------------------------------------------------

def test_the_first_month_cannot_move_before_the_bills_issued(app, factory, base, browser):
    factory.lease(base, factory.company(base, n=1))
    browser.login(base.owner)
    assert browser.post(url(base, "settings"), SETTINGS_FORM).status_code == 302  # from March 2026
    issue(app, base, date(2026, 3, 1))
    response = browser.post(url(base, "settings"), {**SETTINGS_FORM, "first_month": "2025-03"})
    assert response.status_code == 422
    assert field_errors(response) == {"first_month": [zh(app, FIRST_MONTH_LOCKED, month="2026-03")]}
    assert stored_settings(app, base)["first_month"] == date(2026, 3, 1)
    assert issue(app, base, date(2026, 3, 2)) == []  # nothing back-billed
    # The service refuses it too; a later first month, or the same one, is still accepted.
    with pytest.raises(invoicing.FirstMonthLocked):
        enable(app, base, first_month=date(2025, 3, 1))
    assert browser.post(url(base, "settings"), {**SETTINGS_FORM, "due_days": "7"}).status_code == 302
    assert browser.post(url(base, "settings"), {**SETTINGS_FORM, "first_month": "2026-04"}).status_code == 302
    assert issue(app, base, date(2026, 4, 1)) != []
    assert [b["period"] for b in bills(app, base)] == ["2026-03", "2026-04"]


# --- List pages pass only their own filters to their links ------------------------------------------------

ODD_KEYS = "endpoint=x&_external=1&_anchor=x&_scheme=javascript&_method=GET&values=1"
PAGE_LINK = re.compile(r'class="page-link" href="([^"]*)"')


def _list_links(page):
    """The hrefs of the list's page links."""
    return PAGE_LINK.findall(page)


def test_the_bills_list_pages_with_odd_query_keys(app, browser, money):
    base, company_id, _ = money
    for _n in range(26):
        make_bill(app, base, company_id, 100, settle=False)
    browser.login(base.owner)
    response = browser.get(url(base, f"?{ODD_KEYS}&status=open&page=2"))
    assert response.status_code == 200
    page = text_of(response)
    assert f'href="/b/{base.slug}/billing/?page=1&amp;status=open"' in response.get_data(as_text=True)
    assert _list_links(page) and not [link for link in _list_links(page) if "endpoint" in link or "_" in link]


def test_the_companies_list_pages_with_odd_query_keys(app, factory, base, browser):
    for n in range(26):
        factory.company(base, n=n + 1)
    browser.login(base.owner)
    response = browser.get(f"/b/{base.slug}/tenants/?{ODD_KEYS}&q=&page=2")
    assert response.status_code == 200
    page = text_of(response)
    assert _list_links(page) and not [link for link in _list_links(page) if "endpoint" in link or "_" in link]
    assert f"/b/{base.slug}/tenants/export.xlsx?q=" in page and f"/b/{base.slug}/tenants/?page=1&q=" in page


def test_the_service_ledger_pages_with_odd_query_keys(app, factory, base, browser):
    company = factory.company(base, n=1)
    for n in range(26):
        factory.service_request(base, company, content=f"需求{n}")
    browser.login(base.owner)
    response = browser.get(f"/b/{base.slug}/ledger/?{ODD_KEYS}&kind=request&page=2")
    assert response.status_code == 200
    page = text_of(response)
    assert _list_links(page) and not [link for link in _list_links(page) if "endpoint" in link or "_" in link]
    assert f"/b/{base.slug}/ledger/export.xlsx?kind=request" in page
    assert f"/b/{base.slug}/ledger/?page=1&kind=request" in page


# --- The export: credit notes issued on a bill, apart from the credit that settled it ---------------------

def test_the_export_credits_the_bill_a_credit_note_was_issued_on(app, browser, money):
    """Bill 1 (1,000) paid in full, then a 300 credit note on it: the company's credit, which settles bill 2."""
    base, company_id, _ = money
    first = make_bill(app, base, company_id, 100_000, issued_on=date(2026, 3, 1))
    pay(app, base, company_id, 100_000, received_on=date(2026, 3, 5))
    credit(app, base, first, 30_000, issued_on=date(2026, 3, 6))
    make_bill(app, base, company_id, 50_000, issued_on=date(2026, 3, 7))
    browser.login(base.owner)
    workbook = openpyxl.load_workbook(BytesIO(browser.get(url(base, "export?download=1")).data))
    rows = {row[0]: list(row) for row in workbook.worksheets[0].iter_rows(min_row=2, values_only=True)}
    # total, credit notes issued on it, settled by credit notes, paid, outstanding
    assert rows["1"][6:] == [1000.0, 300.0, 0.0, 1000.0, 0.0]
    assert rows["2"][6:] == [500.0, 0.0, 300.0, 0.0, 200.0]
    for row in rows.values():
        assert row[6] == row[8] + row[9] + row[10]


# --- A payment's company ----------------------------------------------------------------------------------

@pytest.mark.parametrize("posted", ["None", ""])
def test_a_payment_without_a_readable_company_is_a_field_error_keeping_the_input(app, browser, money, posted):
    base, company_id, _ = money
    browser.login(base.owner)
    response = browser.post(url(base, "payments/new"), {
        "company_id": posted, "amount_yuan": "88.88", "received_on": "2026-03-10", "method": "bank_transfer",
        "reference": "REF-1", "invoice_id": "", "notes": ""})
    assert response.status_code == 200
    errors = field_errors(response)
    assert list(errors) == ["company_id"]
    if posted == "":
        assert errors["company_id"] == [zh(app, "Choose the company that paid.")]
    page = text_of(response)
    assert 'value="88.88"' in page and 'value="REF-1"' in page
