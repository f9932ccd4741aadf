"""The rent discount check: hand-worked examples, the 20% boundary, exact money, and the pages around it."""
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from io import BytesIO

import openpyxl
import pytest
from sqlalchemy import func, select

from operator_app.db import unscoped
from operator_app.extensions import db
from operator_app.timeutil import today_in
from tenants import rent
from tenants.models import Lease, MarketQuote, PreferentialPolicy
from tenants.rent_forms import to_fen

from ..helpers import PDF_BYTES, field_errors

TODAY = date(2026, 6, 15)


@dataclass
class L:  # a lease as the computation sees it
    space_type: str
    area_m2: Decimal | None
    seats: int | None
    starts_on: date
    ends_on: date
    actual_rent_fen: int
    free_months: int = 0
    discounted_months: int = 0
    discounted_rent_fen: int | None = None

    @property
    def quantity(self):
        return self.area_m2 if self.space_type == "office" else Decimal(self.seats)

    @property
    def effective_end(self):
        return self.ends_on


@dataclass
class Q:
    space_type: str
    price_fen: int
    quoted_on: date = TODAY


def office(actual, area="100", start=date(2026, 1, 1), end=date(2026, 12, 31), **kw):
    return L("office", Decimal(area), None, start, end, actual, **kw)


def seats(actual, n, start=date(2026, 1, 1), end=date(2026, 12, 31), **kw):
    return L("workstation", None, n, start, end, actual, **kw)


def check(leases, quotes, threshold=20, max_age=12, free_warning=6):
    return rent.compliance(leases, quotes, today=TODAY, threshold_percent=threshold, max_age_months=max_age,
                           free_rent_warning_months=free_warning)


def test_mixed_rooms_and_workstations_weigh_by_size_at_market_price():
    # Rooms: 100 m² at 30 yuan vs market 50 → 40%. Workstations: 4 seats at 400 vs market 500 → 20%.
    # Overall: 1 − (30×100 + 400×4) ÷ (50×100 + 500×4) = 1 − 4,600 ÷ 7,000 = 12/35 = 34.2857…%, shown 34.28%
    # (rounded down, so a figure shown never overstates the discount).
    result = check([office(3000), seats(40000, 4)], [Q("office", 5000), Q("workstation", 50000)])
    assert [row.discount for row in result.rows] == [Fraction(2, 5), Fraction(1, 5)]
    assert result.overall == Fraction(12, 35)
    assert rent.percent(result.overall) == Decimal("34.28") and result.status == "met"


def test_free_and_discounted_months_lower_the_effective_rent():
    # 24 months at 40 yuan, 6 free: 40 × 18 ÷ 24 = 30 → 40% below a market of 50.
    free = office(4000, start=date(2025, 7, 1), end=date(2027, 6, 30), free_months=6)
    # 12 months: 2 free, 4 at 20 yuan, 6 at 40: (4×20 + 6×40) ÷ 12 = 26.67 → 46.67% below 50.
    stepped = office(4000, free_months=2, discounted_months=4, discounted_rent_fen=2000)
    result = check([free, stepped], [Q("office", 5000)])
    assert result.rows[0].effective == 3000 and result.rows[0].discount == Fraction(2, 5)
    assert result.rows[1].effective == Fraction(8000, 3) and rent.percent(result.rows[1].discount) == Decimal("46.66")
    assert not result.rows[0].long_free_rent
    longer = check([office(4000, free_months=7)], [Q("office", 5000)])
    assert longer.rows[0].long_free_rent and len(longer.long_free_rent) == 1
    # Months at zero rent count too, however they are written.
    assert check([office(0)], [Q("office", 5000)]).rows[0].long_free_rent
    assert check([office(4000, free_months=3, discounted_months=4, discounted_rent_fen=0)],
                 [Q("office", 5000)]).rows[0].long_free_rent


def test_expired_quotes_stop_counting_and_a_lease_without_a_reference_cannot_be_checked():
    old = Q("office", 9000, quoted_on=date(2025, 5, 14))     # 13 months before TODAY
    recent = Q("office", 6000, quoted_on=date(2025, 7, 1))   # 11½ months
    result = check([office(4800), seats(30000, 2)], [old, recent])
    assert result.expired_quotes == [old]
    assert result.references["office"].price == 6000        # the old quote no longer pulls the mean up
    assert result.rows[0].discount == Fraction(1, 5)
    assert result.rows[1].discount is None and result.unchecked == [result.rows[1]]
    assert result.overall == Fraction(1, 5)                 # the unchecked lease is left out, not counted as 0
    assert check([office(3000)], [old]).status == "unknown"


