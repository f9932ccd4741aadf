"""The arrears list: ages from the due date worked by hand at the bucket boundaries on a fixed day, who is
listed, the order and the totals; the page, its roles, and a query count that does not grow with the rows."""
import re
from datetime import date, timedelta

import pytest

from billing import arrears
from operator_app.db import scoped_to
from operator_app.timeutil import today_in

from .test_payments_support import counting_queries, credit, make_bill, money, pay, text_of  # noqa: F401

TODAY = date(2026, 6, 30)


def report(app, base, today=TODAY):
    with app.app_context(), scoped_to(base.id):
        return arrears.arrears(today)


@pytest.mark.parametrize("age, bucket", [
    (-5, "current"), (0, "current"),  # due in 5 days; due today is not yet overdue
    (1, "1_30"), (30, "1_30"),
    (31, "31_60"), (60, "31_60"),
    (61, "61_90"), (90, "61_90"),
    (91, "over_90"), (400, "over_90"),
])
def test_the_bucket_of_a_bill_by_its_days_past_due(age, bucket):
    assert arrears.bucket(age) == bucket


def test_ages_at_the_exact_boundaries_on_a_fixed_day(app, money):
    base, company, _ = money
    # Due dates counted back from 30 June 2026: 30 days → 31 May, 31 → 30 May, 60 → 1 May, 61 → 30 April,
    # 90 → 1 April, 91 → 31 March.
    due = {30: date(2026, 5, 31), 31: date(2026, 5, 30), 60: date(2026, 5, 1), 61: date(2026, 4, 30),
           90: date(2026, 4, 1), 91: date(2026, 3, 31), 0: date(2026, 6, 30), -1: date(2026, 7, 1)}
    for days, due_on in due.items():
        assert (TODAY - due_on).days == days
    amounts = {30: 100, 31: 200, 60: 400, 61: 800, 90: 1_600, 91: 3_200, 0: 6_400, -1: 12_800}
    for days in due:
        make_bill(app, base, company, amounts[days], issued_on=due[days] - timedelta(days=15), due_on=due[days])
    result = report(app, base)
    [row] = result.rows
    assert row.buckets == {"current": 6_400 + 12_800, "1_30": 100, "31_60": 200 + 400, "61_90": 800 + 1_600,
                           "over_90": 3_200}
    assert row.oldest_due_on == date(2026, 3, 31) and row.bills == 8
    assert row.total_fen == sum(amounts.values()) and row.overdue_fen == sum(amounts.values()) - 19_200
    # One day later every bill moves on a day: 30 → 31 days, 60 → 61, 90 → 91, due today → 1 day.
    later = report(app, base, TODAY + timedelta(days=1)).rows[0]
    assert later.buckets == {"current": 12_800, "1_30": 6_400, "31_60": 100 + 200, "61_90": 400 + 800,
                             "over_90": 1_600 + 3_200}


def test_who_is_listed_what_they_owe_the_order_and_the_totals(app, factory, money):
    base, company, other = money
    third = factory.company(base, name="丙科技有限公司")
    quiet = factory.company(base, name="丁科技有限公司")
    # 甲: two overdue bills, one part paid, one credited.
    first = make_bill(app, base, company, 100_000, issued_on=date(2026, 3, 1), due_on=date(2026, 3, 16))
    make_bill(app, base, company, 100_000, issued_on=date(2026, 5, 1), due_on=date(2026, 5, 16))
    pay(app, base, company, 30_000, received_on=date(2026, 4, 1))
    credit(app, base, first, 20_000, issued_on=date(2026, 4, 2))
    # 乙: one bill 10 days overdue and one not yet due.
    make_bill(app, base, other, 300_000, issued_on=date(2026, 6, 5), due_on=date(2026, 6, 20))
    make_bill(app, base, other, 50_000, issued_on=date(2026, 6, 28), due_on=date(2026, 7, 13))
    # 丙: paid in full. 丁: only a bill not yet due. Neither is in arrears.
    make_bill(app, base, third, 80_000, issued_on=date(2026, 3, 1))
    pay(app, base, third, 80_000)
    make_bill(app, base, quiet, 70_000, issued_on=date(2026, 6, 25), due_on=date(2026, 7, 10))
    result = report(app, base)
    assert [(row.name, row.total_fen) for row in result.rows] == [("乙科技有限公司", 350_000),
                                                                   ("甲科技有限公司", 150_000)]
    by_name = {row.name: row for row in result.rows}
    # 甲's March bill: 1,000 − 300 (paid) − 200 (credited) = 500 yuan owed, 106 days late; May's 45 days late.
    assert by_name["甲科技有限公司"].buckets == {"current": 0, "1_30": 0, "31_60": 100_000, "61_90": 0,
                                           "over_90": 50_000}
    assert by_name["乙科技有限公司"].buckets["1_30"] == 300_000
    assert by_name["乙科技有限公司"].buckets["current"] == 50_000
    assert by_name["乙科技有限公司"].oldest_due_on == date(2026, 6, 20)
    assert result.totals == {"current": 50_000, "1_30": 300_000, "31_60": 100_000, "61_90": 0, "over_90": 50_000}
    assert result.total_fen == 500_000 and result.overdue_fen == 450_000


def test_the_arrears_page_for_managers_and_staff_with_links_to_the_statements(app, browser, new_browser, money):
    base, company, other = money
    with app.app_context():
        today = today_in("Asia/Shanghai")
    make_bill(app, base, company, 123_456, issued_on=today - timedelta(days=60), due_on=today - timedelta(days=45))
    browser.login(base.users["staff"])
    page = text_of(browser.get(f"/b/{base.slug}/billing/arrears"))
    assert f"/b/{base.slug}/billing/companies/{company}/statement" in page
    assert re.search(r'data-company="%d".*?data-bucket="31_60">1,234.56<' % company, page, re.S)
    assert re.search(r'id="arrears-totals".*?data-total>1,234.56<', page, re.S)
    assert "乙科技有限公司" not in page
    for role, status in (("manager", 200), ("mentor", 403), ("tenant", 403)):
        other_browser = new_browser()
        other_browser.login(base.users[role])
        assert other_browser.get(f"/b/{base.slug}/billing/arrears").status_code == status, role


def test_the_list_takes_the_same_queries_for_two_companies_or_twenty(app, factory, money):
    base, company, other = money
    for who in (company, other):
        make_bill(app, base, who, 10_000, issued_on=date(2026, 1, 1))
    with counting_queries(app) as few:
        assert len(report(app, base).rows) == 2
    for n in range(18):
        extra = factory.company(base, name=f"公司{n:02d}")
        make_bill(app, base, extra, 10_000 + n, issued_on=date(2026, 2, 1))
        pay(app, base, extra, 5_000)
    with counting_queries(app) as many:
        assert len(report(app, base).rows) == 20
    assert many[0] == few[0] <= 2
