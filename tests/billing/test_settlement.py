"""Settlement: payments and credit notes against bills, hand-worked, and the rules that must hold after any
sequence (no bill over-settled, no source over-spent, never credit beside an open bill, the sums agree);
two settlements of one company at once on a real database."""
import random
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from billing import settlement
from billing.models import Allocation, CreditNote, Payment, RentInvoice
from operator_app.db import scoped_to
from operator_app.extensions import db

from .test_payments_support import allocations, balance, credit, make_bill, money, owed, pay  # noqa: F401


def test_a_payment_settles_the_oldest_bills_first_and_a_part_payment_leaves_the_rest_open(app, money):
    base, company, _ = money
    march = make_bill(app, base, company, 100_000, issued_on=date(2026, 3, 1))  # due 16 March
    april = make_bill(app, base, company, 100_000, issued_on=date(2026, 4, 1))  # due 16 April
    payment = pay(app, base, company, 150_000)
    assert owed(app, base, march) == 0 and owed(app, base, april) == 50_000
    assert allocations(app, base) == [(march, payment, None, 100_000), (april, payment, None, 50_000)]
    assert balance(app, base, company) == settlement.Balance(50_000, 0)


def test_bills_due_the_same_day_go_by_number(app, money):
    base, company, _ = money
    second = make_bill(app, base, company, 30_000, issued_on=date(2026, 3, 1), due_on=date(2026, 3, 20))
    first = make_bill(app, base, company, 30_000, issued_on=date(2026, 3, 5), due_on=date(2026, 3, 20))
    # Same due date: the lower number (made first) is the older bill.
    pay(app, base, company, 30_000)
    assert owed(app, base, second) == 0 and owed(app, base, first) == 30_000


def test_the_bill_chosen_is_settled_first_then_the_oldest(app, money):
    base, company, _ = money
    march = make_bill(app, base, company, 100_000, issued_on=date(2026, 3, 1))
    april = make_bill(app, base, company, 100_000, issued_on=date(2026, 4, 1))
    may = make_bill(app, base, company, 100_000, issued_on=date(2026, 5, 1))
    pay(app, base, company, 150_000, first_id=may)
    assert [owed(app, base, bill) for bill in (march, april, may)] == [50_000, 100_000, 0]


def test_a_payment_above_what_is_owed_becomes_credit_and_settles_the_next_bill_when_it_is_issued(app, money):
    base, company, _ = money
    march = make_bill(app, base, company, 100_000)
    payment = pay(app, base, company, 130_000)
    assert owed(app, base, march) == 0
    assert balance(app, base, company) == settlement.Balance(0, 30_000)
    april = make_bill(app, base, company, 100_000, issued_on=date(2026, 4, 1))
    assert owed(app, base, april) == 70_000
    assert allocations(app, base)[-1] == (april, payment, None, 30_000)
    assert balance(app, base, company) == settlement.Balance(70_000, 0)


def test_a_credit_note_settles_its_own_bill_first_not_the_oldest(app, money):
    base, company, _ = money
    march = make_bill(app, base, company, 100_000, issued_on=date(2026, 3, 1))
    april = make_bill(app, base, company, 100_000, issued_on=date(2026, 4, 1))
    note = credit(app, base, april, 20_000, issued_on=date(2026, 4, 2))
    assert owed(app, base, march) == 100_000 and owed(app, base, april) == 80_000
    assert allocations(app, base) == [(april, None, note, 20_000)]


def test_a_credit_note_on_a_paid_bill_becomes_credit_for_the_oldest_open_bill(app, money):
    base, company, _ = money
    march = make_bill(app, base, company, 100_000, issued_on=date(2026, 3, 1))
    april = make_bill(app, base, company, 100_000, issued_on=date(2026, 4, 1))
    pay(app, base, company, 100_000)  # pays March
    note = credit(app, base, march, 25_000, issued_on=date(2026, 4, 5))
    assert owed(app, base, march) == 0 and owed(app, base, april) == 75_000
    assert allocations(app, base)[-1] == (april, None, note, 25_000)


