"""Issuing rent bills: one per lease and month from the base's first billed month, caught up when missed, never
twice; extra charges on the next bill or on a supplementary bill; the company's credit applied; the morning job
claims the base's day and does nothing while billing is off."""
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from billing import invoicing, numbering
from billing.jobs import INVOICES_JOB
from billing.models import ExtraCharge, InvoiceSequence, Payment, RentInvoice
from billing.settlement import balance, settle
from operator_app.accounts.models import Base, User
from operator_app.db import scoped_to, unscoped
from operator_app.extensions import db
from operator_app.scheduler import JobRun, run_job
from tenants import services as tenant_services
from tenants.models import Lease, TenantCompany

SHANGHAI = ZoneInfo("Asia/Shanghai")
SETTINGS = {"invoicing_enabled": True, "first_month": date(2026, 3, 1), "due_days": 15, "number_prefix": "",
            "payee_name": "", "bank_name": "", "bank_account": "", "payment_notes": ""}


def enable(app, base, **values):
    """Turn billing on in ``base`` (first billed month March 2026 unless told otherwise)."""
    with app.test_request_context(), scoped_to(base.id):
        current = invoicing.settings_of()
        invoicing.save_settings({**SETTINGS, **values}, expected_version=current.lock_version if current.id else None,
                                by=db.session.get(User, base.owner.id))
        db.session.commit()


def issue(app, base, today):
    """Issue the base's due bills on ``today``; [(number, lease id, period, total fen)] of those issued."""
    with app.test_request_context(), scoped_to(base.id):
        issued = invoicing.issue_due(db.session.get(Base, base.id), today)
        db.session.commit()
        return [(bill.number, bill.lease_id, bill.period, bill.total_fen) for bill in issued]


def bills(app, base):
    """Every bill of the base by number: a dict of what it says, its lines as (kind, fen, text)."""
    with app.app_context(), scoped_to(base.id):
        rows = db.session.scalars(select(RentInvoice).order_by(RentInvoice.number)).all()
        return [{"number": b.number, "kind": b.kind, "lease_id": b.lease_id, "company_id": b.company_id,
                 "period": b.period, "issued_on": b.issued_on, "due_on": b.due_on, "total_fen": b.total_fen,
                 "period_start": b.period_start, "period_end": b.period_end,
                 "lines": [(line.kind, line.amount_fen, line.description) for line in b.lines]} for b in rows]


def charge(app, base, lease_id, month, amount_fen, kind="utilities", description="电费"):
    with app.test_request_context(), scoped_to(base.id):
        created = invoicing.add_charge(db.session.get(Lease, lease_id), {
            "month": month, "kind": kind, "description": description, "amount_fen": amount_fen},
            by=db.session.get(User, base.owner.id))
        db.session.commit()
        return created.id


def move_out(app, base, company_id, on):
    with app.test_request_context(), scoped_to(base.id):
        tenant_services.record_exit(db.session.get(TenantCompany, company_id), reason="voluntary", exit_on=on,
                                    today=on, keys_returned=True, rent_settled=False, deposit_settled=True, notes="",
                                    by=db.session.get(User, base.owner.id))
        db.session.commit()


def pay(app, base, company_id, amount_fen, on=date(2026, 2, 20)):
    """Money received from the company, settled against its open bills (the payments' own service is tested
    with the payments)."""
    with app.app_context(), scoped_to(base.id):
        db.session.add(Payment(company_id=company_id, amount_fen=amount_fen, received_on=on, method="bank_transfer"))
        settle(company_id)
        db.session.commit()


def local(year, month, day, hour=0, minute=20):
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def base(factory):
    return factory.base()


def two_leases(factory, base):
    """Two companies, each with a 100 m² lease at 30.00 yuan (2025–2027): 3,000.00 yuan a month."""
    first = factory.company(base, n=1, name="甲公司")
    second = factory.company(base, n=2, name="乙公司")
    return factory.lease(base, first), factory.lease(base, second)