def test_exactly_twenty_percent_is_met_and_a_fen_less_is_not():
    assert check([office(4000)], [Q("office", 5000)]).status == "met"
    below = check([office(4001)], [Q("office", 5000)])
    assert below.status == "not_met" and rent.percent(below.overall) == Decimal("19.98")
    # 19.999…% never shows as 20.00% beside "not met".
    assert rent.percent(Fraction(19999, 100000)) == Decimal("19.99")
    assert check([office(4001)], [Q("office", 5000)], threshold=19).status == "met"


def test_money_is_exact_in_fen():
    # Three quotes of 33.33, 33.33 and 33.34 yuan: the mean is exactly 100/3 yuan, not a float near it.
    result = check([office(2667, area="0.01")] * 3, [Q("office", 3333), Q("office", 3333), Q("office", 3334)])
    assert result.references["office"].price == Fraction(10000, 3)
    assert result.rows[0].discount == 1 - Fraction(2667 * 3, 10000)
    assert rent.yuan(Fraction(10000, 3)) == Decimal("33.33")
    assert to_fen(Decimal("0.29")) == 29 and to_fen(Decimal("0.1") + Decimal("0.2")) == 30
    assert sum(to_fen(Decimal("0.01")) for _ in range(1000)) == 1000


def test_only_leases_running_today_count_overall():
    ended = office(1000, start=date(2024, 1, 1), end=date(2025, 12, 31))
    result = check([ended, office(4500)], [Q("office", 5000)])
    assert not result.rows[0].active and result.overall == Fraction(1, 10) and result.status == "not_met"


# --- The pages -------------------------------------------------------------------------------------------

LEASE = {"space_type": "office", "units": "4-402", "area_m2": "120", "starts_on": "2026-01-01",
         "ends_on": "2028-12-31", "list_rent_yuan": "45", "actual_rent_yuan": "36", "free_months": "3",
         "discounted_months": "0", "deposit_yuan": "10800"}


def _leases(app, base):
    with app.app_context(), unscoped("test reads leases"):
        return db.session.scalars(select(Lease).where(Lease.base_id == base.id, Lease.deleted_at.is_(None))).all()


def test_staff_give_a_tenant_a_lease_and_see_it_against_the_market(app, factory, browser):
    base = factory.base("alpha")
    company = factory.company(base)
    factory.quote(base, price_fen=5000)
    browser.login(base.users["staff"])
    page = f"/b/{base.slug}/tenants/{company}/leases/new"
    form_page = browser.get(page).get_data(as_text=True)
    assert 'data-office="50.0"' in form_page and 'data-workstation=""' in form_page
    assert browser.post(page, LEASE).status_code == 302
    [lease] = _leases(app, base)
    assert (lease.area_m2, lease.list_rent_fen, lease.actual_rent_fen, lease.deposit_fen) == (
        Decimal("120.00"), 4500, 3600, 1_080_000)
    # 36 yuan over 36 months with 3 free: 36 × 33 ÷ 36 = 33 → 34% below 50.
    check_page = browser.get(f"/b/{base.slug}/tenants/rent").get_data(as_text=True)
    assert re.search(rf'data-lease="{lease.id}".*?data-discount>34.00%', check_page, re.S)
    assert 'data-status="met"' in check_page and 'data-figure="overall">34.00%' in check_page


