"""The rent bill pages: the settings (manager only, optimistic lock), extra charges (bad input refused with a
Chinese message on the field, nothing written), the bills list (filters, totals, pages, empty states), a bill,
its printable page, the tenant's own bills, the company file's panel and the navigation."""
from datetime import date

import pytest
from sqlalchemy import func, select

from billing import invoicing
from billing.models import BillingSettings, ExtraCharge, RentInvoice
from operator_app.db import scoped_to, unscoped
from operator_app.extensions import db
from operator_app.timeutil import month_key, today_in

from ..helpers import field_errors
from .test_invoicing_issue import charge, enable, issue, move_out, pay

SETTINGS_FORM = {"invoicing_enabled": "y", "first_month": "2026-03", "due_days": "10", "number_prefix": "ZD-",
                 "payee_name": "太原双创运营有限公司", "bank_name": "中国银行太原分行",
                 "bank_account": "1400 2233 4455", "payment_notes": "转账请备注账单编号"}


def url(base, path=""):
    return f"/b/{base.slug}/billing/{path}"


def stored_settings(app, base):
    with app.app_context(), scoped_to(base.id):
        row = db.session.scalar(select(BillingSettings))
        return None if row is None else {"enabled": row.invoicing_enabled, "first_month": row.first_month,
                                         "due_days": row.due_days, "prefix": row.number_prefix,
                                         "payee": row.payee_name, "version": row.lock_version}


def charges_of(app, base):
    with app.app_context(), scoped_to(base.id):
        return [(c.lease_id, c.month, c.kind, c.description, c.amount_fen, c.deleted_at is not None,
                 c.invoice_id is not None) for c in db.session.scalars(select(ExtraCharge).order_by(ExtraCharge.id))]


def bill_ids(app, base):
    with app.app_context(), scoped_to(base.id):
        return db.session.scalars(select(RentInvoice.id).order_by(RentInvoice.number)).all()


@pytest.fixture
def base(factory):
    return factory.base()


# --- Settings -------------------------------------------------------------------------------------------------

def test_settings_are_the_manager_s_and_saved_with_their_history(app, base, browser, new_browser):
    staff = new_browser()
    staff.login(base.users["staff"])
    assert staff.get(url(base, "settings")).status_code == 403
    browser.login(base.owner)
    page = browser.get(url(base, "settings"))
    assert page.status_code == 200 and "账单设置" in page.get_data(as_text=True)
    assert browser.post(url(base, "settings"), SETTINGS_FORM).status_code == 302
    assert stored_settings(app, base) == {"enabled": True, "first_month": date(2026, 3, 1), "due_days": 10,
                                          "prefix": "ZD-", "payee": "太原双创运营有限公司", "version": 1}
    shown = browser.get(url(base, "settings")).get_data(as_text=True)
    assert 'value="2026-03"' in shown and 'name="lock_version" type="hidden" value="1"' in shown
    assert browser.post(url(base, "settings"), {**SETTINGS_FORM, "due_days": "20"}).status_code == 302
    assert stored_settings(app, base)["due_days"] == 20 and stored_settings(app, base)["version"] == 2


@pytest.mark.parametrize("change,field,message", [
    ({"first_month": ""}, "first_month", "开启账单前请先填写首个计费月份。"),
    ({"first_month": "2026-13"}, "first_month", "请按“年-月”填写月份，例如 2026-03。"),
    ({"first_month": "1999-12"}, "first_month", "请按“年-月”填写月份，例如 2026-03。"),
    ({"first_month": "2026-3"}, "first_month", "请按“年-月”填写月份，例如 2026-03。"),
    ({"due_days": "-1"}, "due_days", "请填写 0 到 365 之间的天数。"),
    ({"due_days": "abc"}, "due_days", None),
    ({"due_days": ""}, "due_days", None),
    ({"number_prefix": "Z D"}, "number_prefix", "编号前缀不能包含空格。"),
    ({"number_prefix": "X" * 13}, "number_prefix", None),
    ({"payee_name": "名\x00称"}, "payee_name", None),
])
def test_bad_settings_are_refused_on_their_field_and_nothing_is_saved(app, base, browser, change, field, message):
    browser.login(base.owner)
    response = browser.post(url(base, "settings"), {**SETTINGS_FORM, **change})
    assert response.status_code == 422
    errors = field_errors(response)
    assert list(errors) == [field]
    if message:
        assert errors[field] == [message]
    assert stored_settings(app, base) is None


