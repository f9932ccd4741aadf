"""Benchmark: the quarterly filing (issue 8).

Targets: the filing of a base with 300 companies in under 1 s; the scheduled job over all bases of a 200-base
operator in under 30 s, with memory that does not grow with the number of bases.

Measures, on data built with bulk inserts (not the per-row services):
1. ``generate()`` of 2026 Q3 for a base with 300 housed companies (mid-quarter moves in and out, graduates,
   ~95% of the monthly reports, ~1,500 ledger entries with sign-ins, one lease per company, market quotes,
   workstation attendance): median and p95 of regenerating the draft, and its SQL statements;
2. ``run_job("filings.quarterly")`` at 2026-10-01 01:00 Asia/Shanghai over 50, 100 and 200 bases of one operator
   (100 companies, 3 months of reports and ~100 ledger entries each), each run in a fresh process: total time,
   SQL statements, peak RSS growth, and (in a second run with tracemalloc) the peak of traced Python memory.
   The database holds all 201 bases; for a run over N the others are made to look created in 2027, so the job
   only claims the day for them and files nothing;
3. a floor: one aggregate SQL query of the same headline figures for the 300-company base, written with
   xlsxwriter in constant_memory mode; the table gives generate ÷ floor.

Run: .venv/bin/python -m benchmarks.quarterly_filing   (SQLite in a temporary folder; DATABASE_URL to use an empty
PostgreSQL database instead). ``--profile`` adds the phases of one generate and the top functions of cProfile.
"""
import argparse
import cProfile
import io
import json
import os
import pstats
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from flask_migrate import upgrade
from sqlalchemy import and_, case, delete, event, func, insert, or_, select, update

from benchmarks.generate import insert_rows, random_day
from operator_app import create_app
from operator_app.config import normalise_database_url
from operator_app.db import scoped_to, unscoped
from operator_app.extensions import db

SHANGHAI = ZoneInfo("Asia/Shanghai")
YEAR, QUARTER = 2026, 3
TODAY = date(2026, 10, 1)
JOB_NOW = datetime(2026, 10, 1, 1, 0, tzinfo=SHANGHAI)  # the day after Q3 ends: only Q3 is due (bases made 1 July)
CREATED = datetime(2026, 7, 1, tzinfo=SHANGHAI)
FENCED = datetime(2027, 1, 1, tzinfo=SHANGHAI)  # a base created after the quarter has nothing to file yet
BIG_COMPANIES, BIG_LEDGER = 300, 1500
OPERATOR_BASES, BASE_COMPANIES, BASE_LEDGER = 200, 100, 100
JOB_SIZES = (50, 100, 200)
RUNS = 10
CATEGORIES = ("information", "coaching", "innovation", "training", "marketing", "financing", "consulting",
              "professional")


# --- Data -------------------------------------------------------------------------------------------------------

def build_base(operator_id, slug, *, companies, ledger, seed, created_at=CREATED):
    """One base of ``operator_id`` holding ``companies`` companies housed at the end of 2026 Q3 (10% moved in
    during it) plus those that left in it, earlier graduates and applicants; their monthly reports (~95% of the
    company-months due, a few left as drafts), ``ledger`` entries in the quarter (45% requests, 40% visits, 15%
    activities with 5–20 sign-ins each), a lease per company, market quotes and workstation attendance.
    Returns the base id."""
    from operator_app.accounts.models import Base

    session = db.session
    session.execute(insert(Base), [{"operator_id": operator_id, "name": f"基准基地{slug}", "slug": slug,
                                    "base_type": "industrial", "service_functions": list(CATEGORIES[:4]),
                                    "tenant_count_standard": companies * 2, "created_at": created_at}])
    base_id = session.scalar(select(Base.id).where(Base.slug == slug))
    with scoped_to(base_id):
        _fill_base(session, base_id, companies=companies, ledger=ledger, seed=seed)
    return base_id