@pytest.mark.parametrize("change, field, message", [
    ({"ends_on": "2025-12-31"}, "ends_on", "租赁截止日期必须晚于起始日期"),
    ({"actual_rent_yuan": "50"}, "actual_rent_yuan", "实际租金高于挂牌租金"),
    ({"area_m2": "0"}, "area_m2", "大于 0"),
    ({"area_m2": "2000000"}, "area_m2", "不超过 1,000,000"),
    ({"area_m2": ""}, "area_m2", "请填写租赁房间的面积"),
    ({"space_type": "workstation", "seats": ""}, "seats", "请填写租赁的工位数"),
    ({"free_months": "30", "discounted_months": "10", "discounted_rent_yuan": "10"}, "discounted_months", "36 个月"),
    ({"discounted_months": "6"}, "discounted_rent_yuan", "请填写优惠期租金"),
    ({"discounted_months": "6", "discounted_rent_yuan": "40"}, "discounted_rent_yuan", "不能高于实际租金"),
    ({"list_rent_yuan": "NaN"}, "list_rent_yuan", "数字"),
    ({"starts_on": "2026-02-30"}, "starts_on", "日期"),
])
def test_bad_leases_are_refused_on_their_field_and_nothing_is_written(app, factory, browser, change, field,
                                                                       message):
    base = factory.base("alpha")
    company = factory.company(base)
    browser.login(base.users["staff"])
    response = browser.post(f"/b/{base.slug}/tenants/{company}/leases/new", {**LEASE, **change})
    errors = field_errors(response)
    assert response.status_code == 200 and any(message in error for error in errors.get(field, [])), errors
    assert _leases(app, base) == []


def test_one_workstation_cannot_be_leased_twice_at_once(app, factory, browser):
    base = factory.base("alpha")
    first = factory.company(base, n=1, name="先租的公司")
    second = factory.company(base, n=2)
    factory.lease(base, first, space_type="workstation", units="2-W12, 2-W13", area_m2=None, seats=2,
                  starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31))
    browser.login(base.users["staff"])
    clash = {**LEASE, "space_type": "workstation", "units": "2-w13、2-W14", "seats": "2", "area_m2": "",
             "starts_on": "2026-06-01", "ends_on": "2027-05-31", "list_rent_yuan": "500", "actual_rent_yuan": "300"}
    response = browser.post(f"/b/{base.slug}/tenants/{second}/leases/new", clash)
    assert field_errors(response)["units"] == ["2-W13 在 2026-01-01 至 2026-12-31 期间已租给先租的公司。"]
    assert len(_leases(app, base)) == 1
    after = {**clash, "starts_on": "2027-01-01", "ends_on": "2027-12-31"}
    assert browser.post(f"/b/{base.slug}/tenants/{second}/leases/new", after).status_code == 302


def test_quotes_policy_and_settings_drive_the_status(app, factory, browser):
    base = factory.base("alpha")
    company = factory.company(base)
    factory.lease(base, company, actual_rent_fen=4000, list_rent_fen=4500)
    browser.login(base.owner)
    rent_page = f"/b/{base.slug}/tenants/rent"
    assert 'data-status="unknown"' in browser.get(rent_page).get_data(as_text=True)
    missing = browser.post(f"/b/{base.slug}/tenants/rent/quotes", {"quoted_on": "2026-01-10", "source": "agency",
                                                                   "source_name": "", "space_type": "office"},
                           form_page=rent_page)
    assert {"source_name", "price_yuan"} <= set(field_errors(missing))
    token = browser.csrf_token(rent_page)
    today = today_in("Asia/Shanghai")
    response = browser.client.post(f"/b/{base.slug}/tenants/rent/quotes", data={
        "csrf_token": token, "quoted_on": (today - timedelta(days=30)).isoformat(), "source": "agency",
        "source_name": "太原链家", "location": "晋阳街", "space_type": "office", "price_yuan": "50",
        "evidence": (BytesIO(PDF_BYTES), "报价单.pdf")})
    assert response.status_code == 302
    page = browser.get(rent_page).get_data(as_text=True)
    assert 'data-status="met"' in page and 'data-figure="overall">20.00%' in page
    assert 'data-warning="no-policy"' in page
    evidence = re.search(r'href="([^"]+/evidence)"', page).group(1)
    assert browser.get(evidence).data == PDF_BYTES
    browser.post(f"/b/{base.slug}/tenants/rent/settings", {"discount_threshold_percent": "25",
                                                           "quote_max_age_months": "12",
                                                           "free_rent_warning_months": "6"}, form_page=rent_page)
    assert 'data-status="not_met"' in browser.get(rent_page).get_data(as_text=True)
    bad = browser.post(f"/b/{base.slug}/tenants/rent/settings", {"discount_threshold_percent": "120",
                                                                 "quote_max_age_months": "0",
                                                                 "free_rent_warning_months": "6"}, form_page=rent_page)
    assert {"discount_threshold_percent", "quote_max_age_months"} <= set(field_errors(bad))

    policy_page = f"/b/{base.slug}/tenants/rent/policy"
    refused = browser.post(policy_page, {"title": "房租优惠办法", "document_number": "", "issuing_unit": "运营单位",
                                         "issued_on": "2025-01-10"})
    assert {"document_number", "kinds"} <= set(field_errors(refused))
    assert browser.post(policy_page, {"title": "入驻企业房租优惠办法", "document_number": "晋阳创发〔2025〕3号",
                                      "issuing_unit": "太原晋阳创业服务有限公司", "issued_on": "2025-01-10",
                                      "kinds": ["time_limited", "incubation_workstations"], "is_posted": "y"}
                        ).status_code == 302
    page = browser.get(rent_page).get_data(as_text=True)
    assert "晋阳创发〔2025〕3号" in page and "对孵化区工位企业优惠" in page and 'data-warning="no-policy"' not in page
    with app.app_context(), unscoped("test counts"):
        assert db.session.scalar(select(func.count(MarketQuote.id))) == 1
        assert db.session.scalar(select(func.count(PreferentialPolicy.id))) == 1


