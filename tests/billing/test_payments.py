"""Recording payments and credit notes through their pages, and a company's statement: what the user sees and
what is stored; bad input answered on the field with nothing written; roles, tenants and other bases."""
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from billing import payments
from billing.models import CreditNote, InvoiceSequence, Payment
from operator_app.audit import AuditEntry
from operator_app.db import scoped_to, unscoped
from operator_app.extensions import db
from operator_app.timeutil import today_in

from ..helpers import field_errors
from .test_payments_support import (balance, count, credit, make_bill, money, owed, pay,  # noqa: F401
                                    text_of, zh)

PAYMENT_NEW = "/b/{slug}/billing/payments/new"


def _today(app):
    with app.app_context():
        return today_in("Asia/Shanghai")


def _post_payment(browser, base, **values):
    data = {"company_id": "", "amount_yuan": "", "received_on": "2026-03-10", "method": "bank_transfer",
            "reference": "", "invoice_id": "", "notes": ""}
    data.update({key: str(value) for key, value in values.items()})
    return browser.post(PAYMENT_NEW.format(slug=base.slug), data)


def _errors(response):
    return {name: [message.replace("&#39;", "'") for message in messages]
            for name, messages in field_errors(response).items()}


@pytest.mark.parametrize("role", ["manager", "staff"])
def test_staff_record_a_payment_which_settles_the_chosen_bill_first_then_the_oldest(app, browser, money, role):
    base, company, _ = money
    march = make_bill(app, base, company, 100_000, issued_on=date(2026, 3, 1))
    april = make_bill(app, base, company, 100_000, issued_on=date(2026, 4, 1))
    may = make_bill(app, base, company, 100_000, issued_on=date(2026, 5, 1))
    browser.login(base.users[role])
    page = text_of(browser.get(PAYMENT_NEW.format(slug=base.slug) + f"?company_id={company}"))
    assert "甲科技有限公司" in page and f'data-company="{company}"' in page
    # From a bill's button: the bill and its company are chosen already.
    page = text_of(browser.get(PAYMENT_NEW.format(slug=base.slug) + f"?invoice_id={april}"))
    assert f'<option selected value="{company}">' in page and f'selected value="{april}"' in page
    response = _post_payment(browser, base, company_id=company, amount_yuan="1500.00", invoice_id=may,
                             method="cash", reference="收据 0042", notes="前台收取")
    assert response.status_code == 302, _errors(response)
    detail = text_of(browser.get(response.headers["Location"]))
    assert "1,500.00" in detail and "收据 0042" in detail and "前台收取" in detail
    assert "超出应付" not in detail and 'id="payment-credit"' not in detail
    assert [owed(app, base, bill) for bill in (march, april, may)] == [50_000, 100_000, 0]
    with app.app_context(), scoped_to(base.id):
        payment = db.session.scalar(select(Payment))
        assert (payment.amount_fen, payment.method, payment.received_on, payment.recorded_by_id) == \
               (150_000, "cash", date(2026, 3, 10), base.users[role].id)
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "payment.record"))
        assert entry.user_id == base.users[role].id and entry.after["amount_fen"] == 150_000
        assert entry.after["credit_fen"] == 0 and len(entry.after["allocated"]) == 2


def test_a_payment_above_what_is_owed_says_so_on_the_confirmation_and_the_statement(app, browser, money):
    base, company, _ = money
    bill = make_bill(app, base, company, 100_000)
    browser.login(base.users["staff"])
    response = _post_payment(browser, base, company_id=company, amount_yuan="1234.56")
    message = zh(app, "¥%(amount)s more than was owed has been recorded as the company’s credit and will be set "
                      "against its next bill automatically.", amount="234.56")
    assert message in text_of(browser.get(response.headers["Location"]))
    assert owed(app, base, bill) == 0 and balance(app, base, company).credit_fen == 23_456
    statement = text_of(browser.get(f"/b/{base.slug}/billing/companies/{company}/statement"))
    assert zh(app, "The company has ¥%(amount)s of credit: paid beyond its bills, it will be set against its next "
                   "bill automatically.", amount="234.56") in statement
    assert 'id="statement-credit">234.56' in statement
    # The next bill is settled from the credit as soon as it is issued.
    april = make_bill(app, base, company, 100_000, issued_on=date(2026, 4, 1))
    assert owed(app, base, april) == 100_000 - 23_456


