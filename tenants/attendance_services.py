"""Attendance services: workstation people, check-in points and their daily codes, presence by QR, by staff and by
import. Each change flushes and audits; the request commits once."""
import hashlib
import hmac
import re
import secrets
from collections import defaultdict

from sqlalchemy import select

from operator_app import audit
from operator_app.extensions import db
from operator_app.security import hash_password, verify_password
from operator_app.timeutil import utcnow

from . import constants as c
from .attendance import compute_month, month_bounds
from .models import Attendance, CheckInPoint, TenantCompany, WorkstationPerson
from .rules import rules_of


CODE_PATTERN = re.compile(r"^[0-9a-f]{20}$")


def new_pin():
    return f"{secrets.randbelow(10**6):06d}"


def register_person(company, *, name, phone, today, by):
    """Register a person at the company's workstations; returns (person, PIN). The PIN is shown once."""
    pin = new_pin()
    person = WorkstationPerson(company_id=company.id, name=name, phone=phone, pin_hash=hash_password(pin),
                               active_from=today)
    db.session.add(person)
    db.session.flush()
    audit.record("person.create", person, after={"company_id": company.id, "name": name, "phone": phone}, user=by)
    return person, pin


def deactivate_person(person, *, today, by):
    """The person no longer works here from ``today``; their days stay on the sheets."""
    person.deactivated_on = today
    db.session.flush()
    audit.record("person.deactivate", person, after={"deactivated_on": today.isoformat()}, user=by)


def reset_pin(person, *, by):
    """A new PIN; phones that remembered the old one must log in again. Returns the PIN."""
    pin = new_pin()
    person.pin_hash, person.pin_version = hash_password(pin), person.pin_version + 1
    db.session.flush()
    audit.record("person.reset_pin", person, user=by)
    return pin


def people_of(company):
    return db.session.scalars(select(WorkstationPerson).where(WorkstationPerson.company_id == company.id)
                              .order_by(WorkstationPerson.deactivated_on.is_not(None), WorkstationPerson.name)).all()


def find_person_by_phone(phone):
    """The active person with this phone in the current base, or None."""
    return db.session.scalar(select(WorkstationPerson).where(WorkstationPerson.phone == phone,
                                                             WorkstationPerson.deactivated_on.is_(None)))


def pin_matches(person, pin):
    """True when ``pin`` is the person's; the time taken is the same whether or not the phone is registered."""
    return verify_password(person.pin_hash if person else None, pin)


def workstation_companies():
    return db.session.scalars(select(TenantCompany).where(
        TenantCompany.is_workstation.is_(True), TenantCompany.deleted_at.is_(None),
        TenantCompany.status.in_(c.ACTIVE_STATUSES)).order_by(TenantCompany.name)).all()


def month_data(base, year, month, today, companies=None):
    """The month's attendance of ``companies`` (default: every workstation company)."""
    return months_data(base, [(year, month)], today, companies)[0]


def months_data(base, months, today, companies=None):
    """The attendance of several months in two queries in all (people, then every day on site in the span):
    no query per person or per month."""
    companies = workstation_companies() if companies is None else companies
    ids = [company.id for company in companies]
    first = min(month_bounds(year, month)[0] for year, month in months)
    last = max(month_bounds(year, month)[1] for year, month in months)
    people_rows = db.session.scalars(select(WorkstationPerson).where(
        WorkstationPerson.company_id.in_(ids), WorkstationPerson.active_from <= last)
        .order_by(WorkstationPerson.name)).all()
    present = present_days(ids, first, last)
    threshold = rules_of(base).attendance_days
    result = []
    for year, month in months:
        month_first = month_bounds(year, month)[0]
        month_last = month_bounds(year, month)[1]
        people = defaultdict(list)
        for person in people_rows:
            if person.active_from <= month_last and (person.deactivated_on is None
                                                     or person.deactivated_on > month_first):
                people[person.company_id].append(person)
        result.append(compute_month(year, month, today, companies, people, present, threshold))
    return result


def save_settings(base, *, attendance_days, by):
    """The days a week the base requires of workstation people (audited)."""
    audit.update(rules_of(base), {"attendance_days": attendance_days}, ("attendance_days",),
                 action="attendance_settings.update", user=by)


def present_days(company_ids, first, last):
    """{person id: dates on site} for the companies between ``first`` and ``last``, in one indexed query."""
    present = defaultdict(set)
    for person_id, day in db.session.execute(select(Attendance.person_id, Attendance.present_on).where(
            Attendance.company_id.in_(company_ids), Attendance.present_on >= first, Attendance.present_on <= last,
            Attendance.is_present.is_(True))):
        present[person_id].add(day)
    return present


def set_presence(person, day, present, *, source, by, checked_in_at=None, point=None):
    """Record whether ``person`` was on site on ``day``; a change of an existing record is audited as a
    correction. Returns the record (None when nothing was there and nothing is set)."""
    record = db.session.scalar(select(Attendance).where(Attendance.person_id == person.id,
                                                        Attendance.present_on == day))
    if record is None:
        if not present:
            return None
        record = Attendance(person_id=person.id, company_id=person.company_id, present_on=day, is_present=True,
                            source=source, checked_in_at=checked_in_at, point_id=point.id if point else None,
                            updated_by_id=by.id if by else None)
        db.session.add(record)
        db.session.flush()
        audit.record("attendance.set", record, after={"person": person.name, "day": day.isoformat(),
                                                      "present": True, "source": source}, user=by)
        return record
    if record.is_present != present:
        before = {"person": person.name, "day": day.isoformat(), "present": record.is_present,
                  "source": record.source}
        record.is_present, record.source, record.updated_by_id = present, source, by.id if by else None
        if present and checked_in_at is not None:
            record.checked_in_at, record.point_id = checked_in_at, point.id if point else None
        db.session.flush()
        audit.record("attendance.correct", record, before=before,
                     after={"person": person.name, "day": day.isoformat(), "present": present, "source": source},
                     user=by)
    return record


def check_in(person, point, *, today):
    """Check ``person`` in for ``today`` at ``point``; returns (record, already) — once per person per day."""
    existing = db.session.scalar(select(Attendance).where(Attendance.person_id == person.id,
                                                          Attendance.present_on == today,
                                                          Attendance.is_present.is_(True)))
    if existing is not None:
        return existing, True
    record = set_presence(person, today, True, source=c.ATTENDANCE_QR, by=None, checked_in_at=utcnow(), point=point)
    return record, False


def points():
    return db.session.scalars(select(CheckInPoint).where(CheckInPoint.is_active.is_(True))
                              .order_by(CheckInPoint.name)).all()


def create_point(name, *, by):
    point = CheckInPoint(name=name, secret=secrets.token_hex(32))
    db.session.add(point)
    db.session.flush()
    audit.record("checkin_point.create", point, after={"name": name}, user=by)
    return point


def point_code(point, day):
    """The point's code for ``day``: it changes every day, so yesterday's photo of the QR does not work."""
    message = f"{point.id}:{day.isoformat()}".encode()
    return hmac.new(point.secret.encode(), message, hashlib.sha256).hexdigest()[:20]


def code_is_valid(point, code, today):
    """True for the point's code of ``today``; anything that is not 20 hex characters is simply wrong."""
    if point is None or not point.is_active or not CODE_PATTERN.match(code or ""):
        return False
    return hmac.compare_digest(point_code(point, today), code)