def test_the_export_matches_the_page(app, factory, browser):
    base = factory.base("alpha")
    a, b = factory.company(base, n=1, name="甲公司"), factory.company(base, n=2, name="乙公司")
    factory.quote(base, price_fen=5000)
    factory.quote(base, space_type="workstation", price_fen=50000)
    today = today_in("Asia/Shanghai")
    factory.lease(base, a, actual_rent_fen=3000, starts_on=today - timedelta(days=100),
                  ends_on=today + timedelta(days=265))
    factory.lease(base, b, space_type="workstation", units="W-1", area_m2=None, seats=4, list_rent_fen=50000,
                  actual_rent_fen=40000, starts_on=today - timedelta(days=10), ends_on=today + timedelta(days=355))
    browser.login(base.users["mentor"])
    page = browser.get(f"/b/{base.slug}/tenants/rent").get_data(as_text=True)
    shown = re.findall(r'data-discount>([\d.]+)%', page)
    overall = re.search(r'data-figure="overall">([\d.]+)%', page).group(1)
    sheet = openpyxl.load_workbook(BytesIO(browser.get(f"/b/{base.slug}/tenants/rent/export.xlsx").data)).worksheets[0]
    assert f"{sheet['B2'].value:.2f}" == overall == "34.28"
    exported = {row[0]: f"{row[13]:.2f}" for row in sheet.iter_rows(min_row=7, values_only=True)}
    assert exported == {"甲公司": "40.00", "乙公司": "20.00"} and sorted(exported.values()) == sorted(shown)


def test_leases_ending_soon_are_on_the_dashboard(app, factory, browser):
    base = factory.base("alpha")
    soon, later = factory.company(base, n=1, name="快到期公司"), factory.company(base, n=2, name="远期公司")
    today = today_in("Asia/Shanghai")
    factory.lease(base, soon, starts_on=today - timedelta(days=300), ends_on=today + timedelta(days=59))
    factory.lease(base, later, starts_on=today - timedelta(days=300), ends_on=today + timedelta(days=61))
    browser.login(base.users["staff"])
    dashboard = browser.get(f"/b/{base.slug}/").get_data(as_text=True)
    ending = dashboard[dashboard.index('id="leases-ending"'):]
    ending = ending[:ending.index("</ul>")]  # the list only, not the panels after it
    assert "快到期公司" in ending and "远期公司" not in ending


def test_an_exited_companys_lease_stops_counting_and_frees_its_units(app, factory, browser):
    base = factory.base("alpha")
    leaving, arriving = factory.company(base, n=1, name="甲公司"), factory.company(base, n=2, name="乙公司")
    factory.quote(base, price_fen=5000)
    today = today_in("Asia/Shanghai")
    factory.lease(base, leaving, units="R1", actual_rent_fen=1000, starts_on=today - timedelta(days=200),
                  ends_on=today + timedelta(days=500))
    browser.login(base.users["staff"])
    browser.post(f"/b/{base.slug}/tenants/{leaving}/exit", {"reason": "voluntary",
                                                            "exit_on": (today - timedelta(days=1)).isoformat()})
    page = browser.get(f"/b/{base.slug}/tenants/rent").get_data(as_text=True)
    assert 'data-status="unknown"' in page and "当前未生效" in page
    moving_in = {**LEASE, "units": "R1", "starts_on": today.isoformat(),
                 "ends_on": (today + timedelta(days=365)).isoformat()}
    assert browser.post(f"/b/{base.slug}/tenants/{arriving}/leases/new", moving_in).status_code == 302
    refused = browser.get(f"/b/{base.slug}/tenants/{leaving}/leases/new", follow_redirects=True)
    assert "没有可登记的租约" in refused.get_data(as_text=True)


