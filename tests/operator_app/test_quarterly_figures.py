"""The quarterly filing's figures on a hand-built base, against values computed by hand: a company that moved in
mid-quarter, one that graduated, a missing month, a corrected report, services by category."""
from datetime import date, datetime, timezone

from operator_app.accounts.models import Base, User
from operator_app.db import scoped_to
from operator_app.extensions import db
from operator_app.filings.quarterly import quarter_figures, quarter_months
from tenants import report_services
from tenants import services as tenant_services
from tenants.models import TenantCompany

JUL, AUG, SEP = quarter_months(2026, 3)


def _reports(app, base, company_id, rows, reason=""):
    with app.test_request_context(), scoped_to(base.id):
        company = db.session.get(TenantCompany, company_id)
        owner = db.session.get(User, base.owner.id)
        for month_on, revenue, tax, employees in rows:
            report_services.save_report(company, month_on, {"revenue_fen": revenue, "tax_fen": tax,
                                                            "employees": employees},
                                        base=db.session.get(Base, base.id), submit=True, reason=reason,
                                        today=date(2026, 10, 5), by=owner, on_behalf=True)
        db.session.commit()


def test_the_quarter_adds_up_to_the_hand_computed_figures(app, factory):
    base = factory.base("alpha")
    a = factory.company(base, n=1, name="甲", moved_in_on=date(2025, 3, 1))
    b = factory.company(base, n=2, name="乙（季中入驻）", moved_in_on=date(2026, 8, 15))
    c = factory.company(base, n=3, name="丙（季中毕业）", moved_in_on=date(2025, 1, 1))
    d = factory.company(base, n=4, name="丁（缺八月）", moved_in_on=date(2025, 1, 1))
    e = factory.company(base, n=5, name="戊（更正九月）", moved_in_on=date(2025, 1, 1))
    _reports(app, base, a, [(JUL, 1_000_000, 50_000, 5), (AUG, 1_200_000, 60_000, 5), (SEP, 1_400_000, 70_000, 6)])
    _reports(app, base, b, [(AUG, 200_000, 10_000, 2), (SEP, 300_000, 15_000, 3)])
    _reports(app, base, c, [(JUL, 500_000, 20_000, 4)])
    _reports(app, base, d, [(JUL, 100_000, 0, 1), (SEP, 100_000, 0, 1)])
    _reports(app, base, e, [(JUL, 300_000, 0, 2), (AUG, 300_000, 0, 2), (SEP, 800_000, 0, 2)])
    _reports(app, base, e, [(SEP, 900_000, 0, 2)], reason="漏记收入")
    with app.test_request_context(), scoped_to(base.id):
        tenant_services.record_exit(db.session.get(TenantCompany, c), reason="graduation", exit_on=date(2026, 8, 20),
                                    today=date(2026, 8, 21), keys_returned=True, rent_settled=True,
                                    deposit_settled=True, notes="", by=db.session.get(User, base.owner.id))
        db.session.commit()
    staff = factory.service_person(base)
    factory.service_request(base, a, category="financing", received_at=datetime(2026, 7, 10, 2, tzinfo=timezone.utc))
    factory.visit(base, b, staff_id=staff, category="coaching", occurred_on=date(2026, 8, 25))
    september = factory.activity(base, organiser_id=staff, category="training",
                                 starts_at=datetime(2026, 9, 3, 6, tzinfo=timezone.utc))
    for n in range(3):
        factory.signin(base, september, phone=f"1380000000{n}")
    factory.activity(base, organiser_id=staff, category="training",
                     starts_at=datetime(2026, 10, 3, 6, tzinfo=timezone.utc))          # next quarter

    with app.test_request_context(), scoped_to(base.id):
        figures = quarter_figures(db.session.get(Base, base.id), 2026, 3, today=date(2026, 10, 20))
        names = lambda companies: {company.name for company in companies}  # noqa: E731
        assert names(figures.housed) == {"甲", "乙（季中入驻）", "丁（缺八月）", "戊（更正九月）"}
        assert names(figures.moved_in) == {"乙（季中入驻）"}
        assert names(figures.exited) == names(figures.graduates) == {"丙（季中毕业）"}
        assert names(figures.followed) == {"丙（季中毕业）"}
        # 甲 3.6 + 乙 0.5 + 丙 0.5 (July, before it left) + 丁 0.2 (August missing) + 戊 1.5 (September corrected)
        assert figures.revenue_fen == 6_300_000 and figures.tax_fen == 225_000
        assert figures.employees == 6 + 3 + 1 + 2                              # September, the companies housed
        assert [(gap.company.name, gap.month_on, gap.treatment) for gap in figures.gaps] == [
            ("丁（缺八月）", AUG, "left_out")]
        assert len(figures.reports) == 3 + 2 + 1 + 2 + 3
        services = figures.services
        assert (services["financing"].requests, services["coaching"].visits) == (1, 1)
        assert (services["training"].activities, services["training"].participants) == (1, 3)
        total = figures.service_totals
        assert (total.requests, total.visits, total.activities, total.participants) == (1, 1, 1, 3)
        assert figures.rent_status == "unknown" and figures.rent_discount is None   # no quote or lease recorded


def test_the_statements_do_not_grow_with_the_activities_and_their_sign_ins(app, factory):
    from sqlalchemy import event

    base = factory.base("alpha")
    factory.company(base, n=1, name="甲", moved_in_on=date(2025, 3, 1))
    staff = factory.service_person(base)

    def activity(n):
        made = factory.activity(base, organiser_id=staff, category="training",
                                starts_at=datetime(2026, 7, 1 + n, 6, tzinfo=timezone.utc))
        for k in range(3):
            factory.signin(base, made, phone=f"1390000{n:02d}{k:02d}")

    def statements():
        seen = []
        with app.test_request_context(), scoped_to(base.id):
            listener = lambda *args: seen.append(args[2])  # noqa: E731
            event.listen(db.engine, "before_cursor_execute", listener)
            try:
                figures = quarter_figures(db.session.get(Base, base.id), 2026, 3, today=date(2026, 10, 20))
            finally:
                event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen), figures.service_totals.participants

    activity(0)
    statements()  # the base's rules row is made on first use
    few, participants = statements()
    assert participants == 3
    for n in range(1, 10):
        activity(n)
    many, participants = statements()
    assert (many, participants) == (few, 30)