@pytest.mark.parametrize("amount, message", [
    ("-100", "The amount must be more than 0 yuan."),
    ("0", "The amount must be more than 0 yuan."),
    ("0.00", "The amount must be more than 0 yuan."),
    ("0.001", "Enter the amount in yuan with at most two decimals."),
    ("12.345", "Enter the amount in yuan with at most two decimals."),
    ("100000000.01", "Enter an amount of at most 100,000,000 yuan."),
    ("NaN", "Enter a number."),
    ("Infinity", "Enter a number."),
    ("一千", "Enter a number."),
    ("", "Enter the amount."),  # nothing typed: the field asks for it (unreadable input says "Enter a number.")
])
def test_a_wrong_amount_is_refused_on_its_field_and_nothing_is_written(app, browser, money, amount, message):
    base, company, _ = money
    make_bill(app, base, company, 100_000)
    browser.login(base.owner)
    response = _post_payment(browser, base, company_id=company, amount_yuan=amount)
    assert response.status_code == 200
    assert _errors(response) == {"amount_yuan": [zh(app, message)]}
    assert count(app, base, Payment) == 0


def test_other_bad_input_is_refused_on_the_right_field(app, browser, factory, money):
    base, company, other = money
    other_bill = make_bill(app, base, other, 10_000)
    stranger_base = factory.base("bravo")
    stranger = factory.company(stranger_base, name="别家公司")
    stranger_bill = make_bill(app, stranger_base, stranger, 10_000)
    browser.login(base.owner)
    tomorrow = (_today(app) + timedelta(days=1)).isoformat()
    cases = [
        ({"company_id": stranger}, "company_id"),  # another base's company: not a choice here
        ({"company_id": "abc"}, "company_id"),
        ({"company_id": ""}, "company_id"),
        ({"received_on": tomorrow}, "received_on"),
        ({"received_on": "2026-02-30"}, "received_on"),
        ({"received_on": "0201-03-01"}, "received_on"),
        ({"method": "stripe"}, "method"),  # Stripe payments come from Stripe only
        ({"method": "bitcoin"}, "method"),
        ({"invoice_id": other_bill}, "invoice_id"),  # another company's bill
        ({"invoice_id": stranger_bill}, "invoice_id"),  # another base's bill
        ({"invoice_id": "x"}, "invoice_id"),
        ({"reference": "x" * 121}, "reference"),
        ({"reference": "bad\x00byte"}, "reference"),
    ]
    for values, field in cases:
        response = _post_payment(browser, base, **({"company_id": company, "amount_yuan": "10"} | values))
        assert response.status_code == 200, values
        assert list(_errors(response)) == [field], (values, _errors(response))
    assert _errors(_post_payment(browser, base, company_id=company, amount_yuan="10", received_on=tomorrow)) == \
        {"received_on": [zh(app, "A payment cannot be dated in the future.")]}
    assert _errors(_post_payment(browser, base, company_id=company, amount_yuan="10", invoice_id=other_bill)) == \
        {"invoice_id": [zh(app, "This bill is not an open bill of the company chosen.")]}
    assert count(app, base, Payment) == 0 and count(app, stranger_base, Payment) == 0