def _fill_base(session, base_id, *, companies, ledger, seed):
    from ledger.models import Activity, ServiceRequest, SignIn, Visit
    from tenants import constants as tc
    from tenants.models import (Attendance, BaseRules, Lease, MarketQuote, MonthlyReport, TenantCompany,
                                WorkstationPerson)
    from tenants.reports import expected_of, may_report, month_end
    from operator_app.filings.quarterly import quarter_bounds, quarter_months

    rng = random.Random(seed)
    start, end = quarter_bounds(YEAR, QUARTER)
    months = quarter_months(YEAR, QUARTER)
    slug = f"b{base_id}"
    owned = {"base_id": base_id}
    session.execute(insert(BaseRules), [{**owned, "allowed_industries": [], "required_documents": []}])

    # Companies: (status, moved_in_on, moved_out_on, is_workstation)
    plan = []
    for n in range(companies):
        moved_in = (random_day(rng, start, date(2026, 9, 20)) if n % 10 == 0
                    else random_day(rng, date(2023, 1, 1), date(2026, 6, 30)))
        plan.append((tc.STATUS_IN_RESIDENCE, moved_in, None, n % 15 == 1))
    for n in range(max(1, companies // 15)):  # left during the quarter: two exits for each graduate
        status = tc.STATUS_GRADUATED if n % 3 == 0 else tc.STATUS_EXITED
        plan.append((status, random_day(rng, date(2023, 1, 1), date(2026, 3, 31)), random_day(rng, start, end), False))
    for _ in range(max(1, companies // 20)):  # graduated earlier, still followed
        plan.append((tc.STATUS_GRADUATED, date(2022, 3, 1), random_day(rng, date(2024, 1, 1), date(2026, 6, 30)),
                     False))
    for _ in range(max(1, companies // 30)):
        plan.append((tc.STATUS_APPLICANT, None, None, False))
    insert_rows(session, insert(TenantCompany), [
        {**owned, "name": f"{slug}企业{n:04d}", "uscc": None if n % 25 == 7 else f"9114{seed:05d}{n:05d}MA0X",
         "is_team": n % 25 == 7, "team_evidence": "团队" if n % 25 == 7 else "", "industry": "I",
         "zone": "incubation", "unit": f"{n // 40 + 1}-{n:03d}", "is_workstation": workstation,
         "workstation_count": 3 if workstation else None, "area_m2": None if workstation else 80 + n % 5 * 20,
         "status": status, "moved_in_on": moved_in, "moved_out_on": moved_out, "licence_in_base": True,
         "staff_on_site": True, "equipment_on_site": True}
        for n, (status, moved_in, moved_out, workstation) in enumerate(plan)])
    made = session.execute(select(TenantCompany.id, TenantCompany.status, TenantCompany.moved_in_on,
                                  TenantCompany.moved_out_on, TenantCompany.is_workstation)
                           .where(TenantCompany.base_id == base_id).order_by(TenantCompany.id)).all()
    housed = [row for row in made if row.moved_in_on is not None and row.moved_out_on is None]

    reports = []
    for row in made:
        company = SimpleNamespace(status=row.status, moved_in_on=row.moved_in_on, moved_out_on=row.moved_out_on)
        for month_on in months:
            if expected_of(company, month_on):
                if rng.random() >= 0.95:
                    continue  # ~5% missing: listed as a gap
            elif not (may_report(company, month_on) and row.moved_out_on and rng.random() < 0.5):
                continue  # half of the companies that left mid-month reported that part month
            draft = rng.random() < 0.01
            revenue = rng.randrange(50_000_00, 2_000_000_00)  # 5万 to 200万 yuan a month, in fen
            due = month_end(month_on) + timedelta(days=10)
            reports.append({**owned, "company_id": row.id, "month_on": month_on,
                            "status": tc.REPORT_DRAFT if draft else tc.REPORT_SUBMITTED,
                            "revenue_fen": revenue, "tax_fen": revenue // rng.choice((12, 16, 20, 25)),
                            "employees": rng.randrange(3, 60), "revision": 0 if draft else 1,
                            "submitted_at": None if draft else datetime.combine(due - timedelta(days=3),
                                                                                datetime.min.time(), timezone.utc),
                            "first_submitted_on": None if draft else due - timedelta(days=3),
                            "due_on": due, "warnings": []})
    insert_rows(session, insert(MonthlyReport), reports)

    # Rent: one lease per housed company, quotes for both space types.
    insert_rows(session, insert(Lease), [
        {**owned, "company_id": row.id, "space_type": "workstation" if row.is_workstation else "office",
         "units": f"U-{row.id}", "area_m2": None if row.is_workstation else 100, "seats": 3 if row.is_workstation
         else None, "starts_on": max(row.moved_in_on, date(2025, 1, 1)), "ends_on": date(2027, 12, 31),
         "list_rent_fen": 4500 if not row.is_workstation else 50000,
         "actual_rent_fen": 3000 if not row.is_workstation else 30000, "free_months": n % 3,
         "discounted_months": 0, "discounted_rent_fen": None, "deposit_fen": 0}
        for n, row in enumerate(housed)])
    session.execute(insert(MarketQuote), [
        {**owned, "quoted_on": date(2026, 8, 1) - timedelta(days=30 * n), "source": "agency",
         "source_name": "中介", "location": "晋阳街", "space_type": space, "price_fen": price + 100 * n}
        for n in range(3) for space, price in (("office", 5000), ("workstation", 60000))])

    # Workstation attendance: three people per workstation company, on site ~4 weekdays of 5.
    stations = [row for row in housed if row.is_workstation]
    insert_rows(session, insert(WorkstationPerson), [
        {**owned, "company_id": row.id, "name": f"工位{row.id}-{k}", "phone": f"139{row.id:05d}{k:03d}",
         "pin_hash": "x", "pin_version": 1, "active_from": date(2026, 1, 1)} for row in stations for k in range(3)])
    people = session.execute(select(WorkstationPerson.id, WorkstationPerson.company_id)
                             .where(WorkstationPerson.base_id == base_id)).all()
    weekdays = [start + timedelta(days=d) for d in range((end - start).days + 1)
                if (start + timedelta(days=d)).weekday() < 5]
    insert_rows(session, insert(Attendance), [
        {**owned, "person_id": person_id, "company_id": company_id, "present_on": day, "is_present": True,
         "source": "qr"} for person_id, company_id in people for day in weekdays if rng.random() < 0.8])

    # The service ledger of the quarter.
    requests, visits, activities = int(ledger * 0.45), int(ledger * 0.40), ledger - int(ledger * 0.45) - int(
        ledger * 0.40)

    def occurred():
        return random_day(rng, start, end)

    def gone():  # ~2% withdrawn by mistake
        return datetime(2026, 10, 1, tzinfo=timezone.utc) if rng.random() < 0.02 else None

    insert_rows(session, insert(ServiceRequest), [
        {**owned, "company_id": rng.choice(housed).id, "channel": "phone", "content": f"诉求{n}：想了解创业担保贷款",
         "received_at": datetime.combine(day, datetime.min.time(), timezone.utc), "status": "resolved",
         "category": rng.choice(CATEGORIES), "occurred_on": day, "deleted_at": gone()}
        for n, day in ((n, occurred()) for n in range(requests))])
    insert_rows(session, insert(Visit), [
        {**owned, "company_id": rng.choice(housed).id, "purpose": f"走访{n}：了解经营情况", "content": "座谈",
         "category": rng.choice(CATEGORIES), "occurred_on": occurred(), "deleted_at": gone()}
        for n in range(visits)])
    activity_rows = []
    for n in range(activities):
        day = occurred()
        starts = datetime.combine(day, datetime.min.time(), timezone.utc) + timedelta(hours=6)
        activity_rows.append({**owned, "title": f"活动{n}：创业培训沙龙", "starts_at": starts,
                              "ends_at": starts + timedelta(hours=2), "ends_on": day, "place": "一楼路演厅",
                              "signin_code": f"code{seed}-{n}", "signin_hours_after": 2,
                              "sheet_people": 3 if n % 4 == 0 else None, "sheet_companies": 1 if n % 4 == 0 else None,
                              "category": rng.choice(CATEGORIES), "occurred_on": day, "deleted_at": gone()})
    insert_rows(session, insert(Activity), activity_rows)
    activity_ids = session.scalars(select(Activity.id).where(Activity.base_id == base_id)).all()
    signins = []
    for activity_id in activity_ids:
        for k in range(rng.randrange(5, 21)):
            company = rng.choice(housed) if rng.random() < 0.7 else None
            signins.append({**owned, "activity_id": activity_id, "name": f"参会{k}",
                            "phone": f"138{activity_id:05d}{k:03d}",
                            "company_name": "外部单位" if company is None else "入驻企业",
                            "company_id": company.id if company else None,
                            "signed_at": datetime(2026, 8, 1, tzinfo=timezone.utc)})
    insert_rows(session, insert(SignIn), signins)


def build(app):
    """The 300-company base (its own operator) and the 200 bases of one operator. Returns the big base's id."""
    from operator_app.accounts.models import Operator

    with app.app_context():
        session = db.session
        session.execute(insert(Operator), [{"name": "单基地运营单位"}, {"name": "多基地运营单位"}])
        single, multi = session.scalars(select(Operator.id).order_by(Operator.id)).all()
        big = build_base(single, "big", companies=BIG_COMPANIES, ledger=BIG_LEDGER, seed=0)
        session.commit()
        for n in range(OPERATOR_BASES):
            build_base(multi, f"op{n:03d}", companies=BASE_COMPANIES, ledger=BASE_LEDGER, seed=n + 1)
            if n % 20 == 19:
                session.commit()
        session.commit()
        db.session.remove()
    return big


# --- 1. generate() of the 300-company base ------------------------------------------------------------------

def _count_statements(app):
    statements = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(1))
    return statements


def generate_once(app, base_id):
    """Regenerate the base's Q3 draft in a fresh session, as the job does; returns (seconds, CPU seconds of this
    process, the filing's figures)."""
    from operator_app.accounts.models import Base
    from operator_app.filings.services import generate

    with app.app_context(), scoped_to(base_id):
        base = db.session.get(Base, base_id)
        started, cpu = time.perf_counter(), time.process_time()
        filing = generate(base, YEAR, QUARTER, today=TODAY, now=datetime(2026, 10, 1, tzinfo=timezone.utc))
        db.session.commit()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        figures = filing.figures
    with app.app_context():
        db.session.remove()
    return elapsed, cpu, figures


def profile_generate(app, base_id):
    """The phases of one generate (figures, snapshot, files) and the top of its cProfile."""
    from operator_app.accounts.models import Base
    from operator_app.filings import exports, snapshot
    from operator_app.filings.quarterly import quarter_figures
    from operator_app.filings.services import generate, latest

    print("\nPhases of one generate (fresh session; each phase re-run on its own):")
    with app.app_context(), scoped_to(base_id):
        base = db.session.get(Base, base_id)
        started = time.perf_counter()
        figures = quarter_figures(base, YEAR, QUARTER, TODAY)
        t_figures = time.perf_counter() - started
        started = time.perf_counter()
        built = snapshot.build(base, figures, TODAY)
        t_snapshot = time.perf_counter() - started
        filing = latest(YEAR, QUARTER)
        filing.figures = built
        timings = {}
        for name, writer in (("xlsx", exports.filing_xlsx), ("csv", exports.filing_csv),
                             ("json", exports.filing_json)):
            started = time.perf_counter()
            writer(filing)
            timings[name] = time.perf_counter() - started
        db.session.rollback()
    with app.app_context():
        db.session.remove()
    print(f"  quarter_figures {t_figures * 1000:7.1f} ms   snapshot.build {t_snapshot * 1000:7.1f} ms   "
          + "   ".join(f"{name} {seconds * 1000:6.1f} ms" for name, seconds in timings.items()))

    profiler = cProfile.Profile()
    with app.app_context(), scoped_to(base_id):
        base = db.session.get(Base, base_id)
        profiler.enable()
        generate(base, YEAR, QUARTER, today=TODAY, now=datetime(2026, 10, 1, tzinfo=timezone.utc))
        db.session.commit()
        profiler.disable()
    with app.app_context():
        db.session.remove()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("cumulative").print_stats(35)
    stats.sort_stats("tottime").print_stats(15)
    print(out.getvalue())


# --- 3. The floor ----------------------------------------------------------------------------------------------

def floor_once(app, base_id, folder, per_company=False):
    """One aggregate query of the headline figures (per company with ``per_company``), written to an xlsx in
    constant_memory mode. Returns (seconds, figures).

    The rules of quarter_figures: housed = moved in (in residence, exited or graduated) by the quarter's end and
    not left by then; money = the submitted reports of the quarter of the companies that could report that month
    (in the base for part of it); employees = the last month's reports of the companies housed at the end."""
    import xlsxwriter

    from tenants import constants as tc
    from tenants.models import MonthlyReport as R, TenantCompany as C
    from tenants.reports import month_end
    from operator_app.filings.quarterly import quarter_bounds, quarter_months

    start, end = quarter_bounds(YEAR, QUARTER)
    months = quarter_months(YEAR, QUARTER)
    in_base = (tc.STATUS_IN_RESIDENCE, tc.STATUS_EXITED, tc.STATUS_GRADUATED)
    housed = and_(C.status.in_(in_base), C.moved_in_on <= end, or_(C.moved_out_on.is_(None), C.moved_out_on > end))
    could_report = or_(*[and_(R.month_on == m, or_(C.moved_in_on.is_(None), C.moved_in_on <= month_end(m)),
                              or_(C.moved_out_on.is_(None), C.moved_out_on >= m)) for m in months])
    employees = func.sum(case((and_(R.month_on == months[-1], housed), R.employees), else_=0))
    money = (select(func.sum(R.revenue_fen).label("revenue"), func.sum(R.tax_fen).label("tax"),
                    employees.label("employees"))
             .join(C, C.id == R.company_id)
             .where(R.base_id == base_id, R.status == tc.REPORT_SUBMITTED, R.month_on >= start, R.month_on <= end,
                    C.deleted_at.is_(None), C.status.not_in((tc.STATUS_APPLICANT, tc.STATUS_REJECTED)),
                    could_report))
    housed_count = (select(func.count()).select_from(C).where(C.base_id == base_id, C.deleted_at.is_(None), housed)
                    .scalar_subquery())
    path = os.path.join(folder, "floor.xlsx")
    with app.app_context(), unscoped("the floor reads one base by an explicit filter"):
        started = time.perf_counter()
        if per_company:
            statement = money.add_columns(C.id, C.name, housed_count.label("housed")).group_by(C.id, C.name)
            rows = db.session.execute(statement.order_by(C.name)).all()
            figures = {"housed": rows[0].housed if rows else 0, "revenue_fen": sum(r.revenue for r in rows),
                       "tax_fen": sum(r.tax for r in rows), "employees": sum(r.employees for r in rows)}
        else:
            row = db.session.execute(money.add_columns(housed_count.label("housed"))).one()
            rows = [row]
            figures = {"housed": row.housed, "revenue_fen": row.revenue, "tax_fen": row.tax,
                       "employees": row.employees}
        book = xlsxwriter.Workbook(path, {"constant_memory": True})
        sheet = book.add_worksheet("Summary")
        for col, key in enumerate(figures):
            sheet.write_string(0, col, key)
            sheet.write_number(1, col, figures[key])
        if per_company:
            for n, row in enumerate(rows, start=3):
                sheet.write_string(n, 0, row.name)
                sheet.write_number(n, 1, row.revenue / 1_000_000)
                sheet.write_number(n, 2, row.tax / 1_000_000)
                sheet.write_number(n, 3, row.employees)
        book.close()
        elapsed = time.perf_counter() - started
    with app.app_context():
        db.session.remove()
    return elapsed, figures


# --- 2. The scheduled job over N bases, each run in a fresh process -----------------------------------------

def _memory_kib(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak_rss():
    """Make VmHWM (the peak RSS) start again from the current RSS (Linux: "5" in /proc/self/clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        pass  # the growth then counts from the process's earlier peak: an underestimate, never an overestimate


def prepare_job_run(app, bases, folder):
    """Forget earlier runs (filings, their files, claims) and leave exactly the first ``bases`` bases of the
    operator with a quarter to file (the others, the 300-company base included, look created in 2027)."""
    from operator_app.accounts.models import Base
    from operator_app.filings.models import QuarterlyFiling
    from operator_app.scheduler import JobRun
    from operator_app.storage import StoredFile

    with app.app_context(), unscoped("the benchmark resets every base between runs"):
        db.session.execute(delete(QuarterlyFiling))
        db.session.execute(delete(StoredFile))
        db.session.execute(delete(JobRun))
        ids = db.session.scalars(select(Base.id).where(Base.slug.like("op%")).order_by(Base.slug)).all()
        chosen = ids[:bases]
        db.session.execute(update(Base).values(created_at=FENCED))
        db.session.execute(update(Base).where(Base.id.in_(chosen)).values(created_at=CREATED))
        db.session.commit()
    with app.app_context():
        db.session.remove()
    for entry in os.listdir(folder):
        if entry.isdigit():
            shutil.rmtree(os.path.join(folder, entry))


def job_worker(url, folder, bases, trace):
    """One job run over ``bases`` bases in this (fresh) process; prints its measures as JSON."""
    import gc

    from operator_app.filings.jobs import QUARTERLY_JOB
    from operator_app.filings.models import QuarterlyFiling
    from operator_app.scheduler import run_job

    app = make_app(url, folder)
    prepare_job_run(app, bases, folder)
    statements = _count_statements(app)
    commits = []  # the database COMMIT of each base (not a savepoint's release)
    with app.app_context():
        event.listen(db.engine, "commit", lambda connection: commits.append(time.perf_counter()))
        gc.collect()
        _reset_peak_rss()
        rss_before = _memory_kib("VmRSS")
        if trace:
            tracemalloc.start()
        started, cpu = time.perf_counter(), time.process_time()
        result = run_job(QUARTERLY_JOB, JOB_NOW)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        gc.collect()
        # ms per filing base (bases are visited by id: the fenced 300-company base, then the N that file), the
        # first quarter of them against the last quarter: a cost growing with the bases shows here
        gaps = [(b - a) * 1000 for a, b in zip([started] + commits, commits)][1:bases + 1]
        first, last = gaps[:max(1, bases // 4)], gaps[-max(1, bases // 4):]
        traced_now, traced_peak = tracemalloc.get_traced_memory() if trace else (None, None)
        peak_rss = _memory_kib("VmHWM")
        with unscoped("the benchmark counts the filings made"):
            filings = db.session.scalar(select(func.count()).select_from(QuarterlyFiling))
    print(json.dumps({"bases": bases, "seconds": elapsed, "cpu": cpu, "done": len(result.done),
                      "failed": len(result.failed),
                      "skipped": len(result.skipped), "statements": len(statements), "rss_before_kib": rss_before,
                      "rss_growth_kib": peak_rss - rss_before, "traced_peak": traced_peak,
                      "traced_retained": traced_now, "filings": filings,
                      "first_ms": statistics.median(first), "last_ms": statistics.median(last),
                      "median_ms": statistics.median(gaps), "p95_ms": percentile(gaps, 0.95), "max_ms": max(gaps)}))


def run_worker(url, folder, bases, trace):
    command = [sys.executable, "-m", "benchmarks.quarterly_filing", "--job-worker", str(bases), "--url", url,
               "--folder", folder] + (["--trace"] if trace else [])
    done = subprocess.run(command, capture_output=True, text=True, cwd=os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- Main --------------------------------------------------------------------------------------------------

def make_app(url, folder):
    return create_app("testing", {"SQLALCHEMY_DATABASE_URI": normalise_database_url(url), "UPLOAD_FOLDER": folder})


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * fraction + 0.5) - 1)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", action="store_true", help="phases and cProfile of one generate")
    parser.add_argument("--skip-job", action="store_true", help="only the 300-company base and the floor")
    parser.add_argument("--summary", help="also write the headline numbers to this JSON file (benchmarks/__main__.py)")
    parser.add_argument("--job-worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.job_worker:
        return job_worker(args.url, args.folder, args.job_worker, args.trace)

    folder = tempfile.mkdtemp()
    try:
        run(args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run(args, folder):
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{folder}/bench.db"
    app = make_app(url, folder)
    with app.app_context():
        upgrade()
    started = time.perf_counter()
    big = build(app)
    print(f"built {OPERATOR_BASES + 1} bases in {time.perf_counter() - started:.1f} s on "
          f"{app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}; {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.2f}")

    # 1. generate() of the 300-company base: the first run makes the draft, the others regenerate it.
    statements = _count_statements(app)
    generate_once(app, big)
    timings, cpus, counts = [], [], []
    for _ in range(RUNS):
        statements.clear()
        seconds, cpu, figures = generate_once(app, big)
        timings.append(seconds * 1000)
        cpus.append(cpu * 1000)
        counts.append(len(statements))
    indicators = figures["indicators"]

    # 3. The floor, checked against the filing's own figures.
    floors, floor_rows = [], []
    for _ in range(RUNS):
        seconds, floor = floor_once(app, big, folder)
        floors.append(seconds * 1000)
        seconds, _ = floor_once(app, big, folder, per_company=True)
        floor_rows.append(seconds * 1000)
    filed = {"housed": indicators["housed"], "revenue_fen": figures["money_fen"]["revenue"],
             "tax_fen": figures["money_fen"]["tax"], "employees": indicators["employees"]}
    if floor != filed:  # the floor no longer computes what the filing does (its rules changed): say so
        print(f"WARNING: the floor's figures {floor} differ from the filing's {filed}")

    print(f"300-company base, 2026 Q3: {indicators['housed']} housed, {indicators['moved_in']} moved in, "
          f"{indicators['exited']} left, {indicators['months_missing']} company-months missing, "
          f"{len(figures['service_entries'])} ledger entries, {indicators['participants']} participants")
    print(f"\n{'measure':46} {'median':>9} {'p95':>9} {'SQL':>6} {'target':>8}")
    median = statistics.median(timings)
    print(f"{'generate(), 300 companies (ms)':46} {median:9.1f} {percentile(timings, 0.95):9.1f} "
          f"{max(counts):6d} {'< 1000':>8}  {'met' if percentile(timings, 0.95) < 1000 else 'MISSED'}")
    print(f"{'  of which CPU of this process (ms)':46} {statistics.median(cpus):9.1f} {percentile(cpus, 0.95):9.1f}")
    print(f"{'floor: 1 aggregate query + xlsx (ms)':46} {statistics.median(floors):9.1f} "
          f"{percentile(floors, 0.95):9.1f} {1:6d}")
    print(f"{'floor: per-company query + xlsx rows (ms)':46} {statistics.median(floor_rows):9.1f} "
          f"{percentile(floor_rows, 0.95):9.1f} {1:6d}")
    ratio, ratio_p95 = median / statistics.median(floors), percentile(timings, 0.95) / percentile(floors, 0.95)
    print(f"{'generate / floor (median, p95)':46} {ratio:8.0f}x {ratio_p95:8.0f}x  "
          f"{'<= 2x':>14}  {'met' if ratio <= 2 else 'MISSED'}")
    print(f"{'generate / per-company floor (median, p95)':46} {median / statistics.median(floor_rows):8.0f}x "
          f"{percentile(timings, 0.95) / percentile(floor_rows, 0.95):8.0f}x")
    summary = {"database": app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0], "generate_median_ms": median,
               "generate_p95_ms": percentile(timings, 0.95), "generate_sql": max(counts),
               "floor_median_ms": statistics.median(floors), "floor_p95_ms": percentile(floors, 0.95),
               "per_company_floor_median_ms": statistics.median(floor_rows),
               "per_company_floor_p95_ms": percentile(floor_rows, 0.95), "ratio_median": ratio,
               "ratio_p95": ratio_p95, "jobs": {}}

    if args.profile:
        profile_generate(app, big)
    if args.skip_job:
        return _write_summary(args, summary)

    # 2. The job over 50, 100 and 200 bases, each in a fresh process (timed, then again under tracemalloc).
    with app.app_context():
        db.session.remove()
        db.engine.dispose()  # SQLite: leave the file to the workers
    print(f"\n{'run_job(filings.quarterly)':28} {'filed':>5} {'s':>7} {'cpu s':>6} {'ms/base':>8} {'first/last':>11} "
          f"{'p95':>5} {'SQL':>7} {'SQL/base':>8} {'RSS grow MiB':>12} {'traced peak MiB':>15} {'retained MiB':>12}")
    for bases in JOB_SIZES:
        timed = run_worker(url, folder, bases, trace=False)
        traced = run_worker(url, folder, bases, trace=True)
        for run in (timed, traced):
            assert run["done"] == OPERATOR_BASES + 1 and run["filings"] == bases and not run["failed"], run
        print(f"{f'{bases} bases x {BASE_COMPANIES} companies':28} {timed['filings']:5d} {timed['seconds']:7.2f} "
              f"{timed['cpu']:6.2f} {timed['seconds'] * 1000 / bases:8.1f} "
              f"{timed['first_ms']:5.0f}/{timed['last_ms']:<5.0f} {timed['p95_ms']:5.0f} "
              f"{timed['statements']:7d} "
              f"{timed['statements'] / bases:8.1f} {timed['rss_growth_kib'] / 1024:12.1f} "
              f"{traced['traced_peak'] / 2**20:15.1f} {traced['traced_retained'] / 2**20:12.1f}"
              + (f"  target < 30 s: {'met' if timed['seconds'] < 30 else 'MISSED'}" if bases == 200 else ""))
        summary["jobs"][bases] = {"seconds": timed["seconds"], "median_ms": timed["median_ms"],
                                  "p95_ms": timed["p95_ms"], "rss_growth_mib": timed["rss_growth_kib"] / 1024,
                                  "traced_peak_mib": traced["traced_peak"] / 2**20}
    print(f"(every run visits all {OPERATOR_BASES + 1} bases; those beyond the first N were made to look created "
          f"in 2027, so they only claim the day and file nothing; ms/base: mean; first/last: median ms of the first "
          f"and the last quarter of the filing bases; p95: of the ms per filing base; load average now "
          f"{os.getloadavg()[0]:.2f})")
    _write_summary(args, summary)


def _write_summary(args, summary):
    if args.summary:
        with open(args.summary, "w") as out:
            json.dump(summary, out)


if __name__ == "__main__":
    main()
