"""The scheduled jobs killed half-way (issue 10, item 8): the quarterly filing job and the rent invoice job,
made to raise in the middle of their work, leave nothing behind (no filing, bill, line, number, stored file
row or file bytes, audit entry nor the job's claim) and the next run does exactly what a clean run does.

Each test runs two bases set up alike in one ``run_job``: the fault is injected in base A only, so base B is
the clean run A must match once the fault is gone."""
from datetime import date, datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, func, select, update

from billing import invoicing, settlement
from billing.jobs import INVOICES_JOB
from billing.models import ExtraCharge, InvoiceSequence, RentInvoice
from operator_app.accounts.models import Base, User
from operator_app.db import current_base_id, scoped_to, unscoped
from operator_app.extensions import db
from operator_app.filings import exports as filing_exports
from operator_app.filings.jobs import QUARTERLY_JOB
from operator_app.filings.models import QuarterlyFiling
from operator_app.scheduler import JobRun, run_job
from operator_app.storage import LocalStorage, storage
from tenants import report_services
from tenants.models import Lease, TenantCompany

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def own_uploads(app, tmp_path):
    """A storage folder of this test's own (base ids are reused between tests on SQLite)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(app.extensions, "storage", LocalStorage(tmp_path / "uploads"))
        yield


@pytest.fixture(autouse=True)
def savepoints_inside_a_transaction(app):
    """On SQLite, pysqlite begins its transaction only at the first write, so a SAVEPOINT before any write
    would open a transaction of its own that its RELEASE commits: a job killed later would leave that part.
    The jobs claim (INSERT job_runs) before any savepoint; this fails a test whose run issues one outside."""
    outside = []

    def check(connection, cursor, statement, parameters, context, executemany):
        if statement.startswith("SAVEPOINT") and not connection.connection.driver_connection.in_transaction:
            outside.append(statement)

    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        yield
        return
    event.listen(engine, "before_cursor_execute", check)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", check)
    assert not outside, f"SAVEPOINT outside a transaction on SQLite: {outside}"


class Fault(RuntimeError):
    """The injected crash."""


def local(year, month, day, hour=1):
    return datetime(year, month, day, hour, tzinfo=SHANGHAI)


def job(app, name, now):
    with app.app_context():
        return run_job(name, now)


def state(app, base):
    """What the base holds: the row count of every base-owned table, the numbers given, the charges billed,
    and the files in its storage folder (name -> bytes)."""
    with app.app_context(), scoped_to(base.id):
        counts = {table.name: db.session.scalar(select(func.count()).select_from(table)
                                                .where(table.c.base_id == base.id))
                  for table in db.metadata.sorted_tables if "base_id" in table.c}
        numbers = dict(db.session.execute(select(InvoiceSequence.kind, InvoiceSequence.last_number)).all())
        billed = db.session.scalars(select(ExtraCharge.invoice_id).order_by(ExtraCharge.id)).all()
        folder = Path(storage().root) / str(base.id)
        files = {path.name: path.read_bytes() for path in folder.rglob("*") if path.is_file()} \
            if folder.exists() else {}
    return {"counts": counts, "numbers": numbers, "billed": billed, "files": files}


def fail_in(base, function, after=0):
    """``function`` raising Fault in ``base`` from its (after+1)-th call there on; as it is elsewhere."""
    calls = []

    def faulty(*args, **kwargs):
        if current_base_id() == base.id:
            calls.append(1)
            if len(calls) > after:
                raise Fault(f"injected fault in {function.__name__}")
        return function(*args, **kwargs)
    return faulty


# --- The quarterly filing job -----------------------------------------------------------------------------

def filing_base(app, factory, name):
    """A base created mid-June 2026 (its first quarter is Q2) with a company that reported July."""
    base = factory.base(name=name)
    with app.app_context(), unscoped("the test backdates a base"):
        db.session.execute(update(Base).where(Base.id == base.id)
                           .values(created_at=datetime(2026, 6, 15, tzinfo=timezone.utc)))
        db.session.commit()
    company = factory.company(base, n=base.id, name="甲公司", moved_in_on=date(2026, 1, 1))
    with app.test_request_context(), scoped_to(base.id):
        report_services.save_report(db.session.get(TenantCompany, company), date(2026, 7, 1),
                                    {"revenue_fen": 1_000_000, "tax_fen": 50_000, "employees": 3},
                                    base=db.session.get(Base, base.id), submit=True, reason="",
                                    today=date(2026, 10, 5), by=db.session.get(User, base.owner.id),
                                    on_behalf=True)
        db.session.commit()
    return base


def comparable(value):
    """Figures without what differs between two bases set up alike (the base, row ids, the USCC codes)."""
    if isinstance(value, dict):
        return {key: comparable(item) for key, item in value.items()
                if key not in ("base", "id", "uscc") and not key.endswith(("_id", "_ids"))}
    if isinstance(value, list):
        return [comparable(item) for item in value]
    return value


def filings(app, base):
    """(year, quarter, version, status, comparable figures, generated_at, file keys)."""
    with app.app_context(), scoped_to(base.id):
        rows = db.session.scalars(select(QuarterlyFiling).order_by(QuarterlyFiling.year, QuarterlyFiling.quarter,
                                                                   QuarterlyFiling.version)).all()
        return [(f.year, f.quarter, f.version, f.status, comparable(f.figures),
                 f.generated_at, tuple(getattr(f, f"{kind}_file").key.rsplit("/", 1)[1]
                                       for kind in ("xlsx", "csv", "json"))) for f in rows]


def claims(app, base):
    with app.app_context(), scoped_to(base.id):
        return db.session.execute(select(JobRun.job, JobRun.period).order_by(JobRun.period)).all()


def without_keys(rows):
    return [row[:-1] for row in rows]


@pytest.mark.parametrize("writer", ["filing_xlsx", "filing_csv", "filing_json"])
def test_the_filing_job_killed_while_writing_the_files_leaves_nothing_and_the_next_run_files(
        app, factory, monkeypatch, writer):
    faulty, clean = filing_base(app, factory, "甲基地"), filing_base(app, factory, "乙基地")
    before = state(app, faulty)

    # The first quarter's files are half written (the xlsx and the csv bytes stored before the json raises).
    monkeypatch.setattr(filing_exports, writer, fail_in(faulty, getattr(filing_exports, writer)))
    result = job(app, QUARTERLY_JOB, local(2026, 10, 1))
    assert (result.failed, result.done) == ([faulty.id], [clean.id])
    assert state(app, faulty) == before                   # no filing, stored file, bytes, audit entry nor claim
    assert filings(app, faulty) == [] and claims(app, faulty) == []

    monkeypatch.undo()
    assert job(app, QUARTERLY_JOB, local(2026, 10, 1)).done == [faulty.id]  # clean already claimed its day
    assert without_keys(filings(app, faulty)) == without_keys(filings(app, clean))
    assert [row[:3] for row in filings(app, faulty)] == [(2026, 2, 1), (2026, 3, 1)]  # one version each
    assert state(app, faulty)["counts"] == state(app, clean)["counts"]
    assert len(state(app, faulty)["files"]) == 6                  # three files per filing, nothing more
    assert sorted(state(app, faulty)["files"]) == sorted(key for row in filings(app, faulty) for key in row[-1])


def test_the_filing_job_killed_while_regenerating_a_draft_keeps_the_draft_and_its_files(app, factory,
                                                                                        monkeypatch):
    faulty, clean = filing_base(app, factory, "甲基地"), filing_base(app, factory, "乙基地")
    assert job(app, QUARTERLY_JOB, local(2026, 10, 1)).done == [faulty.id, clean.id]
    drafts = filings(app, faulty)
    before = state(app, faulty)

    # The next morning's regeneration: Q2's draft rewritten, then Q3's json raises.
    monkeypatch.setattr(filing_exports, "filing_json",
                        fail_in(faulty, filing_exports.filing_json, after=1))
    result = job(app, QUARTERLY_JOB, local(2026, 10, 2))
    assert (result.failed, result.done) == ([faulty.id], [clean.id])
    assert state(app, faulty) == before                   # the old drafts' rows and bytes, no new bytes
    assert filings(app, faulty) == drafts
    assert claims(app, faulty) == [(QUARTERLY_JOB, "2026-10-01")]

    monkeypatch.undo()
    assert job(app, QUARTERLY_JOB, local(2026, 10, 2)).done == [faulty.id]
    regenerated = filings(app, faulty)
    assert without_keys(regenerated) == without_keys(filings(app, clean))
    assert [row[:3] for row in regenerated] == [(2026, 2, 1), (2026, 3, 1)]
    files = state(app, faulty)["files"]
    assert sorted(files) == sorted(key for row in regenerated for key in row[-1])  # the old drafts' files gone
    assert not set(files) & {key for row in drafts for key in row[-1]}


# --- The rent invoice job ---------------------------------------------------------------------------------

SETTINGS = {"invoicing_enabled": True, "first_month": date(2026, 3, 1), "due_days": 15, "number_prefix": "ZD-",
            "payee_name": "", "bank_name": "", "bank_account": "", "payment_notes": ""}


def billing_base(app, factory, name):
    """A base with billing on from March 2026, three leases and a pending electricity charge on the first."""
    base = factory.base(name=name)
    leases = [factory.lease(base, factory.company(base, name=f"{name}企业{n}"), actual_rent_fen=3000 + n * 100)
              for n in range(3)]
    with app.test_request_context(), scoped_to(base.id):
        owner = db.session.get(User, base.owner.id)
        invoicing.save_settings(SETTINGS, expected_version=None, by=owner)
        invoicing.add_charge(db.session.get(Lease, leases[0]), {"month": "2026-03", "kind": "utilities",
                                                                 "description": "3 月电费", "amount_fen": 12_345},
                             by=owner)
        db.session.commit()
    return base, leases


def bills(app, base, leases):
    """Every bill of the base by number, its lease as its position among the base's leases."""
    with app.app_context(), scoped_to(base.id):
        rows = db.session.scalars(select(RentInvoice).order_by(RentInvoice.number)).all()
        return [(b.number, b.kind, leases.index(b.lease_id), b.period, b.issued_on, b.due_on, b.total_fen,
                 [(line.position, line.kind, line.amount_fen, line.description, line.starts_on, line.ends_on)
                  for line in b.lines]) for b in rows]