def test_the_same_payment_sent_twice_is_recorded_once_unless_confirmed(app, browser, money):
    base, company, _ = money
    make_bill(app, base, company, 100_000)
    browser.login(base.users["staff"])
    values = {"company_id": company, "amount_yuan": "500", "reference": "B20260310-1", "method": "bank_transfer"}
    assert _post_payment(browser, base, **values).status_code == 302
    again = _post_payment(browser, base, **values)
    assert again.status_code == 200 and list(_errors(again)) == ["confirm_duplicate"]
    assert 'id="duplicate-warning"' in text_of(again)
    assert count(app, base, Payment) == 1
    # Another reference (a second transfer) is a different payment.
    assert _post_payment(browser, base, **(values | {"reference": "B20260310-2"})).status_code == 302
    # The company really paid twice: confirmed, it is recorded.
    assert _post_payment(browser, base, **(values | {"confirm_duplicate": "y"})).status_code == 302
    assert count(app, base, Payment) == 3
    assert (balance(app, base, company).owed_fen, balance(app, base, company).credit_fen) == (0, 50_000)


def test_two_identical_submissions_at_the_same_moment_record_one_payment(app, money):
    """A double click: both requests pass the form at once; the company lock makes the second see the first."""
    base, company, _ = money
    make_bill(app, base, company, 100_000)
    barrier = threading.Barrier(2, timeout=10)
    outcomes = []

    def submit():
        from operator_app.accounts.models import User
        from tenants.models import TenantCompany

        with app.test_request_context():
            try:
                with scoped_to(base.id):
                    target = db.session.get(TenantCompany, company)
                    user = db.session.get(User, base.owner.id)
                    barrier.wait()
                    payments.record_payment(target, {"amount_fen": 50_000, "received_on": date(2026, 3, 10),
                                                     "method": "bank_transfer", "reference": "B1", "notes": ""},
                                            by=user)
                    db.session.commit()
                    outcomes.append("recorded")
            except payments.DuplicatePayment:
                db.session.rollback()
                outcomes.append("duplicate")
            except Exception as error:  # noqa: BLE001  (reported by the test)
                outcomes.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["duplicate", "recorded"]
    assert count(app, base, Payment) == 1


def test_payment_pages_by_role_and_base(app, browser, new_browser, factory, money):
    base, company, other = money
    bill = make_bill(app, base, company, 10_000)
    mine = pay(app, base, company, 5_000)
    theirs = pay(app, base, other, 5_000)
    stranger_base = factory.base("bravo")
    stranger = factory.company(stranger_base)
    foreign = pay(app, stranger_base, stranger, 5_000)
    paths = {"new": PAYMENT_NEW.format(slug=base.slug), "mine": f"/b/{base.slug}/billing/payments/{mine}",
             "theirs": f"/b/{base.slug}/billing/payments/{theirs}"}
    assert browser.get(paths["new"]).status_code == 302  # anonymous: to the login
    browser.login(base.users["mentor"])
    assert [browser.get(path).status_code for path in paths.values()] == [403, 403, 403]
    tenant = new_browser()
    tenant.login(base.users["tenant"])
    assert [tenant.get(path).status_code for path in paths.values()] == [403, 200, 404]
    owner = new_browser()
    owner.login(base.owner)
    assert owner.get(f"/b/{base.slug}/billing/payments/{foreign}").status_code == 404
    assert owner.get(f"/b/{stranger_base.slug}/billing/payments/{foreign}").status_code == 404  # not a member
    assert bill


# --- Credit notes -----------------------------------------------------------------------------------------------

def _credit_page(base, bill):
    return f"/b/{base.slug}/billing/invoices/{bill}/credit-notes/new"