def test_each_running_lease_gets_one_bill_for_the_month_on_the_1st_and_never_two(app, factory, base):
    lease_a, lease_b = two_leases(factory, base)
    enable(app, base)
    assert issue(app, base, date(2026, 3, 1)) == [(1, lease_a, "2026-03", 300_000), (2, lease_b, "2026-03", 300_000)]
    assert issue(app, base, date(2026, 3, 1)) == []                 # twice the same day: nothing more
    assert issue(app, base, date(2026, 3, 17)) == []                # later in the month: nothing more
    march = bills(app, base)
    assert [(b["issued_on"], b["due_on"], b["kind"]) for b in march] == [(date(2026, 3, 1), date(2026, 3, 16),
                                                                          "rent")] * 2
    assert (march[0]["period_start"], march[0]["period_end"]) == (date(2026, 3, 1), date(2026, 3, 31))
    assert issue(app, base, date(2026, 4, 1)) == [(3, lease_a, "2026-04", 300_000), (4, lease_b, "2026-04", 300_000)]


def test_a_lease_entered_mid_month_is_billed_the_next_morning_for_its_days(app, factory, base):
    first_lease, _ = two_leases(factory, base)
    enable(app, base)
    issue(app, base, date(2026, 3, 1))
    newcomer = factory.company(base, n=3, name="丙公司")
    late = factory.lease(base, newcomer, starts_on=date(2026, 3, 10), ends_on=date(2027, 3, 9), area_m2=None,
                         space_type="workstation", seats=2, actual_rent_fen=60_000, list_rent_fen=80_000)
    # 600.00 yuan per seat × 2 seats × 22/31 (10–31 March) = 851.61… yuan → 85,161 fen.
    assert issue(app, base, date(2026, 3, 13)) == [(3, late, "2026-03", 85_161)]
    bill = bills(app, base)[-1]
    assert (bill["issued_on"], bill["due_on"], bill["period_start"]) == (date(2026, 3, 13), date(2026, 3, 28),
                                                                         date(2026, 3, 10))
    assert bill["lines"] == [("rent", 85_161, "2026-03-10 至 2026-03-31 实际租金 600.00 元/工位·月 × 2 个工位 × 22/31")]


def test_missed_months_are_caught_up_dated_the_day_they_are_issued(app, factory, base):
    lease = factory.lease(base, factory.company(base, n=1))
    enable(app, base, first_month=date(2026, 1, 1), due_days=10)
    # Nothing was issued from January to April (server down, or billing turned on late).
    assert issue(app, base, date(2026, 4, 3)) == [(1, lease, "2026-01", 300_000), (2, lease, "2026-02", 300_000),
                                                  (3, lease, "2026-03", 300_000), (4, lease, "2026-04", 300_000)]
    assert {(b["issued_on"], b["due_on"]) for b in bills(app, base)} == {(date(2026, 4, 3), date(2026, 4, 13))}


def test_no_bill_for_a_month_before_the_first_billed_month_or_while_billing_is_off(app, factory, base):
    lease = factory.lease(base, factory.company(base, n=1))   # running since January 2025
    assert issue(app, base, date(2026, 3, 5)) == []                                    # never turned on
    enable(app, base, first_month=date(2026, 3, 1), invoicing_enabled=False)
    assert issue(app, base, date(2026, 3, 5)) == []                                    # turned off
    enable(app, base, first_month=date(2026, 5, 1))
    assert issue(app, base, date(2026, 3, 5)) == []                                    # first month ahead
    assert issue(app, base, date(2026, 5, 1)) == [(1, lease, "2026-05", 300_000)]      # not 14 months of history


def test_a_removed_lease_or_company_file_gets_no_bill(app, factory, base):
    from tenants import rent_services

    kept, removed = two_leases(factory, base)
    with app.test_request_context(), scoped_to(base.id):
        rent_services.remove_lease(db.session.get(Lease, removed), by=db.session.get(User, base.owner.id))
        db.session.commit()
    enable(app, base)
    assert [lease for _, lease, _, _ in issue(app, base, date(2026, 3, 1))] == [kept]


def test_a_month_entirely_rent_free_still_gets_its_bill_of_zero(app, factory, base):
    lease = factory.lease(base, factory.company(base, n=1), starts_on=date(2026, 3, 1), ends_on=date(2029, 2, 28),
                          free_months=1, discounted_months=1, discounted_rent_fen=2000)
    enable(app, base)
    assert issue(app, base, date(2026, 3, 1)) == [(1, lease, "2026-03", 0)]
    assert bills(app, base)[0]["lines"] == [("free", 0, "2026-03-01 至 2026-03-31 免租期（31 天）")]
    assert issue(app, base, date(2026, 4, 1)) == [(2, lease, "2026-04", 200_000)]
    assert bills(app, base)[1]["lines"] == [
        ("discounted", 200_000, "2026-04-01 至 2026-04-30 优惠期租金 20.00 元/m²·月 × 100.00 m² × 30/30")]
    with app.app_context(), scoped_to(base.id):
        zero = db.session.scalar(select(RentInvoice).where(RentInvoice.number == 1))
        assert invoicing.status_of(zero, 0, date(2026, 5, 1)) == "nothing_due"


