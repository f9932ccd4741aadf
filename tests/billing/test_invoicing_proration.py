"""Rent proration on hand-worked examples: a month's charge is Σ over the days the lease runs of (that day's rent
per unit per month × quantity ÷ days in the month), one line per stretch at one rent, each rounded half up once.

Each example's arithmetic is written out in its comment, so a reader can check it without the code."""
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from billing.proration import Terms, month_lines, month_total_fen, months_running, round_half_up


def office(starts_on, ends_on=date(2030, 12, 31), rent_fen=3000, area="100.00", **kwargs):
    return Terms(starts_on=starts_on, ends_on=ends_on, actual_rent_fen=rent_fen, quantity=Decimal(area), **kwargs)


def lines(terms, year, month):
    """(kind, first day, last day, days, month's days, fen) of each line of the month."""
    return [(line.kind, line.starts_on.isoformat(), line.ends_on.isoformat(), line.days, line.month_days,
             line.amount_fen) for line in month_lines(terms, date(year, month, 1))]


def test_a_lease_starting_mid_month_pays_the_days_from_its_start():
    lease = office(date(2026, 2, 15), rent_fen=8000, area="50.00")
    # 80.00 yuan/m²·month × 50.00 m² × 14/28 (15–28 February 2026) = 2,000.00 yuan.
    assert lines(lease, 2026, 2) == [("rent", "2026-02-15", "2026-02-28", 14, 28, 200_000)]
    # A whole month is the monthly rent: 80.00 × 50.00 = 4,000.00 yuan.
    assert lines(lease, 2026, 3) == [("rent", "2026-03-01", "2026-03-31", 31, 31, 400_000)]
    assert lines(lease, 2026, 1) == []


def test_odd_area_and_rent_round_once_half_up():
    lease = office(date(2026, 3, 10), rent_fen=4550, area="33.33")
    # 4550 fen × 33.33 m² = 151,651.5 fen a month; × 22/31 (10–31 March) = 3,336,333/31 = 107,623.645… → 107,624.
    assert lines(lease, 2026, 3) == [("rent", "2026-03-10", "2026-03-31", 22, 31, 107_624)]
    assert month_lines(lease, date(2026, 3, 1))[0].amount == Fraction(3_336_333, 31)


def test_half_a_fen_rounds_up():
    # 4550 fen × 1 m² × 1/28 = 162.5 fen → 163 (banker's rounding would give 162).
    assert lines(office(date(2026, 2, 28), rent_fen=4550, area="1.00"), 2026, 2) == [
        ("rent", "2026-02-28", "2026-02-28", 1, 28, 163)]
    assert round_half_up(Fraction(5, 2)) == 3 and round_half_up(Fraction(7, 2)) == 4
    assert round_half_up(Fraction(249, 100)) == 2 and round_half_up(0) == 0


def test_a_lease_ending_mid_month_when_the_company_moved_out():
    # The lease runs to 2027, but the company moved out on 10 April 2026: the effective end.
    lease = office(date(2025, 1, 1), ends_on=date(2026, 4, 10))
    # 30.00 yuan × 100 m² × 10/30 (1–10 April) = 1,000.00 yuan.
    assert lines(lease, 2026, 4) == [("rent", "2026-04-01", "2026-04-10", 10, 30, 100_000)]
    assert lines(lease, 2026, 5) == []
    assert months_running(lease, date(2026, 3, 1), date(2026, 6, 1)) == [date(2026, 3, 1), date(2026, 4, 1)]


def test_a_free_month_straddling_a_calendar_month_boundary():
    # From 20 January with one free lease-month: free 20 January – 19 February, rent from 20 February.
    lease = office(date(2026, 1, 20), free_months=1)
    assert lines(lease, 2026, 1) == [("free", "2026-01-20", "2026-01-31", 12, 31, 0)]
    # February 2026 has 28 days: 19 free, then 30.00 × 100 × 9/28 = 2,700,000/28 = 96,428.57… → 96,429.
    assert lines(lease, 2026, 2) == [("free", "2026-02-01", "2026-02-19", 19, 28, 0),
                                     ("rent", "2026-02-20", "2026-02-28", 9, 28, 96_429)]
    assert month_total_fen(lease, date(2026, 2, 1)) == 96_429