def test_a_credit_note_on_a_part_paid_bill_settles_the_rest_and_keeps_the_remainder_as_credit(app, money):
    base, company, _ = money
    march = make_bill(app, base, company, 100_000)
    pay(app, base, company, 90_000)
    note = credit(app, base, march, 30_000)
    assert owed(app, base, march) == 0
    assert balance(app, base, company) == settlement.Balance(0, 20_000)
    assert allocations(app, base)[-1] == (march, None, note, 10_000)


def test_credit_is_spent_oldest_first(app, money):
    base, company, _ = money
    older = pay(app, base, company, 10_000, received_on=date(2026, 2, 1))
    newer = pay(app, base, company, 10_000, received_on=date(2026, 2, 10))
    backdated = pay(app, base, company, 10_000, received_on=date(2026, 1, 15))  # typed last, received first
    bill = make_bill(app, base, company, 15_000)
    assert allocations(app, base) == [(bill, backdated, None, 10_000), (bill, older, None, 5_000)]
    assert balance(app, base, company) == settlement.Balance(0, 15_000)
    assert newer


def test_settling_again_changes_nothing(app, money):
    base, company, _ = money
    make_bill(app, base, company, 100_000)
    pay(app, base, company, 40_000)
    before = allocations(app, base)
    with app.app_context(), scoped_to(base.id):
        assert settlement.settle(company) == []
        db.session.commit()
    assert allocations(app, base) == before


def test_allocate_refuses_too_much_another_companys_bill_and_amounts_that_are_not_positive(app, money):
    base, company, other = money
    bill = make_bill(app, base, company, 10_000)
    other_bill = make_bill(app, base, other, 10_000)
    payment_id = pay(app, base, company, 5_000, received_on=date(2026, 2, 1))  # before the bills: all used?
    with app.app_context(), scoped_to(base.id):
        payment = db.session.get(Payment, payment_id)
        assert settlement.unallocated(payment) == 0  # it settled the bill when it was recorded
        extra = Payment(company_id=company, amount_fen=20_000, received_on=date(2026, 3, 2), method="cash")
        db.session.add(extra)
        db.session.flush()
        invoice, others = db.session.get(RentInvoice, bill), db.session.get(RentInvoice, other_bill)
        for amount, target in ((5_001, invoice), (0, invoice), (-1, invoice), (1, others)):
            with pytest.raises(settlement.SettlementError):
                settlement.allocate(target, amount, payment=extra)
        with pytest.raises(settlement.SettlementError):
            settlement.allocate(invoice, 1)
        made = settlement.allocate(invoice, 5_000, payment=extra)
        assert made.amount_fen == 5_000 and settlement.outstanding(invoice) == 0
        small = Payment(company_id=company, amount_fen=100, received_on=date(2026, 3, 2), method="cash")
        db.session.add(small)
        db.session.flush()
        with pytest.raises(settlement.SettlementError):
            settlement.allocate(others, 1, payment=small)  # another company's bill
        db.session.rollback()


def test_open_bill_rows_and_credit_stay_in_their_base(app, factory, money):
    base, company, _ = money
    other_base = factory.base("bravo")
    stranger = factory.company(other_base, name="别家公司")
    make_bill(app, base, company, 10_000)
    make_bill(app, other_base, stranger, 20_000)
    pay(app, other_base, stranger, 50_000)
    with app.app_context(), scoped_to(base.id):
        assert [row.company_id for row in settlement.open_bill_rows()] == [company]
        assert settlement.credit_by_company() == {}
    with app.app_context(), scoped_to(other_base.id):
        assert settlement.open_bill_rows() == []
        assert settlement.credit_by_company() == {stranger: 30_000}


