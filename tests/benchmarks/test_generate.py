"""The benchmark data generator (issue 11): a tiny scale written into the test database is what it says it wrote,
and the app's pages of a generated base open for its manager."""
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import select, text

from benchmarks.generate import (PASSWORD, SCALES, GeneratorRefused, base_slug, count_rows, generate,
                                 manager_email)
from operator_app.db import unscoped
from operator_app.extensions import db

from ..helpers import UserRef

# 2 bases x 8 companies x 3 months of reports, and a small ledger (the densities of the real scales otherwise).
TINY = replace(SCALES["small"], name="tiny", bases=2, companies=8, months=3, ledger_per_year=40, attendance_days=60)


def _ids(app, slug):
    """Of the generated base ``slug``: {status: the id of one company in it}, one activity's id, one bill's id."""
    with app.app_context(), unscoped("the test looks up the generated base's records", db.session()):
        base_id = db.session.scalar(text("SELECT id FROM bases WHERE slug = :slug"), {"slug": slug})
        companies = dict(db.session.execute(text(
            "SELECT status, min(id) FROM tenant_companies WHERE base_id = :base GROUP BY status"),
            {"base": base_id}).all())
        activity = db.session.scalar(text("SELECT min(id) FROM activities WHERE base_id = :base"), {"base": base_id})
        invoice = db.session.scalar(text("SELECT min(id) FROM rent_invoices WHERE base_id = :base"),
                                    {"base": base_id})
        db.session.remove()
    return companies, activity, invoice


def test_generated_counts_are_stored_and_a_bases_pages_open_for_its_manager(app, browser):
    result = generate(app, TINY, seed=7, progress=lambda message: None)

    assert result["bases"] == 2 and result["companies"] == 16
    assert result["tables"] == count_rows(app, result["tables"])
    for table in ("operators", "users", "memberships", "tenant_companies", "monthly_reports", "report_revisions",
                  "service_requests", "visits", "activities", "signins", "workstation_people", "attendance",
                  "leases", "market_quotes", "preferential_policies", "rent_invoices", "rent_invoice_lines",
                  "rent_payments", "payment_allocations", "graduate_followups", "stored_files", "quarterly_filings"):
        assert result["tables"].get(table), f"nothing generated in {table}"

    slug = base_slug(0)
    companies, activity, invoice = _ids(app, slug)
    assert {"in_residence", "graduated", "exited", "applicant"} <= set(companies)
    browser.login(UserRef(0, manager_email(slug), "", PASSWORD))
    pages = ["/", "/tenants/", "/ledger/", "/tenants/attendance", "/tenants/rent", "/filings/",
             "/tenants/reports", "/tenants/graduates", "/billing/", f"/ledger/activities/{activity}",
             f"/billing/invoices/{invoice}"]
    pages += [f"/tenants/{company_id}" for company_id in companies.values()]
    for page in pages:
        response = browser.get(f"/b/{slug}{page}")
        assert response.status_code == 200, (page, response.status_code)
    # The last four ended quarters are filed by the product's own code: the older ones submitted, the newest a draft.
    with app.app_context(), unscoped("the test reads the generated base's filings", db.session()):
        filed = db.session.execute(text(
            "SELECT year, quarter, status FROM quarterly_filings f JOIN bases b ON b.id = f.base_id "
            "WHERE b.slug = :slug ORDER BY year, quarter"), {"slug": slug}).all()
        db.session.remove()
    assert [status for _, _, status in filed] == ["submitted"] * 3 + ["draft"]
    listing = browser.get(f"/b/{slug}/filings/").get_data(as_text=True)
    assert all(f"{year}Q{quarter}" in listing or f"{year} 年第 {quarter} 季度" in listing for year, quarter, _ in filed)


def test_every_generated_row_belongs_where_it_says(app):
    """Children point at parents of their own base (the ids handed out up front match the rows written)."""
    generate(app, TINY, seed=3, progress=lambda message: None)
    pairs = (("monthly_reports", "company_id", "tenant_companies"),
             ("report_revisions", "report_id", "monthly_reports"), ("signins", "activity_id", "activities"),
             ("attendance", "person_id", "workstation_people"), ("rent_invoice_lines", "invoice_id", "rent_invoices"),
             ("payment_allocations", "payment_id", "rent_payments"), ("activity_files", "file_id", "stored_files"),
             ("leases", "company_id", "tenant_companies"))
    with app.app_context(), unscoped("the test checks every base's rows", db.session()):
        for child, key, parent in pairs:
            crossed = db.session.scalar(text(
                f'SELECT count(*) FROM "{child}" c JOIN "{parent}" p ON p.id = c.{key} WHERE p.base_id <> c.base_id'))
            assert crossed == 0, child
        from tenants.models import MonthlyReport

        months = db.session.scalars(select(MonthlyReport.month_on).distinct()).all()
        assert len(months) <= 3 and max(months) < date.today()
        db.session.remove()


def test_refuses_a_database_that_has_data(app):
    generate(app, TINY, progress=lambda message: None)
    with pytest.raises(GeneratorRefused):
        generate(app, TINY, progress=lambda message: None)
    result = app.test_cli_runner().invoke(args=["bench", "generate", "--scale", "small", "--bases", "1"])
    assert result.exit_code != 0 and "empty database" in result.output