def test_a_discounted_stretch_between_the_free_month_and_the_actual_rent():
    # From 15 January: 1 free month (to 14 Feb), 2 discounted months at 20.00 (15 Feb – 14 Apr), then 30.00.
    lease = office(date(2026, 1, 15), free_months=1, discounted_months=2, discounted_rent_fen=2000)
    # February: 14 free days, then 20.00 × 100 × 14/28 = 1,000.00 yuan.
    assert lines(lease, 2026, 2) == [("free", "2026-02-01", "2026-02-14", 14, 28, 0),
                                     ("discounted", "2026-02-15", "2026-02-28", 14, 28, 100_000)]
    # March: discounted all month, 20.00 × 100 = 2,000.00 yuan.
    assert lines(lease, 2026, 3) == [("discounted", "2026-03-01", "2026-03-31", 31, 31, 200_000)]
    # April: 20.00 × 100 × 14/30 = 933.333… → 933.33 yuan; 30.00 × 100 × 16/30 = 1,600.00 yuan.
    assert lines(lease, 2026, 4) == [("discounted", "2026-04-01", "2026-04-14", 14, 30, 93_333),
                                     ("rent", "2026-04-15", "2026-04-30", 16, 30, 160_000)]
    assert month_total_fen(lease, date(2026, 4, 1)) == 253_333


def test_february_of_a_leap_year_has_29_days():
    # From 10 February 2028 (leap year): 30.00 × 100 × 20/29 = 6,000,000/29 = 206,896.55… → 206,897.
    assert lines(office(date(2028, 2, 10)), 2028, 2) == [("rent", "2028-02-10", "2028-02-29", 20, 29, 206_897)]
    # The same start in 2026: 19 days of 28 → 30.00 × 100 × 19/28 = 203,571.43 → 203,571.
    assert lines(office(date(2026, 2, 10)), 2026, 2) == [("rent", "2026-02-10", "2026-02-28", 19, 28, 203_571)]
    # A whole leap February is still one month's rent.
    assert lines(office(date(2028, 1, 1)), 2028, 2) == [("rent", "2028-02-01", "2028-02-29", 29, 29, 300_000)]


def test_a_workstation_lease_by_seats():
    desks = Terms(starts_on=date(2026, 6, 11), ends_on=date(2027, 6, 10), actual_rent_fen=60_000,
                  quantity=Decimal(3), per_seat=True)
    # 600.00 yuan per seat × 3 seats × 20/30 (11–30 June) = 1,200.00 yuan.
    assert lines(desks, 2026, 6) == [("rent", "2026-06-11", "2026-06-30", 20, 30, 120_000)]
    # The lease's last month: 1–10 June 2027, 600.00 × 3 × 10/30 = 600.00 yuan.
    assert lines(desks, 2027, 6) == [("rent", "2027-06-01", "2027-06-10", 10, 30, 60_000)]


def test_lease_months_anchored_on_the_31st_clamp_to_short_months():
    # From 31 January with one free month: lease month 2 starts on 28 February (31 Feb does not exist).
    lease = office(date(2026, 1, 31), free_months=1)
    # 30.00 × 100 × 1/28 = 10,714.28… → 10,714.
    assert lines(lease, 2026, 2) == [("free", "2026-02-01", "2026-02-27", 27, 28, 0),
                                     ("rent", "2026-02-28", "2026-02-28", 1, 28, 10_714)]


def test_a_whole_free_month_is_one_zero_line_and_a_lease_ending_before_it_starts_bills_nothing():
    lease = office(date(2026, 3, 1), free_months=2)
    assert lines(lease, 2026, 4) == [("free", "2026-04-01", "2026-04-30", 30, 30, 0)]
    assert month_total_fen(lease, date(2026, 4, 1)) == 0
    gone = office(date(2026, 3, 1), ends_on=date(2026, 2, 20))  # moved out before the lease began
    assert months_running(gone, date(2026, 1, 1), date(2026, 12, 1)) == []
    assert lines(gone, 2026, 3) == []


@pytest.mark.parametrize("first,last,expected", [
    (date(2026, 1, 1), date(2026, 3, 1), ["2026-02", "2026-03"]),   # from the lease's start month
    (date(2026, 3, 1), date(2026, 5, 1), ["2026-03", "2026-04", "2026-05"]),
    (date(2026, 6, 1), date(2026, 5, 1), []),
])
def test_months_running_between_the_first_billed_month_and_today(first, last, expected):
    lease = office(date(2026, 2, 15))
    assert [f"{m.year}-{m.month:02d}" for m in months_running(lease, first, last)] == expected