def _invariants(app, base, companies):
    with app.app_context(), scoped_to(base.id):
        allocated_to = dict(db.session.execute(select(Allocation.invoice_id, func.sum(Allocation.amount_fen))
                                               .group_by(Allocation.invoice_id)).all())
        for bill in db.session.scalars(select(RentInvoice)):
            assert 0 <= (allocated_to.get(bill.id) or 0) <= bill.total_fen
        for model, column in ((Payment, Allocation.payment_id), (CreditNote, Allocation.credit_note_id)):
            used = dict(db.session.execute(select(column, func.sum(Allocation.amount_fen)).where(column.is_not(None))
                                           .group_by(column)).all())
            for source in db.session.scalars(select(model)):
                assert (used.get(source.id) or 0) <= source.amount_fen
        for allocation in db.session.scalars(select(Allocation)):
            source = allocation.payment or allocation.credit_note
            assert source.company_id == allocation.invoice.company_id
        for company in companies:
            result = settlement.balance(company)
            assert not (result.owed_fen > 0 and result.credit_fen > 0), (company, result)
            billed = db.session.scalar(select(func.coalesce(func.sum(RentInvoice.total_fen), 0))
                                       .where(RentInvoice.company_id == company))
            paid = db.session.scalar(select(func.coalesce(func.sum(Payment.amount_fen), 0))
                                     .where(Payment.company_id == company))
            credited = db.session.scalar(select(func.coalesce(func.sum(CreditNote.amount_fen), 0))
                                         .where(CreditNote.company_id == company))
            assert billed - paid - credited == result.net_fen


def test_any_sequence_of_bills_payments_and_credit_notes_keeps_the_books_straight(app, money):
    base, company, other = money
    rng = random.Random(20260315)
    bills = {company: [], other: []}
    day = date(2026, 1, 1)
    for _ in range(40):
        day += timedelta(days=rng.randint(0, 9))
        who = rng.choice((company, other))
        action = rng.random()
        if action < 0.4 or not bills[who]:
            bills[who].append(make_bill(app, base, who, rng.choice((0, 1, 99, 50_000, 123_456)), issued_on=day))
        elif action < 0.8:
            first = rng.choice(bills[who] + [None])
            pay(app, base, who, rng.choice((1, 3_333, 60_000, 250_000)), received_on=day, first_id=first)
        else:
            bill = rng.choice(bills[who])
            with app.app_context(), scoped_to(base.id):
                from billing import payments

                room = payments.creditable(db.session.get(RentInvoice, bill))
            if room > 0:
                credit(app, base, bill, rng.randint(1, room), issued_on=day)
        _invariants(app, base, (company, other))


def _in_thread(app, work):
    errors = []

    def run():
        with app.test_request_context():
            try:
                work()
            except Exception as error:  # noqa: BLE001  (reported by the test)
                errors.append(error)
            finally:
                db.session.remove()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


def test_two_payments_at_once_never_settle_more_than_a_bill_owes(app, money):
    """Two transactions record a payment for the same company at the same moment: the company lock makes the
    second wait for the first, so the bill is settled once and the rest is credit."""
    base, company, _ = money
    bill = make_bill(app, base, company, 100_000)
    barrier = threading.Barrier(2, timeout=10)

    def record(amount):
        def work():
            from billing import payments
            from operator_app.accounts.models import User
            from tenants.models import TenantCompany

            with scoped_to(base.id):
                target = db.session.get(TenantCompany, company)
                barrier.wait()
                payments.record_payment(target, {"amount_fen": amount, "received_on": date(2026, 3, 10),
                                                 "method": "cash", "reference": str(amount), "notes": ""},
                                        by=db.session.get(User, base.owner.id))
                db.session.commit()
        return work

    runs = [_in_thread(app, record(amount)) for amount in (80_000, 70_000)]
    for thread, _ in runs:
        thread.join(30)
    assert [errors for _, errors in runs] == [[], []]
    assert owed(app, base, bill) == 0
    assert balance(app, base, company) == settlement.Balance(0, 50_000)
    _invariants(app, base, (company,))
