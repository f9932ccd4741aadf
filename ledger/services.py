"""Ledger services: the only code that changes the ledger. Each function flushes and audits; the request (or the
job) commits once. Times arrive as aware UTC datetimes; ``occurred_on`` is the base-local day."""
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select

from operator_app import audit
from operator_app.extensions import db
from operator_app.images import save_image
from operator_app.storage import DOCUMENT_TYPES, UploadError, save_upload
from operator_app.timeutil import as_utc, to_local, utcnow
from tenants import constants as tc
from tenants.models import TenantCompany

from . import constants as c
from .models import Activity, ActivityFile, Feedback, PartnerAgency, ServicePerson, ServiceRequest, SignIn, Visit

PERSON_FIELDS = ("name", "position", "phone", "is_mentor", "certificate_issuer", "certificate_number", "is_active",
                 "user_id")
AGENCY_FIELDS = ("name", "category", "services", "agreement_starts_on", "agreement_ends_on", "contact_name",
                 "contact_phone", "is_active")
REQUEST_FIELDS = ("company_id", "channel", "category", "received_at", "content", "handler_id", "occurred_on")
VISIT_FIELDS = ("company_id", "occurred_on", "staff_id", "agency_id", "people", "purpose", "category", "content",
                "follow_up")
ACTIVITY_FIELDS = ("title", "category", "starts_at", "ends_at", "place", "organiser_id", "agency_id",
                   "expected_companies", "agenda", "signin_hours_after", "publicity_links", "results",
                   "sheet_companies", "sheet_people",
                   "occurred_on", "ends_on")
ARCHIVE_PERIOD = timedelta(days=c.ARCHIVE_DAYS)
ENTRY_MODELS = {c.KIND_REQUEST: ServiceRequest, c.KIND_VISIT: Visit, c.KIND_ACTIVITY: Activity}


# --- The service team and partner agencies ------------------------------------------------------------------

def team():
    return db.session.scalars(select(ServicePerson).order_by(ServicePerson.is_active.desc(),
                                                             ServicePerson.name)).all()


def add_person(values, *, by):
    person = ServicePerson(**{field: values[field] for field in PERSON_FIELDS})
    db.session.add(person)
    db.session.flush()
    audit.record("service_person.create", person, after=audit.snapshot(person, PERSON_FIELDS), user=by)
    return person


def update_person(person, values, *, by):
    return audit.update(person, values, PERSON_FIELDS, action="service_person.update", user=by)


def agencies():
    return db.session.scalars(select(PartnerAgency).order_by(PartnerAgency.is_active.desc(),
                                                             PartnerAgency.name)).all()


def add_agency(values, *, upload=None, by):
    """Record a partner agency, with its agreement when one is uploaded (storage.UploadError if refused)."""
    agency = PartnerAgency(**{field: values[field] for field in AGENCY_FIELDS})
    _attach_agreement(agency, upload, by)
    db.session.add(agency)
    db.session.flush()
    audit.record("agency.create", agency, after=audit.snapshot(agency, AGENCY_FIELDS), user=by)
    return agency


def update_agency(agency, values, *, upload=None, by):
    """Save the agency; a new agreement file replaces the shown one (the old file stays stored and audited)."""
    before = agency.agreement_file_id
    _attach_agreement(agency, upload, by)
    if agency.agreement_file_id != before:
        audit.record("agency.agreement", agency, before={"agreement_file_id": before},
                     after={"agreement_file_id": agency.agreement_file_id}, user=by)
    return audit.update(agency, values, AGENCY_FIELDS, action="agency.update", user=by)


def _attach_agreement(agency, upload, by):
    if upload is not None and upload.filename:
        agency.agreement_file_id = save_upload(upload, allowed=DOCUMENT_TYPES, by=by).id


@dataclass(frozen=True)
class TeamCounts:
    team: int
    mentors: int
    agencies: int


def team_counts(today, team_people=None):
    """The service team against the policy: active people, certified mentors, agencies under agreement today.
    ``team_people``: ``team()`` when the caller has it already."""
    if team_people is None:
        people = db.session.scalars(select(ServicePerson).where(ServicePerson.is_active.is_(True))).all()
    else:
        people = [person for person in team_people if person.is_active]
    partners = [agency for agency in agencies() if agency.in_agreement_on(today)]
    return TeamCounts(team=len(people), mentors=sum(person.counts_as_mentor for person in people),
                      agencies=len(partners))


