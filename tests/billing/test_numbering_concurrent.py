"""Bill numbers without gaps under concurrent issue: several issuers at once (each its own session, as two
web workers and the scheduler would be) get 1..N with no gap and no duplicate, the base's first number
included (its counter row created by whoever comes first); a rolled-back issue gives its number back.

On PostgreSQL the counter row's lock makes concurrent issuers queue; on SQLite, its write lock (BEGIN
IMMEDIATE). Both databases run these tests."""
import threading
from datetime import date

from sqlalchemy import select

from billing import invoicing, numbering
from billing.models import ExtraCharge, RentInvoice
from operator_app.accounts.models import Base, User
from operator_app.db import scoped_to
from operator_app.extensions import db
from tenants.models import Lease

from .test_invoicing_issue import charge, enable

ISSUERS = 6


def leases(factory, base, count=ISSUERS):
    return [factory.lease(base, factory.company(base, n=n, name=f"并发公司{n}")) for n in range(1, count + 1)]


def at_once(app, base, work):
    """Run ``work(index)`` in ISSUERS threads released together, each in its own app context and session
    confined to ``base``; returns what each returned (or raised)."""
    start = threading.Barrier(ISSUERS, timeout=30)
    results = [None] * ISSUERS

    def issuer(index):
        with app.app_context(), scoped_to(base.id):
            try:
                start.wait()
                results[index] = work(index)
            except Exception as error:  # reported by the assertion below, with the others' results
                db.session.rollback()
                results[index] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=issuer, args=(index,)) for index in range(ISSUERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "an issuer is stuck"
    assert not any(isinstance(result, Exception) for result in results), results
    return results


def numbers(app, base):
    """[(number, lease id, period, kind)] of the base's bills, by number."""
    with app.app_context(), scoped_to(base.id):
        return [(bill.number, bill.lease_id, bill.period, bill.kind) for bill in
                db.session.scalars(select(RentInvoice).order_by(RentInvoice.number))]


def test_issuers_racing_for_the_same_month_issue_each_bill_once_numbered_without_gaps(app, factory):
    base = factory.base()
    lease_ids = leases(factory, base)
    enable(app, base)

    def issue_everything(index):
        issued = invoicing.issue_due(db.session.get(Base, base.id), date(2026, 3, 1))
        db.session.commit()
        return len(issued)

    results = at_once(app, base, issue_everything)
    assert sum(results) == ISSUERS                            # each bill issued by exactly one of them
    bills = numbers(app, base)
    assert [number for number, *_ in bills] == list(range(1, ISSUERS + 1))
    assert sorted(lease for _, lease, _, _ in bills) == sorted(lease_ids)
    with app.app_context(), scoped_to(base.id):
        assert numbering.last_number(numbering.INVOICE) == ISSUERS


def test_issuers_of_different_leases_at_once_take_1_to_n_and_a_rollback_gives_its_number_back(app, factory):
    base = factory.base()
    lease_ids = leases(factory, base)
    for lease_id in lease_ids:
        charge(app, base, lease_id, "2026-03", 10_000, description="3月电费")
    quitter = 2  # this issuer takes a number, then its transaction fails and rolls back

    def bill_own_lease(index):
        owner = db.session.get(User, base.owner.id)
        bill = invoicing.issue_supplementary(db.session.get(Lease, lease_ids[index]), date(2026, 3, 20), by=owner)
        taken = bill.number
        if index == quitter:
            db.session.rollback()
            return None
        db.session.commit()
        return taken

    taken = at_once(app, base, bill_own_lease)
    kept = sorted(number for number in taken if number is not None)
    assert kept == list(range(1, ISSUERS))                     # 1..N-1: no gap where the quitter's number was
    bills = numbers(app, base)
    assert [number for number, *_ in bills] == kept
    assert lease_ids[quitter] not in {lease for _, lease, _, _ in bills}
    with app.app_context(), scoped_to(base.id):
        assert numbering.last_number(numbering.INVOICE) == ISSUERS - 1
        left = db.session.scalar(select(ExtraCharge).where(ExtraCharge.lease_id == lease_ids[quitter]))
        assert left.invoice_id is None                          # the quitter's charge waits for the next bill


def test_a_rollback_in_the_middle_returns_its_number_to_the_next_bill(app, factory):
    base = factory.base()
    first, second, third = leases(factory, base, 3)
    for lease_id in (first, second, third):
        charge(app, base, lease_id, "2026-03", 5_000)

    def bill(lease_id, keep):
        with app.app_context(), scoped_to(base.id):
            issued = invoicing.issue_supplementary(db.session.get(Lease, lease_id), date(2026, 3, 20),
                                                   by=db.session.get(User, base.owner.id))
            number = issued.number
            db.session.commit() if keep else db.session.rollback()
            return number

    assert bill(first, keep=True) == 1
    assert bill(second, keep=False) == 2                         # taken, then rolled back with its bill
    assert bill(third, keep=True) == 2                           # given again: no gap
    assert bill(second, keep=True) == 3
    assert [(number, lease) for number, lease, _, _ in numbers(app, base)] == [(1, first), (2, third), (3, second)]


def test_a_bill_given_up_inside_a_run_gives_its_number_to_the_next_bill_of_the_run(app, factory):
    """An issuer that finds its month taken meanwhile (the unique lease and month) rolls back only that bill's
    savepoint: the number it took goes to the next bill of the same run."""
    base = factory.base()
    first, second = leases(factory, base, 2)
    enable(app, base)
    with app.app_context(), scoped_to(base.id):
        due = [(lease.id, month) for lease, month in invoicing.due_bills(date(2026, 3, 1))]
    assert [lease for lease, _ in due] == [first, second]      # both due, as this run saw them

    def issue_month(lease_id, month):
        return invoicing._issue_month(db.session.get(Lease, lease_id), month, date(2026, 3, 1),
                                      invoicing.settings_of(), None)

    with app.app_context(), scoped_to(base.id):             # meanwhile another issuer bills the first lease
        invoicing.begin_writing()
        assert issue_month(*due[0]).number == 1
        db.session.commit()
    with app.app_context(), scoped_to(base.id):
        invoicing.begin_writing()
        taken = [issue_month(lease_id, month) for lease_id, month in due]
        assert taken[0] is None and taken[1].number == 2
        db.session.commit()
    assert [(number, lease) for number, lease, _, _ in numbers(app, base)] == [(1, first), (2, second)]