def test_a_future_quote_and_units_made_of_separators_are_refused(app, factory, browser):
    base = factory.base("alpha")
    company = factory.company(base)
    browser.login(base.users["staff"])
    rent_page = f"/b/{base.slug}/tenants/rent"
    future = browser.post(f"/b/{base.slug}/tenants/rent/quotes", {
        "quoted_on": (today_in("Asia/Shanghai") + timedelta(days=1)).isoformat(), "source": "agency",
        "source_name": "太原链家", "space_type": "office", "price_yuan": "50"}, form_page=rent_page)
    assert field_errors(future)["quoted_on"] == ["询价日期不能晚于今天。"]
    nothing = browser.post(f"/b/{base.slug}/tenants/{company}/leases/new", {**LEASE, "units": " ，、 "})
    assert field_errors(nothing)["units"] == ["请填写房间号或工位号。"]
    with app.app_context(), unscoped("test counts"):
        assert db.session.scalar(select(func.count(MarketQuote.id))) == 0
    assert _leases(app, base) == []


def section(page, marker):
    """The HTML of the table section that follows ``marker`` (up to its closing </table>)."""
    start = page.index(marker)
    return page[start:page.index("</table>", start)]


def test_the_check_shows_the_leases_running_today_and_pages_the_others(app, factory, browser):
    """A base's leases pile up year after year: the check lists the running ones, which alone weigh in the
    overall discount, and the ended and future ones a page at a time; the spreadsheet keeps them all."""
    base = factory.base("alpha")
    running, old = factory.company(base, n=1, name="在租公司"), factory.company(base, n=2, name="老租户")
    factory.quote(base, price_fen=5000)
    today = today_in("Asia/Shanghai")
    current = factory.lease(base, running, actual_rent_fen=3000, starts_on=today - timedelta(days=100),
                            ends_on=today + timedelta(days=265))
    ended = [factory.lease(base, old, units=f"H-{n}", actual_rent_fen=1000 + n,
                           starts_on=date(2020, 1, 1) + timedelta(days=n), ends_on=date(2021, 1, 1))
             for n in range(30)]
    future = factory.lease(base, running, units="F-1", actual_rent_fen=1000, starts_on=today + timedelta(days=266),
                           ends_on=today + timedelta(days=600))
    browser.login(base.users["staff"])
    page = browser.get(f"/b/{base.slug}/tenants/rent").get_data(as_text=True)
    checked = section(page, 'id="lease-checks"')
    assert re.findall(r'data-lease="(\d+)"', checked) == [str(current)]
    assert 'data-figure="overall">40.00%' in page  # 30 against 50: the cheap old leases are not averaged in
    assert "已结束和未开始的租约（31）" in page
    first = re.findall(r'data-lease="(\d+)"', section(page, 'id="lease-history"'))
    second_page = browser.get(f"/b/{base.slug}/tenants/rent?history=2").get_data(as_text=True)
    second = re.findall(r'data-lease="(\d+)"', section(second_page, 'id="lease-history"'))
    assert len(first) == 25 and len(second) == 6
    assert sorted(map(int, first + second)) == sorted(ended + [future])
    assert re.findall(r'data-lease="(\d+)"', section(second_page, 'id="lease-checks"')) == [str(current)]
    for strange in ("0", "-3", "abc", "99999999999"):  # a hand-edited address shows page 1 or an empty page
        assert browser.get(f"/b/{base.slug}/tenants/rent?history={strange}").status_code == 200
    sheet = openpyxl.load_workbook(BytesIO(browser.get(f"/b/{base.slug}/tenants/rent/export.xlsx").data)).worksheets[0]
    assert len([row for row in sheet.iter_rows(min_row=7, values_only=True) if row[0]]) == 32