# --- Entries ------------------------------------------------------------------------------------------------

def served_companies():
    """The companies a service can be recorded for: those housed or admitted, and graduates being followed."""
    statuses = tc.ACTIVE_STATUSES + (tc.STATUS_GRADUATED,)
    return db.session.scalars(select(TenantCompany).where(TenantCompany.deleted_at.is_(None),
                                                          TenantCompany.status.in_(statuses))
                              .order_by(TenantCompany.name)).all()


def companies_in_files():
    """Every company of the base's files that was ever served (not applicants or rejected ones)."""
    return db.session.scalars(select(TenantCompany).where(
        TenantCompany.deleted_at.is_(None),
        TenantCompany.status.not_in((tc.STATUS_APPLICANT, tc.STATUS_REJECTED))).order_by(TenantCompany.name)).all()


def create_request(values, *, base, by, filed_by_tenant=False):
    """Log a request; ``values['received_at']`` is aware UTC."""
    values = values | {"occurred_on": to_local(values["received_at"], base.timezone).date()}
    request = ServiceRequest(created_by_id=by.id, filed_by_tenant=filed_by_tenant,
                             **{field: values[field] for field in REQUEST_FIELDS})
    db.session.add(request)
    db.session.flush()
    audit.record("request.create", request, after=audit.snapshot(request, REQUEST_FIELDS), user=by)
    return request


def update_request(request, values, *, base, by):
    values = values | {"occurred_on": to_local(values["received_at"], base.timezone).date()}
    return audit.update(request, values, REQUEST_FIELDS, action="request.update", user=by)


def set_request_status(request, status, resolution, *, now, by, responded_at=None):
    """Move a request along: the first answer (``responded_at``, default ``now``) gives its response time;
    resolving or closing ends it, and reopening clears the end (all recorded in the audit log)."""
    values = {"status": status, "resolution": resolution or request.resolution}
    if responded_at is not None:
        values["responded_at"] = responded_at
    elif status != c.STATUS_OPEN and request.responded_at is None:
        values["responded_at"] = now
    if status in c.DONE_STATUSES:
        values["resolved_at"] = as_utc(request.resolved_at) if request.status == status else now
    else:
        values["resolved_at"] = None
    return audit.update(request, values, ("status", "resolution", "responded_at", "resolved_at"),
                        action="request.status", user=by)


def create_visit(values, *, by):
    visit = Visit(created_by_id=by.id, **{field: values[field] for field in VISIT_FIELDS})
    db.session.add(visit)
    db.session.flush()
    audit.record("visit.create", visit, after=audit.snapshot(visit, VISIT_FIELDS), user=by)
    return visit


def update_visit(visit, values, *, by):
    return audit.update(visit, values, VISIT_FIELDS, action="visit.update", user=by)


def _activity_days(values, base):
    return values | {"occurred_on": to_local(values["starts_at"], base.timezone).date(),
                     "ends_on": to_local(values["ends_at"], base.timezone).date()}


def create_activity(values, *, base, by):
    """Plan or record an activity; it gets the secret code its QR sign-in link carries."""
    values = _activity_days(values, base)
    activity = Activity(created_by_id=by.id, signin_code=secrets.token_urlsafe(16),
                        **{field: values[field] for field in ACTIVITY_FIELDS})
    db.session.add(activity)
    db.session.flush()
    audit.record("activity.create", activity, after=audit.snapshot(activity, ACTIVITY_FIELDS), user=by)
    return activity


def update_activity(activity, values, *, base, now, by):
    changed = audit.update(activity, _activity_days(values, base), ACTIVITY_FIELDS, action="activity.update",
                           user=by)
    refresh_archive(activity, now)
    return changed


def delete_entry(entry, *, by):
    """Withdraw an entry made by mistake: it leaves the ledger, stays in the database and the audit log."""
    entry.deleted_at = utcnow()
    db.session.flush()
    audit.record(f"{entry.kind}.delete", entry, before={"title": entry.title[:200]}, user=by)


