"""tenants.report_services.month_totals against the rule it sums by: a report counts, and a company is expected,
only on the months ``reports.expected_of`` says the company was housed at the month's end. Companies are moved in
and out on the edges of months (first day, last day, mid-month), in every status, and some are removed from the
files; the totals must equal the sums taken company by company."""
import random
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from operator_app.db import scoped_to
from operator_app.extensions import db
from operator_app.timeutil import utcnow
from tenants import constants as c
from tenants import reports
from tenants.models import MonthlyReport, TenantCompany
from tenants.report_services import month_totals

FIRST = date(2024, 7, 1)
STATUSES = (c.STATUS_IN_RESIDENCE, c.STATUS_EXITED, c.STATUS_GRADUATED, c.STATUS_ADMITTED, c.STATUS_APPLICANT)


def edge_day(rng):
    """A day on an edge of a month (its first, its last, the 15th) between 2024-04 and 2026-12."""
    month_on = reports.shift(date(2024, 4, 1), rng.randrange(33))
    return rng.choice((month_on, reports.month_end(month_on), month_on.replace(day=15)))


def reference(companies, stored, months):
    """The sums company by company with ``expected_of``, as the totals were first written."""
    totals = {}
    for month_on in months:
        expected = [company for company in companies if company.deleted_at is None and company.moved_in_on
                    and reports.expected_of(company, month_on)]
        filed = [stored[(company.id, month_on)] for company in expected if (company.id, month_on) in stored]
        totals[month_on] = (sum(r[0] or 0 for r in filed), sum(r[1] or 0 for r in filed),
                            sum(r[2] or 0 for r in filed), len(filed), len(expected))
    return totals


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_month_totals_equal_the_sums_company_by_company(app, factory, seed):
    rng = random.Random(seed)
    base = factory.base()
    ids = [factory.company(base, moved_in_on=date(2025, 3, 1)) for _ in range(24)]
    with app.app_context(), scoped_to(base.id):
        companies = db.session.scalars(select(TenantCompany).where(TenantCompany.id.in_(ids))).all()
        for company in companies:
            company.status = rng.choice(STATUSES)
            company.moved_in_on = edge_day(rng) if rng.random() < 0.9 else None
            if company.status in (c.STATUS_EXITED, c.STATUS_GRADUATED) and company.moved_in_on:
                company.moved_out_on = max(company.moved_in_on, edge_day(rng))
            if rng.random() < 0.1:
                company.deleted_at = utcnow()
        stored = {}
        for company in companies:
            for n in range(30):
                month_on = reports.shift(date(2024, 4, 1), n)
                if rng.random() < 0.7:
                    figures = (rng.randrange(10**7), rng.choice((None, rng.randrange(10**5))), rng.randrange(50))
                    submitted = rng.random() < 0.85
                    db.session.add(MonthlyReport(
                        company_id=company.id, month_on=month_on, revenue_fen=figures[0], tax_fen=figures[1],
                        employees=figures[2], status=c.REPORT_SUBMITTED if submitted else c.REPORT_DRAFT,
                        first_submitted_on=month_on + timedelta(days=40) if submitted else None))
                    if submitted:
                        stored[(company.id, month_on)] = figures
        db.session.commit()
        for months in ([reports.shift(FIRST, n) for n in range(24)],
                       [reports.shift(date(2025, 11, 1), -n) for n in range(12)]):
            totals = month_totals(months)
            assert set(totals) == set(months)
            expected = reference(companies, stored, months)
            got = {month_on: (t.revenue_fen, t.tax_fen, t.employees, t.filed, t.expected)
                   for month_on, t in totals.items()}
            assert got == expected
            assert any(t.expected for t in totals.values()) and any(t.filed for t in totals.values())