def test_the_manager_issues_credit_notes_numbered_without_gaps(app, browser, money):
    base, company, _ = money
    bill = make_bill(app, base, company, 100_000)
    browser.login(base.owner)
    page = text_of(browser.get(_credit_page(base, bill)))
    assert "1,000.00" in page and "甲科技有限公司" in page
    today = _today(app).isoformat()
    response = browser.post(_credit_page(base, bill), {"amount_yuan": "300", "reason": "三月维修减免",
                                                       "issued_on": today})
    assert response.status_code == 302, _errors(response)
    detail = text_of(browser.get(response.headers["Location"]))
    assert "三月维修减免" in detail and "300.00" in detail
    # A refused one takes no number.
    refused = browser.post(_credit_page(base, bill), {"amount_yuan": "800", "reason": "再减", "issued_on": today})
    assert _errors(refused) == {"amount_yuan": [zh(app, "At most %(amount)s yuan: the bill's total less the credit "
                                                        "notes already on it.", amount="700.00")]}
    assert browser.post(_credit_page(base, bill), {"amount_yuan": "700", "reason": "全部减免",
                                                   "issued_on": today}).status_code == 302
    with app.app_context(), scoped_to(base.id):
        notes = db.session.scalars(select(CreditNote).order_by(CreditNote.id)).all()
        assert [(note.number, note.amount_fen) for note in notes] == [(1, 30_000), (2, 70_000)]
        assert db.session.scalar(select(InvoiceSequence.last_number)
                                 .where(InvoiceSequence.kind == "credit_note")) == 2
        assert db.session.scalars(select(AuditEntry.action).where(AuditEntry.action == "credit_note.issue")).all() \
            == ["credit_note.issue"] * 2
    assert owed(app, base, bill) == 0
    full = browser.post(_credit_page(base, bill), {"amount_yuan": "0.01", "reason": "再减", "issued_on": today})
    assert _errors(full) == {"amount_yuan": [zh(app, "This bill has been credited in full already.")]}


def test_a_credit_note_on_a_paid_bill_becomes_credit(app, browser, money):
    base, company, _ = money
    bill = make_bill(app, base, company, 100_000)
    pay(app, base, company, 100_000)
    browser.login(base.owner)
    response = browser.post(_credit_page(base, bill), {"amount_yuan": "200", "reason": "多收退回",
                                                       "issued_on": _today(app).isoformat()})
    detail = text_of(browser.get(response.headers["Location"]))
    assert zh(app, "¥%(amount)s of it was not needed by the bill and has been recorded as the company’s credit; "
                   "it will be set against its next bill automatically.", amount="200.00") in detail
    assert balance(app, base, company).credit_fen == 20_000


def test_credit_note_input_is_checked_and_only_the_manager_issues_them(app, browser, new_browser, money):
    base, company, _ = money
    bill = make_bill(app, base, company, 100_000, issued_on=date(2026, 3, 1))
    browser.login(base.owner)
    today = _today(app)
    cases = [
        ({"amount_yuan": "-1"}, "amount_yuan"),
        ({"amount_yuan": "abc"}, "amount_yuan"),
        ({"reason": "   "}, "reason"),
        ({"issued_on": (today + timedelta(days=1)).isoformat()}, "issued_on"),
        ({"issued_on": "2026-02-28"}, "issued_on"),  # before the bill
    ]
    for values, field in cases:
        data = {"amount_yuan": "100", "reason": "减免", "issued_on": today.isoformat()} | values
        response = browser.post(_credit_page(base, bill), data)
        assert response.status_code == 200 and list(_errors(response)) == [field], (values, _errors(response))
    assert count(app, base, CreditNote) == 0
    staff = new_browser()
    staff.login(base.users["staff"])
    assert staff.get(_credit_page(base, bill)).status_code == 403
    assert staff.post(_credit_page(base, bill), {"amount_yuan": "1", "reason": "x",
                                                 "issued_on": today.isoformat()}, form_page="/account/password") \
        .status_code == 403
    assert browser.get(f"/b/{base.slug}/billing/invoices/999999/credit-notes/new").status_code == 404