def test_a_company_that_moved_out_mid_month_is_billed_to_that_day_and_no_further(app, factory, base):
    company = factory.company(base, n=1)
    lease = factory.lease(base, company)
    enable(app, base, first_month=date(2026, 4, 1))
    move_out(app, base, company, date(2026, 4, 10))
    # 30.00 × 100 m² × 10/30 = 1,000.00 yuan; May is after the effective end.
    assert issue(app, base, date(2026, 5, 1)) == [(1, lease, "2026-04", 100_000)]
    assert bills(app, base)[0]["lines"] == [
        ("rent", 100_000, "2026-04-01 至 2026-04-10 实际租金 30.00 元/m²·月 × 100.00 m² × 10/30")]


def test_extra_charges_go_on_the_lease_s_next_bill_for_their_month_or_later(app, factory, base):
    lease, other = two_leases(factory, base)
    enable(app, base)
    electricity = charge(app, base, lease, "2026-02", 12_345, description="2月电费")
    charge(app, base, lease, "2026-03", 5_000, kind="services", description="保洁")
    later = charge(app, base, lease, "2026-04", 7_000, kind="other", description="4月停车")
    withdrawn = charge(app, base, lease, "2026-03", 9_999, description="录错了")
    with app.test_request_context(), scoped_to(base.id):
        assert invoicing.withdraw_charge(db.session.get(ExtraCharge, withdrawn), by=None)
        db.session.commit()
    assert issue(app, base, date(2026, 3, 1)) == [(1, lease, "2026-03", 300_000 + 12_345 + 5_000),
                                                  (2, other, "2026-03", 300_000)]
    march = bills(app, base)[0]
    assert [line[:2] for line in march["lines"]] == [("rent", 300_000), ("extra", 12_345), ("extra", 5_000)]
    assert march["lines"][1][2] == "2026-02 水电费：2月电费" and march["lines"][2][2] == "2026-03 服务费：保洁"
    assert issue(app, base, date(2026, 4, 1))[0] == (3, lease, "2026-04", 307_000)
    with app.test_request_context(), scoped_to(base.id):
        billed = db.session.get(ExtraCharge, electricity)
        assert billed.invoice_id is not None
        assert not invoicing.withdraw_charge(billed, by=None)            # billed: a credit note corrects it
        assert db.session.get(ExtraCharge, electricity).deleted_at is None
        assert db.session.get(ExtraCharge, later).invoice_id is not None
        assert db.session.get(ExtraCharge, withdrawn).invoice_id is None


def test_a_supplementary_bill_takes_the_lease_s_pending_charges_now(app, factory, base):
    lease, _ = two_leases(factory, base)
    charge(app, base, lease, "2026-06", 20_000, description="6月电费")
    charge(app, base, lease, "2026-05", 10_000, description="5月电费")
    with app.test_request_context(), scoped_to(base.id):
        owner = db.session.get(User, base.owner.id)
        bill = invoicing.issue_supplementary(db.session.get(Lease, lease), date(2026, 6, 20), by=owner)
        db.session.commit()
        assert (bill.number, bill.kind, bill.period, bill.total_fen, bill.issued_by_id) == (
            1, "supplementary", None, 30_000, owner.id)
        assert (bill.period_start, bill.period_end, bill.due_on) == (date(2026, 5, 1), date(2026, 6, 30),
                                                                    date(2026, 7, 5))
        assert [line.description for line in bill.lines] == ["2026-05 水电费：5月电费", "2026-06 水电费：6月电费"]
        assert invoicing.issue_supplementary(db.session.get(Lease, lease), date(2026, 6, 20), by=owner) is None
    enable(app, base, first_month=date(2026, 6, 1))
    assert issue(app, base, date(2026, 7, 1))[0][3] == 300_000          # the June rent bill has no charge left