def test_a_save_over_someone_else_s_newer_settings_is_refused_and_keeps_the_entries(app, base, browser, new_browser):
    browser.login(base.owner)
    browser.post(url(base, "settings"), SETTINGS_FORM)
    other = new_browser()
    other.login(base.owner)
    stale = browser.hidden_fields(url(base, "settings"))          # the page as it was loaded: version 1
    assert other.post(url(base, "settings"), {**SETTINGS_FORM, "due_days": "30"}).status_code == 302
    response = browser.client.post(url(base, "settings"), data={**stale, **SETTINGS_FORM, "due_days": "5"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "他人刚刚保存了这些设置" in page and 'value="5"' in page
    assert stored_settings(app, base)["due_days"] == 30
    tampered = browser.client.post(url(base, "settings"), data={**stale, **SETTINGS_FORM, "lock_version": "x"})
    assert tampered.status_code == 409 and stored_settings(app, base)["due_days"] == 30


def test_the_number_prefix_cannot_change_once_a_bill_is_issued(app, factory, base, browser):
    factory.lease(base, factory.company(base, n=1))
    browser.login(base.owner)
    browser.post(url(base, "settings"), SETTINGS_FORM)
    issue(app, base, date(2026, 3, 1))
    response = browser.post(url(base, "settings"), {**SETTINGS_FORM, "number_prefix": "NEW-"})
    assert response.status_code == 422
    assert field_errors(response)["number_prefix"] == ["已按前缀“ZD-”开出账单：前缀是账单编号的一部分，不能再改。"]
    assert browser.post(url(base, "settings"), {**SETTINGS_FORM, "due_days": "7"}).status_code == 302


# --- Extra charges --------------------------------------------------------------------------------------------

CHARGE_FORM = {"month": "2026-03", "kind": "utilities", "description": "3月电费", "amount_yuan": "123.45"}


def test_staff_add_a_charge_to_a_lease_of_the_base(app, factory, base, browser, new_browser):
    lease = factory.lease(base, factory.company(base, n=1, name="甲公司"))
    for role in ("mentor", "tenant"):
        someone = new_browser()
        someone.login(base.users[role])
        assert someone.get(url(base, "charges")).status_code == 403
    browser.login(base.users["staff"])
    page = browser.get(url(base, "charges")).get_data(as_text=True)
    assert "甲公司" in page and f'value="{month_key(today_in("Asia/Shanghai"))}"' in page
    response = browser.post(url(base, "charges"), {**CHARGE_FORM, "lease_id": str(lease)})
    assert response.status_code == 302
    assert charges_of(app, base) == [(lease, "2026-03", "utilities", "3月电费", 12_345, False, False)]
    listed = browser.get(url(base, "charges")).get_data(as_text=True)
    assert "3月电费" in listed and "123.45" in listed


@pytest.mark.parametrize("change,field,message", [
    ({"amount_yuan": "-5"}, "amount_yuan", "请填写大于 0、不超过 10,000,000 元的金额。"),
    ({"amount_yuan": "0"}, "amount_yuan", "请填写大于 0、不超过 10,000,000 元的金额。"),
    ({"amount_yuan": "abc"}, "amount_yuan", "请输入数字。"),
    ({"amount_yuan": "NaN"}, "amount_yuan", "请输入数字。"),
    ({"amount_yuan": "1.234"}, "amount_yuan", None),
    ({"amount_yuan": "99999999"}, "amount_yuan", "请填写大于 0、不超过 10,000,000 元的金额。"),
    ({"amount_yuan": ""}, "amount_yuan", None),
    ({"lease_id": "999999"}, "lease_id", "请从列表中选择租约。"),
    ({"lease_id": "abc"}, "lease_id", "请从列表中选择租约。"),
    ({"lease_id": ""}, "lease_id", "请从列表中选择租约。"),
    ({"month": "2026-3x"}, "month", "请按“年-月”填写月份，例如 2026-03。"),
    ({"month": "   "}, "month", "请填写月份。"),
    ({"month": "2099-01"}, "month", "附加费用的月份最多只能提前一年。"),
    ({"kind": "rent"}, "kind", "请选择费用类型。"),
    ({"description": "  "}, "description", "此项为必填项。"),
    ({"description": "x" * 201}, "description", None),
])
def test_a_bad_charge_is_refused_on_its_field_and_nothing_is_written(app, factory, base, browser, change, field,
                                                                     message):
    lease = factory.lease(base, factory.company(base, n=1))
    browser.login(base.users["staff"])
    response = browser.post(url(base, "charges"), {**CHARGE_FORM, "lease_id": str(lease), **change})
    assert response.status_code == 422
    errors = field_errors(response)
    assert list(errors) == [field]
    if message:
        assert errors[field] == [message]
    assert charges_of(app, base) == []


def test_a_lease_of_another_base_cannot_be_charged(app, factory, base, browser):
    other = factory.base("bravo")
    foreign = factory.lease(other, factory.company(other, n=2, name="布拉沃公司"))
    factory.lease(base, factory.company(base, n=1))
    browser.login(base.owner)
    response = browser.post(url(base, "charges"), {**CHARGE_FORM, "lease_id": str(foreign)})
    assert response.status_code == 422 and field_errors(response) == {"lease_id": ["请从列表中选择租约。"]}
    assert "布拉沃公司" not in browser.get(url(base, "charges")).get_data(as_text=True)
    assert charges_of(app, base) == [] and charges_of(app, other) == []


def test_a_pending_charge_is_withdrawn_a_billed_one_is_not(app, factory, base, browser):
    lease = factory.lease(base, factory.company(base, n=1))
    pending = charge(app, base, lease, "2026-05", 1_000)
    billed = charge(app, base, lease, "2026-03", 2_000)
    enable(app, base)
    issue(app, base, date(2026, 3, 1))                       # takes the March charge, not the May one
    browser.login(base.users["staff"])
    assert browser.post(url(base, f"charges/{pending}/withdraw"), form_page=url(base, "charges")).status_code == 302
    response = browser.post(url(base, f"charges/{billed}/withdraw"), form_page=url(base, "charges"),
                            follow_redirects=True)
    assert "这笔费用已计入账单，不能撤回" in response.get_data(as_text=True)
    assert [(month, withdrawn, on_bill) for _, month, _, _, _, withdrawn, on_bill in charges_of(app, base)] == [
        ("2026-05", True, False), ("2026-03", False, True)]
    again = browser.post(url(base, f"charges/{pending}/withdraw"), form_page=url(base, "charges"))
    assert again.status_code == 404                          # withdrawn already: gone from the base's charges


def test_staff_bill_a_lease_s_charges_now_on_a_supplementary_bill(app, factory, base, browser):
    lease = factory.lease(base, factory.company(base, n=1, name="甲公司"))
    charge(app, base, lease, "2026-05", 4_000, description="5月电费")
    charge(app, base, lease, "2026-06", 6_000, kind="other", description="停车")
    browser.login(base.users["staff"])
    page = browser.get(url(base, "charges")).get_data(as_text=True)
    assert f'data-bill-lease="{lease}"' in page and "2 笔费用，共 100.00 元" in page
    response = browser.post(url(base, f"leases/{lease}/bill-charges"), form_page=url(base, "charges"))
    assert response.status_code == 302
    [bill_id] = bill_ids(app, base)
    assert response.headers["Location"].endswith(f"/billing/invoices/{bill_id}")
    shown = browser.get(url(base, f"invoices/{bill_id}")).get_data(as_text=True)
    assert "补充账单" in shown and "5月电费" in shown and "100.00" in shown
    nothing = browser.post(url(base, f"leases/{lease}/bill-charges"), form_page=url(base, "charges"),
                           follow_redirects=True)
    assert "该租约没有待开账单的附加费用" in nothing.get_data(as_text=True) and len(bill_ids(app, base)) == 1


# --- The bills list -------------------------------------------------------------------------------------------

def test_the_empty_list_says_what_to_do(app, factory, base, browser):
    browser.login(base.users["staff"])
    page = browser.get(url(base)).get_data(as_text=True)
    assert "负责人在账单设置中开启账单" in page and 'id="billing-off"' in page
    enable(app, base)
    page = browser.get(url(base)).get_data(as_text=True)
    assert "没有企业登记租约" in page
    factory.lease(base, factory.company(base, n=1))
    page = browser.get(url(base)).get_data(as_text=True)
    assert "每天早晨自动开具" in page and 'id="bills-due"' in page


def test_the_list_filters_by_month_company_and_status_with_totals_and_pages(app, factory, base, browser):
    first = factory.company(base, n=1, name="甲公司")
    second = factory.company(base, n=2, name="乙公司")
    factory.lease(base, first, starts_on=date(2024, 1, 1))
    factory.lease(base, second, starts_on=date(2026, 7, 1), actual_rent_fen=5000)
    enable(app, base, first_month=date(2024, 3, 1))
    issue(app, base, date(2026, 8, 1))              # 甲: March 2024 – August 2026 (30 bills); 乙: July, August
    pay(app, base, second, 500_000, on=date(2026, 8, 2))     # settles 乙's July bill
    browser.login(base.users["staff"])
    page = browser.get(url(base)).get_data(as_text=True)
    assert page.count("data-invoice=") == 25 and 'data-total="count">32<' in page
    # 30 × 3,000.00 + 2 × 5,000.00 = 100,000.00 yuan billed; 乙's payment of 5,000.00 settled its July bill.
    assert 'data-total="billed">100,000.00<' in page and 'data-total="owed">95,000.00<' in page
    assert page.count("data-invoice=") + browser.get(url(base, "?page=2")).get_data(as_text=True).count(
        "data-invoice=") == 32
    august = browser.get(url(base, "?month=2026-08")).get_data(as_text=True)
    assert august.count("data-invoice=") == 2 and 'data-total="billed">8,000.00<' in august
    theirs = browser.get(url(base, f"?company={second}")).get_data(as_text=True)
    assert theirs.count("data-invoice=") == 2 and "甲公司</a>" not in theirs
    paid = browser.get(url(base, "?status=paid")).get_data(as_text=True)
    assert paid.count("data-invoice=") == 1 and 'data-status="paid"' in paid
    owing = browser.get(url(base, f"?status=open&company={second}")).get_data(as_text=True)
    assert owing.count("data-invoice=") == 1 and 'data-total="owed">5,000.00<' in owing
    for junk in ("?month=abc", "?company=999999", "?status=nope", "?page=abc", "?page=999", "?company=x&month=2026-99"):
        assert browser.get(url(base, junk)).status_code == 200, junk
    assert "没有符合筛选条件的账单" in browser.get(url(base, "?month=2020-01")).get_data(as_text=True)


def test_issue_now_issues_the_bills_due_today_once(app, factory, base, browser):
    today = today_in("Asia/Shanghai")
    lease = factory.lease(base, factory.company(base, n=1), starts_on=date(2025, 1, 1), ends_on=date(2030, 12, 31))
    browser.login(base.users["staff"])
    off = browser.post(url(base, "issue"), form_page=url(base), follow_redirects=True)
    assert "账单功能未开启" in off.get_data(as_text=True) and bill_ids(app, base) == []
    enable(app, base, first_month=date(today.year, today.month, 1))
    done = browser.post(url(base, "issue"), form_page=url(base), follow_redirects=True)
    assert "已开具 1 张账单" in done.get_data(as_text=True)
    again = browser.post(url(base, "issue"), form_page=url(base), follow_redirects=True)
    assert "没有待开的账单" in again.get_data(as_text=True)
    with app.app_context(), scoped_to(base.id):
        bill = db.session.scalar(select(RentInvoice))
        assert (bill.lease_id, bill.period, bill.issued_on, bill.issued_by_id) == (
            lease, month_key(today), today, base.users["staff"].id)


# --- One bill, its print, the tenant's bills -----------------------------------------------------------------

@pytest.fixture
def billed(app, factory, base):
    """甲 (the tenant user's company) and 乙, each with a March 2026 bill; 甲 has paid 1,000.00 yuan."""
    ours = factory.company(base, n=1, name="甲公司")
    theirs = factory.company(base, n=2, name="乙公司")
    factory.link_tenant(base, ours)
    factory.lease(base, ours)
    factory.lease(base, theirs)
    enable(app, base, number_prefix="ZD-", payee_name="太原双创运营有限公司", bank_name="中国银行太原分行",
           bank_account="1400223344", payment_notes="转账请备注账单编号")
    pay(app, base, ours, 100_000)
    issue(app, base, date(2026, 3, 1))
    ours_bill, theirs_bill = bill_ids(app, base)
    return {"ours": ours, "theirs": theirs, "ours_bill": ours_bill, "theirs_bill": theirs_bill}


def test_a_bill_shows_its_lines_what_settled_it_and_what_it_still_owes(app, base, billed, browser):
    browser.login(base.users["staff"])
    page = browser.get(url(base, f"invoices/{billed['ours_bill']}")).get_data(as_text=True)
    assert "账单 ZD-1" in page and "甲公司" in page
    assert "2026-03-01 至 2026-03-31 实际租金 30.00 元/m²·月 × 100.00 m² × 31/31" in page
    assert 'data-figure="total">3,000.00<' in page and 'data-figure="paid">1,000.00<' in page
    assert 'data-figure="owed">2,000.00<' in page and "2026-02-20 的收款" in page
    assert f"/billing/invoices/{billed['ours_bill']}/print" in page


def test_the_printable_bill_carries_the_payee_and_says_it_is_not_a_tax_invoice(app, base, billed, browser):
    browser.login(base.users["staff"])
    response = browser.get(url(base, f"invoices/{billed['ours_bill']}/print"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "/static/css/invoice_print.css" in page
    assert "@page { size: A4" in browser.get("/static/css/invoice_print.css").get_data(as_text=True)
    for text in ("租金账单", "ZD-1", "甲公司", "太原双创运营有限公司", "中国银行太原分行", "1400223344",
                 "转账请备注账单编号", "不是发票", "2026-03-16", 'data-figure="owed">2,000.00<'):
        assert text in page, text


def test_a_tenant_sees_and_prints_its_own_bills_only(app, base, billed, browser):
    browser.login(base.users["tenant"])
    mine = browser.get(url(base, "mine"))
    page = mine.get_data(as_text=True)
    assert mine.status_code == 200 and f'data-invoice="{billed["ours_bill"]}"' in page
    assert f'data-invoice="{billed["theirs_bill"]}"' not in page and "ZD-2" not in page
    assert "未付：2,000.00 元" in page
    assert browser.get(url(base, f"invoices/{billed['ours_bill']}/print")).status_code == 200
    assert browser.get(url(base, f"invoices/{billed['theirs_bill']}/print")).status_code == 404
    assert browser.get(url(base, f"invoices/{billed['ours_bill']}")).status_code == 403
    assert browser.get(url(base)).status_code == 403


def test_a_tenant_contact_without_a_company_sees_no_bill(app, factory, base, billed, new_browser):
    someone = new_browser()
    someone.login(factory.member(base, "tenant"))
    page = someone.get(url(base, "mine")).get_data(as_text=True)
    assert "尚未关联企业" in page and "data-invoice=" not in page
    assert someone.get(url(base, f"invoices/{billed['ours_bill']}/print")).status_code == 404


def test_another_base_s_bill_is_not_found(app, factory, base, billed, new_browser):
    other = factory.base("bravo")
    stranger = new_browser()
    stranger.login(other.owner)
    for path in (f"invoices/{billed['ours_bill']}", f"invoices/{billed['ours_bill']}/print"):
        assert stranger.get(f"/b/{other.slug}/billing/{path}").status_code == 404
        assert stranger.get(url(base, path)).status_code == 404


def test_a_bill_whose_lease_changed_afterwards_says_so(app, factory, base, browser):
    company = factory.company(base, n=1)
    factory.lease(base, company)
    enable(app, base, first_month=date(2026, 4, 1))
    issue(app, base, date(2026, 4, 1))
    move_out(app, base, company, date(2026, 4, 10))
    browser.login(base.owner)
    page = browser.get(url(base, f"invoices/{bill_ids(app, base)[0]}")).get_data(as_text=True)
    assert "本账单开具后租约有变动：2026-04 的租金现应为 1,000.00 元，账单为 3,000.00 元" in page


# --- The company file's panel and the navigation ---------------------------------------------------------------

def test_the_company_file_shows_open_bills_and_balance_to_managers_and_staff(app, base, billed, new_browser):
    path = f"/b/{base.slug}/tenants/{billed['ours']}"
    for role, sees in (("manager", True), ("staff", True), ("mentor", False), ("tenant", False)):
        someone = new_browser()
        someone.login(base.users[role])
        page = someone.get(path).get_data(as_text=True)
        assert ('id="billing-panel"' in page) is sees, role
        if sees:
            assert "欠 2,000.00 元" in page and "ZD-1" in page


def test_the_navigation_shows_rent_bills_to_managers_and_staff_and_our_bills_to_tenants(app, base, new_browser):
    for role, label, absent in (("manager", "租金账单", "我们的账单"), ("staff", "租金账单", "我们的账单"),
                                ("mentor", None, "账单"), ("tenant", "我们的账单", "租金账单")):
        someone = new_browser()
        someone.login(base.users[role])
        page = someone.get(f"/b/{base.slug}/", follow_redirects=True).get_data(as_text=True)
        nav = page[page.index('id="mainNav"'):page.index("</nav>")]
        if label:
            assert label in nav, role
        assert absent not in nav, role


def test_bill_numbers_and_bills_stay_in_their_base(app, factory, base, billed):
    with app.app_context(), unscoped("the test counts every base's bills"):
        assert db.session.scalar(select(func.count(RentInvoice.id)).where(RentInvoice.base_id == base.id)) == 2
    assert invoicing.yuan_text(123_456_789) == "1,234,567.89" and invoicing.yuan_text(5) == "0.05"