def test_two_credit_notes_at_once_cannot_pass_the_bills_limit_together(app, money):
    base, company, _ = money
    bill = make_bill(app, base, company, 100_000)
    barrier = threading.Barrier(2, timeout=10)
    outcomes = []

    def issue():
        from billing.models import RentInvoice
        from operator_app.accounts.models import User

        with app.test_request_context():
            try:
                with scoped_to(base.id):
                    invoice = db.session.get(RentInvoice, bill)
                    user = db.session.get(User, base.owner.id)
                    barrier.wait()
                    payments.issue_credit_note(invoice, amount_fen=60_000, reason="减免", issued_on=date(2026, 3, 5),
                                               by=user)
                    db.session.commit()
                    outcomes.append("issued")
            except payments.CreditNoteTooLarge as refused:
                db.session.rollback()
                outcomes.append(refused.limit_fen)
            except Exception as error:  # noqa: BLE001  (reported by the test)
                outcomes.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=issue) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes, key=str) == [40_000, "issued"]
    with app.app_context(), scoped_to(base.id):
        assert [note.number for note in db.session.scalars(select(CreditNote))] == [1]


# --- The statement -------------------------------------------------------------------------------------------------

def test_the_statement_lists_everything_in_date_order_with_a_running_balance(app, browser, new_browser, money):
    base, company, other = money
    march = make_bill(app, base, company, 100_000, issued_on=date(2026, 3, 1))
    pay(app, base, company, 60_000, received_on=date(2026, 3, 10), reference="转账A")
    credit(app, base, march, 10_000, issued_on=date(2026, 3, 20))
    april = make_bill(app, base, company, 100_000, issued_on=date(2026, 4, 1))
    pay(app, base, company, 200_000, received_on=date(2026, 4, 3), reference="转账B")
    make_bill(app, base, other, 5_000)
    browser.login(base.users["staff"])
    page = text_of(browser.get(f"/b/{base.slug}/billing/companies/{company}/statement"))
    import re

    lines = re.findall(r'data-line="(\w+)-\d+"', page)
    balances = [int(value) for value in re.findall(r'data-balance="(-?\d+)"', page)]
    assert lines == ["bill", "payment", "credit_note", "bill", "payment"]
    assert balances == [100_000, 40_000, 30_000, 130_000, -70_000]
    assert 'id="statement-owed">0.00' in page and 'id="statement-credit">700.00' in page
    assert "转账A" in page and "转账B" in page and "乙科技有限公司" not in page
    assert owed(app, base, april) == 0
    # The company's contact sees its own statement and nobody else's.
    tenant = new_browser()
    tenant.login(base.users["tenant"])
    assert tenant.get(f"/b/{base.slug}/billing/companies/{company}/statement").status_code == 200
    assert tenant.get(f"/b/{base.slug}/billing/companies/{other}/statement").status_code == 404
    mentor = new_browser()
    mentor.login(base.users["mentor"])
    assert mentor.get(f"/b/{base.slug}/billing/companies/{company}/statement").status_code == 403


def test_the_statement_of_a_company_without_money_and_of_an_unknown_company(app, browser, money):
    base, company, _ = money
    browser.login(base.owner)
    page = text_of(browser.get(f"/b/{base.slug}/billing/companies/{company}/statement"))
    assert zh(app, "No bill, payment or credit note yet.") in page
    assert browser.get(f"/b/{base.slug}/billing/companies/99999999999/statement").status_code == 404


def test_a_tenant_does_not_see_the_staffs_notes_on_a_payment(app, browser, money):
    base, company, _ = money
    with app.test_request_context(), scoped_to(base.id):
        from operator_app.accounts.models import User
        from tenants.models import TenantCompany

        payment = payments.record_payment(
            db.session.get(TenantCompany, company),
            {"amount_fen": 100, "received_on": date(2026, 3, 1), "method": "cash", "reference": "R1",
             "notes": "内部备注：催了三次"}, by=db.session.get(User, base.owner.id))
        db.session.commit()
        payment_id = payment.id
    browser.login(base.users["tenant"])
    page = text_of(browser.get(f"/b/{base.slug}/billing/payments/{payment_id}"))
    assert "R1" in page and "内部备注" not in page
    with app.app_context(), unscoped("the test reads the audit log"):
        assert db.session.scalar(select(AuditEntry.after).where(AuditEntry.action == "payment.record"))["notes"] \
            == "内部备注：催了三次"