# --- An activity's archive ----------------------------------------------------------------------------------

def add_activity_files(activity, kind, uploads, *, now, by):
    """Store the uploads as the activity's ``kind`` of file; photos are re-encoded without location data.

    All or none: raises UploadError naming the file that was refused (the caller rolls back).
    """
    uploads = [upload for upload in uploads if upload and upload.filename]
    if not uploads:
        raise UploadError(_l("Choose at least one file."))
    added = []
    for upload in uploads:
        try:
            added.append(_store_activity_file(activity, kind, upload, by))
        except UploadError as error:
            raise UploadError(f"{upload.filename[:80]}：{error.message}") from error
    db.session.flush()
    audit.record("activity.files", activity, after={"kind": kind, "files": [file.stored.original_name
                                                                            for file in added]}, user=by)
    refresh_archive(activity, now)
    return added


def _store_activity_file(activity, kind, upload, by):
    if kind == c.FILE_PHOTO:
        image = save_image(upload, by=by)
        file = ActivityFile(activity_id=activity.id, kind=kind, file_id=image.stored.id,
                            thumbnail_id=image.thumbnail.id, captured_at=image.captured_at, uploaded_by_id=by.id)
    else:
        stored = save_upload(upload, allowed=DOCUMENT_TYPES, by=by)
        file = ActivityFile(activity_id=activity.id, kind=kind, file_id=stored.id, uploaded_by_id=by.id)
    db.session.add(file)
    db.session.flush()
    db.session.refresh(file, ["stored"])
    return file


def remove_activity_file(activity, file, *, now, by):
    file.deleted_at = utcnow()
    db.session.flush()
    audit.record("activity.file_delete", activity, before={"kind": file.kind, "file": file.stored.original_name},
                 user=by)
    db.session.expire(activity, ["files"])
    refresh_archive(activity, now)


@dataclass(frozen=True)
class ArchiveState:
    status: str        # constants.ARCHIVE_*
    missing: tuple     # keys of constants.ARCHIVE_ITEMS still missing
    deadline: object   # the last day to complete it on time

    @property
    def label(self):
        return c.ARCHIVE_LABELS[self.status]

    @property
    def missing_labels(self):
        return [c.ARCHIVE_ITEMS[key] for key in self.missing]


def missing_items(activity):
    """What the archive still lacks: the notice, photos, and sign-ins (QR sign-ins or a scan of the sheet)."""
    missing = []
    if not activity.files_of(c.FILE_NOTICE):
        missing.append("notice")
    if not activity.files_of(c.FILE_PHOTO):
        missing.append("photos")
    if not activity.signins and not activity.files_of(c.FILE_SHEET):
        missing.append("signins")
    return tuple(missing)


def archive_state(activity, today, timezone):
    """Complete, pending (still within ARCHIVE_DAYS of the end), overdue, or completed late — on ``today`` in the
    base's ``timezone``."""
    missing = missing_items(activity)
    deadline = activity.archive_deadline
    if not missing:
        first = activity.first_archived_at
        archived_on = to_local(first, timezone).date() if first else today
        late = archived_on > deadline
        return ArchiveState(c.ARCHIVE_LATE if late else c.ARCHIVE_COMPLETE, (), deadline)
    return ArchiveState(c.ARCHIVE_OVERDUE if today > deadline else c.ARCHIVE_PENDING, missing, deadline)


def refresh_archive(activity, now):
    """Stamp the moment the archive became complete (cleared when an item is withdrawn); the first completion
    is kept, so replacing a wrong file later does not make a timely archive late."""
    db.session.expire(activity, ["files", "signins"])
    complete = not missing_items(activity)
    if complete and activity.archived_at is None:
        activity.archived_at = now
        activity.first_archived_at = activity.first_archived_at or now
    elif not complete and activity.archived_at is not None:
        activity.archived_at = None
    db.session.flush()