FAULTS = {
    # the 5th bill's audit entry, in its savepoint, after four bills were flushed and their savepoints released
    "fifth bill": lambda base: (invoicing, "_record_issue", fail_in(base, invoicing._record_issue, after=4)),
    # the numbering of the 7th bill
    "seventh number": lambda base: (invoicing.numbering, "next_number",
                                    fail_in(base, invoicing.numbering.next_number, after=6)),
    # the settlement after every bill was added to the session
    "settlement": lambda base: (settlement, "settle", fail_in(base, settlement.settle)),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_the_invoice_job_killed_half_way_issues_no_bill_and_the_next_run_numbers_them_without_gaps(
        app, factory, monkeypatch, fault):
    (faulty, faulty_leases), (clean, clean_leases) = billing_base(app, factory, "甲"), billing_base(app, factory, "乙")
    before = state(app, faulty)

    monkeypatch.setattr(*FAULTS[fault](faulty))
    result = job(app, INVOICES_JOB, local(2026, 5, 1))
    assert (result.failed, result.done) == ([faulty.id], [clean.id])
    assert state(app, faulty) == before        # no bill, line, allocation, number, billed charge, audit, claim
    assert bills(app, faulty, faulty_leases) == [] and claims(app, faulty) == []

    monkeypatch.undo()
    assert job(app, INVOICES_JOB, local(2026, 5, 1)).done == [faulty.id]
    issued = bills(app, faulty, faulty_leases)
    assert [bill[0] for bill in issued] == list(range(1, 10))   # March to May, three leases: 1..9, no gap
    assert issued == bills(app, clean, clean_leases)
    after, reference = state(app, faulty), state(app, clean)
    assert after["counts"] == reference["counts"] and after["numbers"] == reference["numbers"] == {"invoice": 9}
    assert after["billed"] != [None] and len(after["billed"]) == 1
