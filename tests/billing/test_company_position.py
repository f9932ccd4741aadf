"""The company file's billing panel reads a company's position in two queries (settlement.company_position); it
must say what the settlement's own readings say (open_invoices, balance) for every company of the demo base,
whose bills are paid in full, in part, ahead, by Stripe and by credit notes."""
from sqlalchemy import select

from operator_app.accounts.models import Base
from operator_app.db import scoped_to, unscoped
from operator_app.extensions import db
from billing import settlement
from billing.models import CreditNote, Payment, RentInvoice
from tenants.models import TenantCompany


def test_the_panel_position_agrees_with_the_settlement_for_every_demo_company(app):
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        with unscoped("the test finds the demo base"):
            base_id = db.session.scalar(select(Base.id).where(Base.slug == "jinyang"))
        with scoped_to(base_id):
            companies = db.session.scalars(select(TenantCompany.id)).all()
            billed = set(db.session.scalars(select(RentInvoice.company_id)))
            kinds = {"open": 0, "credit": 0}
            for company_id in companies:
                ever, open_bills, balance = settlement.company_position(company_id)
                assert ever == (company_id in billed)
                if not ever:
                    assert open_bills == [] and balance is None
                    continue
                expected_open = settlement.open_invoices(company_id)
                assert [(bill.id, owed) for bill, owed in open_bills] == [
                    (bill.id, owed) for bill, owed in expected_open]
                assert balance == settlement.balance(company_id)
                kinds["open"] += bool(open_bills)
                kinds["credit"] += bool(balance.credit_fen)
            # the demo has companies owing and companies in credit, and credit notes: the comparison means
            # something
            assert kinds["open"] and len(billed) > 3
            assert db.session.scalar(select(CreditNote.id).limit(1)) and db.session.scalar(select(Payment.id).limit(1))