def test_a_charge_withdrawn_meanwhile_is_not_billed_twice_or_at_all(app, factory, base):
    lease, _ = two_leases(factory, base)
    charge_id = charge(app, base, lease, "2026-03", 5_000)
    with app.test_request_context(), scoped_to(base.id):
        pending = invoicing.pending_charges(db.session.get(Lease, lease))
        # Another desk withdraws it between the read and the claim:
        db.session.execute(ExtraCharge.__table__.update().where(ExtraCharge.__table__.c.id == charge_id)
                           .values(deleted_at=datetime(2026, 3, 1)))
        with pytest.raises(invoicing.ChargesChanged):
            invoicing._claim_charges(pending, RentInvoice(id=1))
        db.session.rollback()


def test_the_company_s_credit_is_applied_to_the_new_bill(app, factory, base):
    company = factory.company(base, n=1)
    factory.lease(base, company)
    enable(app, base)
    pay(app, base, company, 500_000)                        # paid ahead: 5,000.00 yuan
    issue(app, base, date(2026, 3, 1))
    with app.app_context(), scoped_to(base.id):
        left = balance(company)
        assert (left.owed_fen, left.credit_fen) == (0, 200_000)
    issue(app, base, date(2026, 4, 1))
    with app.app_context(), scoped_to(base.id):
        left = balance(company)
        assert (left.owed_fen, left.credit_fen) == (100_000, 0)
        april = db.session.scalar(select(RentInvoice).where(RentInvoice.period == "2026-04"))
        assert invoicing.status_of(april, 100_000, date(2026, 4, 2)) == "open"
        assert invoicing.status_of(april, 100_000, date(2026, 4, 17)) == "overdue"


def test_the_morning_job_issues_once_a_day_catches_up_and_skips_bases_with_billing_off(app, factory, base):
    lease = factory.lease(base, factory.company(base, n=1))
    quiet = factory.base()                                   # billing never turned on
    factory.lease(quiet, factory.company(quiet, n=2))
    enable(app, base)
    with app.app_context():
        first = run_job(INVOICES_JOB, local(2026, 3, 1))
    assert first.done == [base.id] and first.skipped == [quiet.id] and not first.failed
    with app.app_context():
        again = run_job(INVOICES_JOB, local(2026, 3, 1, 9))
    assert again.done == [] and set(again.skipped) == {base.id, quiet.id}
    assert [(b["number"], b["period"]) for b in bills(app, base)] == [(1, "2026-03")]
    # The server was down from 2 March to 2 June: April, May and June are issued at the next run.
    with app.app_context():
        run_job(INVOICES_JOB, local(2026, 6, 2))
    assert [(b["number"], b["period"], b["issued_on"]) for b in bills(app, base)] == [
        (1, "2026-03", date(2026, 3, 1)), (2, "2026-04", date(2026, 6, 2)), (3, "2026-05", date(2026, 6, 2)),
        (4, "2026-06", date(2026, 6, 2))]
    # Run twice on the same catch-up day (a restart): one bill per lease and month still.
    with app.app_context(), unscoped("the test forgets the job's claims, as a new database would"):
        db.session.execute(JobRun.__table__.delete())
        db.session.commit()
    with app.app_context():
        run_job(INVOICES_JOB, local(2026, 6, 2, 10))
    assert len(bills(app, base)) == 4 and {b["lease_id"] for b in bills(app, base)} == {lease}
    assert bills(app, quiet) == []
    with app.app_context(), scoped_to(quiet.id):
        assert db.session.scalars(select(JobRun)).all() == []


def test_the_job_uses_the_base_s_own_date(app, factory, base):
    factory.lease(base, factory.company(base, n=1))
    enable(app, base)
    with app.app_context():
        run_job(INVOICES_JOB, local(2026, 2, 28, 23, 50))       # still February in Shanghai: first month ahead
    assert bills(app, base) == []
    with app.app_context():
        run_job(INVOICES_JOB, local(2026, 3, 1, 0, 20))
    assert [b["issued_on"] for b in bills(app, base)] == [date(2026, 3, 1)]


def test_bills_of_one_base_never_number_or_bill_another(app, factory):
    alpha, bravo = factory.base("alpha"), factory.base("bravo")
    for base in (alpha, bravo):
        factory.lease(base, factory.company(base, n=1))
        enable(app, base)
    issue(app, alpha, date(2026, 3, 1))
    issue(app, alpha, date(2026, 4, 1))
    assert issue(app, bravo, date(2026, 4, 1))[0][0] == 1 and len(bills(app, bravo)) == 2
    with app.app_context(), scoped_to(alpha.id):
        assert numbering.last_number(numbering.INVOICE) == 2
        assert len(db.session.scalars(select(InvoiceSequence)).all()) == 1