def mark_overdue(base, now):
    """The daily job's work for one base: mark activities whose archive deadline passed incomplete.

    Returns the activities newly marked; each is recorded in the audit log.
    """
    today = to_local(now, base.timezone).date()
    candidates = db.session.scalars(select(Activity).where(
        Activity.deleted_at.is_(None), Activity.archived_at.is_(None), Activity.overdue_at.is_(None),
        Activity.ends_on < today - ARCHIVE_PERIOD)).all()
    marked = []
    for activity in candidates:
        if archive_state(activity, today, base.timezone).status == c.ARCHIVE_OVERDUE:
            activity.overdue_at = now
            audit.record("activity.overdue", activity, after={"missing": list(missing_items(activity))})
            marked.append(activity)
    db.session.flush()
    return marked


def overdue_activities(today):
    """Activities whose archive days have passed with the archive incomplete, oldest first (from the dates,
    so the list is right before the day's job has run and after an activity's dates were corrected)."""
    return db.session.scalars(select(Activity).where(
        Activity.deleted_at.is_(None), Activity.archived_at.is_(None), Activity.ends_on < today - ARCHIVE_PERIOD)
        .order_by(Activity.ends_on)).all()


def due_soon(today, timezone):
    """Activities that ended and are still within their archive days, incomplete."""
    activities = db.session.scalars(select(Activity).where(
        Activity.deleted_at.is_(None), Activity.archived_at.is_(None), Activity.ends_on <= today,
        Activity.ends_on >= today - ARCHIVE_PERIOD).order_by(Activity.ends_on)).all()
    return [activity for activity in activities
            if archive_state(activity, today, timezone).status == c.ARCHIVE_PENDING]


# --- Sign-in ------------------------------------------------------------------------------------------------

class SignInRefused(ValueError):
    """A sign-in that cannot be taken; ``message`` says why, for the participant."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def signin_problem(activity, now):
    """Why the activity takes no sign-in at ``now`` (before its window or after it), or None."""
    if activity.deleted_at is not None:
        return _l("This activity no longer exists.")
    if now < activity.signin_opens_at:
        return _l("Sign-in opens two hours before the activity starts.")
    if now > activity.signin_closes_at:
        return _l("Sign-in for this activity has closed.")
    return None


def find_signin(activity, phone):
    return db.session.scalar(select(SignIn).where(SignIn.activity_id == activity.id, SignIn.phone == phone))


def sign_in(activity, *, name, phone, company_name, now, user=None, company=None):
    """Take a participant's sign-in, once per mobile number; a tenant contact signs in for its company.

    Returns (sign-in, already) — ``already`` when this number had signed in. Raises SignInRefused outside the
    sign-in window. A racing duplicate raises IntegrityError for the caller to answer like ``already``.
    """
    problem = signin_problem(activity, now)
    if problem:
        raise SignInRefused(problem)
    existing = find_signin(activity, phone)
    if existing is not None:
        return existing, True
    # Only a recognised tenant login ties a sign-in to a company of the files: a typed name stays text (anyone
    # with the link could type any tenant's name).
    signin = SignIn(activity_id=activity.id, name=name, phone=phone,
                    company_name=company.name if company is not None else company_name,
                    company_id=company.id if company is not None else None,
                    user_id=user.id if user is not None else None, signed_at=now)
    db.session.add(signin)
    db.session.flush()
    refresh_archive(activity, now)
    return signin, False


def participation(activity):
    """(companies that took part, people who took part): the QR sign-ins, plus those counted by staff from the
    paper sheet."""
    companies = {signin.company_id or signin.company_name.strip() for signin in activity.signins}
    return len(companies) + (activity.sheet_companies or 0), len(activity.signins) + (activity.sheet_people or 0)


def people_taking_part(activities):
    """{activity id: people who took part} for many activities at once (one grouped query per 500), counted as
    ``participation`` counts them: the QR sign-ins plus the people staff counted from the paper sheet."""
    activities = list(activities)
    signed = {}
    for start in range(0, len(activities), 500):
        ids = [activity.id for activity in activities[start:start + 500]]
        signed.update(db.session.execute(select(SignIn.activity_id, func.count(SignIn.id))
                                         .where(SignIn.activity_id.in_(ids)).group_by(SignIn.activity_id)).all())
    return {activity.id: signed.get(activity.id, 0) + (activity.sheet_people or 0) for activity in activities}


# --- Feedback and satisfaction ------------------------------------------------------------------------------

def services_of(company):
    """Every service the company received: its requests, the visits to it, the activities it signed in to."""
    requests = db.session.scalars(select(ServiceRequest).where(
        ServiceRequest.company_id == company.id, ServiceRequest.deleted_at.is_(None))
        .order_by(ServiceRequest.received_at.desc())).all()
    visits = db.session.scalars(select(Visit).where(Visit.company_id == company.id, Visit.deleted_at.is_(None))
                                .order_by(Visit.occurred_on.desc(), Visit.id.desc())).all()
    attended = select(SignIn.activity_id).where(SignIn.company_id == company.id)
    activities = db.session.scalars(select(Activity).where(Activity.id.in_(attended), Activity.deleted_at.is_(None))
                                    .order_by(Activity.starts_at.desc())).all()
    return requests, visits, activities


def feedback_of(company):
    """The company's feedback keyed by (kind, entry id)."""
    rows = db.session.scalars(select(Feedback).where(Feedback.company_id == company.id)).all()
    return {(row.entry_kind, row.entry_id): row for row in rows}


