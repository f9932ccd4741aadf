"""China's working days: the package's years, a year it does not know (fallback, then admin-entered), the admin page."""
from datetime import date, timedelta

from operator_app.accounts.models import User
from operator_app.extensions import db
from operator_app.workcalendar import (SOURCE_ADMIN, SOURCE_FALLBACK, SOURCE_PACKAGE, add_working_days,
                                       package_covers, working_days, year_rule)

from ..helpers import field_errors


def week(monday):
    return monday, monday + timedelta(days=6)


def test_national_day_2026_by_hand(app):
    # 国务院办公厅: 10月1日至7日放假调休，共7天；9月20日（周日）、10月10日（周六）上班。
    with app.app_context():
        assert year_rule(2026).source == SOURCE_PACKAGE
        assert working_days(*week(date(2026, 9, 28))).days == [date(2026, 9, 28), date(2026, 9, 29),
                                                               date(2026, 9, 30)]
        assert working_days(*week(date(2026, 10, 5))).days == [date(2026, 10, 8), date(2026, 10, 9),
                                                               date(2026, 10, 10)]
        assert len(working_days(*week(date(2026, 9, 14))).days) == 6  # Sunday 20 September is worked
        assert working_days(*week(date(2026, 11, 16))).days == [date(2026, 11, d) for d in range(16, 21)]
        assert add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
        assert working_days(date(2026, 1, 1), date(2026, 12, 31)).fallback_years == []


def _unknown_year():
    """The first year the installed package does not know (2027 as this is written; later with newer releases)."""
    return next(year for year in range(2026, 2100) if not package_covers(year))


def _first(weekday, year, month):
    day = date(year, month, 1)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def _make_admin(app, user_ref):
    with app.app_context():
        db.session.get(User, user_ref.id).is_platform_admin = True
        db.session.commit()


def test_a_year_the_package_does_not_know_falls_back_then_uses_the_admins_entry(app, factory, browser):
    year = _unknown_year()
    new_year, saturday = date(year, 1, 1), _first(5, year, 2)
    with app.app_context():
        first_week = working_days(new_year, new_year + timedelta(days=6))
        assert first_week.fallback_years == [year]
        expected = [new_year + timedelta(days=n) for n in range(7) if (new_year + timedelta(days=n)).weekday() < 5]
        assert first_week.days == expected  # never an error on 1 January: Monday to Friday, with a notice
    base = factory.base("alpha")
    _make_admin(app, base.owner)
    browser.login(base.owner)
    page = browser.get("/admin/calendar").get_data(as_text=True)
    assert "在录入前按周一至周五计算" in page
    holidays = [new_year, new_year + timedelta(days=1)]
    response = browser.post("/admin/calendar", {"year": str(year),
                                                "holidays": "\n".join(day.isoformat() for day in holidays),
                                                "workdays": saturday.isoformat()})
    assert response.status_code == 302
    with app.app_context():
        assert year_rule(year).source == SOURCE_ADMIN
        days = working_days(new_year, new_year + timedelta(days=6))
        assert days.fallback_years == [] and not set(holidays) & set(days.days)
        assert saturday in working_days(saturday - timedelta(days=5), saturday).days
        assert year_rule(2099).source == SOURCE_FALLBACK


def test_the_calendar_form_refuses_what_cannot_be_true(app, factory, browser):
    year = _unknown_year()
    weekday, saturday = _first(0, year, 2), _first(5, year, 2)
    base = factory.base("alpha")
    _make_admin(app, base.owner)
    browser.login(base.owner)
    cases = [({"year": "2025"}, "year", "已包含 2025 年"),
             ({"year": "10000"}, "year", "2000 到 2100"), ({"year": "-5"}, "year", "2000 到 2100"),
             ({"year": str(year), "holidays": f"{year}-13-01"}, "holidays", "不是 YYYY-MM-DD"),
             ({"year": str(year), "holidays": f"{year + 1}-01-01"}, "holidays", str(year)),
             ({"year": str(year), "workdays": weekday.isoformat()}, "workdays", "周六或周日"),
             ({"year": str(year), "holidays": saturday.isoformat(), "workdays": saturday.isoformat()}, "workdays",
              "既是")]
    for data, field, message in cases:
        errors = field_errors(browser.post("/admin/calendar", data))
        assert any(message in error for error in errors.get(field, [])), (data, errors)
    with app.app_context():
        from operator_app.workcalendar import CalendarYear

        assert db.session.get(CalendarYear, year) is None


def test_only_platform_admins_open_the_calendar(app, factory, browser):
    base = factory.base("alpha")
    browser.login(base.owner)
    assert browser.get("/admin/calendar").status_code == 403
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "make-admin", base.owner.email])
    assert result.exit_code == 0, result.output
    assert browser.get("/admin/calendar").status_code == 200
    assert runner.invoke(args=["users", "make-admin", "nobody@example.com"]).exit_code != 0
