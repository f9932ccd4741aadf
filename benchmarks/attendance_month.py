"""Benchmark: the monthly attendance page of a base with 200 workstation people (target: under 200 ms), and the
number of SQL statements it runs (constant, no per-person queries).

Run: .venv/bin/python -m benchmarks.attendance_month   (SQLite in a temporary folder; DATABASE_URL to use another)
"""
import os
import statistics
import tempfile
import time
from datetime import date, timedelta

from flask_migrate import upgrade
from sqlalchemy import event, insert

from benchmarks.generate import insert_rows
from operator_app import create_app
from operator_app.db import scoped_to
from operator_app.extensions import db

PEOPLE, COMPANIES, RUNS = 200, 40, 30


def build(app):
    from operator_app.accounts import services
    from operator_app.security import hash_password
    from tenants.models import Attendance, WorkstationPerson
    from tenants.services import create_company

    with app.test_request_context():
        owner, base = services.sign_up_operator(
            operator_name="基准运营单位", base_name="基准基地", base_slug="bench", base_type="industrial",
            user_name="基准", email="bench@example.com", password="Bench-password-2026")
        base.tenant_count_standard = 1000
        db.session.commit()
        with scoped_to(base.id):
            companies = [create_company({"name": f"工位企业{n}", "uscc": None, "is_team": True,
                                         "team_evidence": "基准", "industry": "I", "zone": "incubation",
                                         "is_workstation": True, "workstation_count": 5}, status="in_residence",
                                        by=owner) for n in range(COMPANIES)]
            pin = hash_password("123456")
            insert_rows(db.session, insert(WorkstationPerson), [
                {"base_id": base.id, "company_id": companies[n % COMPANIES].id, "name": f"人员{n}",
                 "phone": f"139{n:08d}", "pin_hash": pin, "pin_version": 1, "active_from": date(2026, 1, 1)}
                for n in range(PEOPLE)])
            people = db.session.execute(db.select(WorkstationPerson.id, WorkstationPerson.company_id)).all()
            days = [date(2026, 10, 1) + timedelta(days=n) for n in range(31)]
            insert_rows(db.session, insert(Attendance), [
                {"base_id": base.id, "person_id": person_id, "company_id": company_id, "present_on": day,
                 "is_present": True, "source": "qr"}
                for person_id, company_id in people for day in days if (person_id + day.day) % 5])
            db.session.commit()


def main():
    folder = tempfile.mkdtemp()
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{folder}/bench.db"
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url, "UPLOAD_FOLDER": folder})
    with app.app_context():
        upgrade()
    build(app)
    app.config["WTF_CSRF_ENABLED"] = False  # the benchmark logs in directly; CSRF is tested elsewhere
    client = app.test_client()
    login = client.post("/login", data={"email": "bench@example.com", "password": "Bench-password-2026"})
    assert login.status_code == 302, login.status_code
    statements = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(1))
    timings = []
    for _ in range(RUNS):
        statements.clear()
        started = time.perf_counter()
        response = client.get("/b/bench/tenants/attendance?month=2026-10")
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    counted = len(statements)
    timings.sort()
    print(f"{'page':32} {'median ms':>10} {'p95 ms':>8} {'SQL':>5}")
    print(f"{'attendance month, 200 people':32} {statistics.median(timings):10.1f} "
          f"{timings[int(len(timings) * 0.95) - 1]:8.1f} {counted:5d}")


if __name__ == "__main__":
    main()