def feedback_by_entry(entries):
    """Every company's feedback on ``entries``, keyed by (kind, entry id)."""
    found = {}
    for kind in c.KINDS:
        ids = [entry.id for entry in entries if entry.kind == kind]
        column = getattr(Feedback, f"{kind}_id")
        for start in range(0, len(ids), 500):  # bounded IN lists for a long export
            for row in db.session.scalars(select(Feedback).where(column.in_(ids[start:start + 500]))):
                found.setdefault((kind, row.entry_id), []).append(row)
    return found


def rateable(company, kind, entry):
    """Whether ``company`` may rate ``entry``: a request of its own once done, a visit to it, an activity it
    signed in to."""
    if entry.deleted_at is not None:
        return False
    if kind == c.KIND_REQUEST:
        return entry.company_id == company.id and entry.is_done
    if kind == c.KIND_VISIT:
        return entry.company_id == company.id
    return db.session.scalar(select(func.count(SignIn.id)).where(SignIn.activity_id == entry.id,
                                                                 SignIn.company_id == company.id)) > 0


def give_feedback(company, kind, entry, *, rating, comment, user):
    """Record the company's rating of the entry (once; IntegrityError when it has already rated it)."""
    agency_id = getattr(entry, "agency_id", None)
    feedback = Feedback(company_id=company.id, category=entry.category, agency_id=agency_id, rating=rating,
                        comment=comment, user_id=user.id, **{f"{kind}_id": entry.id})
    db.session.add(feedback)
    db.session.flush()
    audit.record("feedback.create", feedback, after={"kind": kind, "entry_id": entry.id, "rating": rating,
                                                     "comment": comment}, user=user)
    return feedback


def _on_live_entries():
    """Feedback on entries still in the ledger (an entry withdrawn as a mistake takes its ratings with it)."""
    conditions = []
    for kind, model in ENTRY_MODELS.items():
        column = getattr(Feedback, f"{kind}_id")
        withdrawn = select(model.id).where(model.deleted_at.is_not(None))
        conditions.append(or_(column.is_(None), column.not_in(withdrawn)))
    return and_(*conditions)


@dataclass(frozen=True)
class Satisfaction:
    key: object
    label: str
    count: int
    average: float


def satisfaction():
    """Average ratings per service category and per partner agency (000: providers managed by satisfaction)."""
    live = _on_live_entries()
    by_category = db.session.execute(select(Feedback.category, func.count(Feedback.id), func.avg(Feedback.rating))
                                     .where(live).group_by(Feedback.category)).all()
    categories = [Satisfaction(key, c.CATEGORIES.get(key, key), count, float(average))
                  for key, count, average in by_category]
    by_agency = db.session.execute(
        select(PartnerAgency.id, PartnerAgency.name, func.count(Feedback.id), func.avg(Feedback.rating))
        .join(Feedback, Feedback.agency_id == PartnerAgency.id).where(live)
        .group_by(PartnerAgency.id, PartnerAgency.name)
        .order_by(func.avg(Feedback.rating))).all()
    agencies_ = [Satisfaction(key, name, count, float(average)) for key, name, count, average in by_agency]
    order = list(c.CATEGORIES)
    categories.sort(key=lambda row: order.index(row.key) if row.key in order else len(order))
    return categories, agencies_
