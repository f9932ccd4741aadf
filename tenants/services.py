"""Tenant services: the only code that changes tenant companies, their milestones, documents, admission,
exit and the base's rules. Each flushes and audits; the request commits once."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from operator_app import audit
from operator_app.extensions import db
from operator_app.storage import DOCUMENT_TYPES, save_upload
from operator_app.timeutil import today_in, utcnow

from . import constants as c
from .models import AdmissionDecision, CompanyDocument, ExitRecord, Milestone, TenantCompany
from .rules import admission_checks, rules_of

COMPANY_FIELDS = ("name", "uscc", "is_team", "team_evidence", "legal_representative", "contact_name",
                  "contact_phone", "contact_email", "main_business", "industry", "zone", "unit", "is_workstation",
                  "workstation_count", "area_m2", "moved_in_on", "licence_in_base", "staff_on_site",
                  "equipment_on_site")
RULES_FIELDS = ("entry_conditions", "procedure", "management_rules", "exit_conditions", "allowed_industries",
                "required_documents", "workstation_quota_percent", "is_published", "accepts_applications")

# The move-in and exit workflow: which statuses each step starts from.
TRANSITIONS = {
    "admit": (c.STATUS_APPLICANT,),
    "reject": (c.STATUS_APPLICANT,),
    "move_in": (c.STATUS_ADMITTED,),
    "exit": (c.STATUS_ADMITTED, c.STATUS_IN_RESIDENCE),
}


class WorkflowError(ValueError):
    """A step the company's status does not allow, or a rule that blocks it; ``message`` is for the user."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def _require(company, step):
    if company.status not in TRANSITIONS[step]:
        raise WorkflowError(_l("A company that is %(status)s cannot do this step.", status=company.status_label))


def find_by_uscc(uscc, exclude_id=None):
    """The base's company (deleted ones included: a code is never reused silently) with this code."""
    if not uscc:
        return None
    statement = select(TenantCompany).where(TenantCompany.uscc == uscc)
    if exclude_id is not None:
        statement = statement.where(TenantCompany.id != exclude_id)
    return db.session.scalar(statement)


def create_company(values, *, status, by, via_link=False):
    """Create a company in the current base with ``status`` (in residence for a roster, applicant otherwise)."""
    company = TenantCompany(status=status, applied_via_link=via_link,
                            **{field: values[field] for field in COMPANY_FIELDS if field in values})
    db.session.add(company)
    db.session.flush()
    audit.record("tenant.create", company, after=audit.snapshot(company, ("status",) + COMPANY_FIELDS), user=by)
    return company


def update_company(company, values, *, by):
    """Apply edited file fields and audit the difference."""
    before = audit.snapshot(company, COMPANY_FIELDS)
    for field in COMPANY_FIELDS:
        if field in values:
            setattr(company, field, values[field])
    after = audit.snapshot(company, COMPANY_FIELDS)
    changed = {key for key in after if before[key] != after[key]}
    if changed:
        audit.record("tenant.update", company, before={k: before[k] for k in changed},
                     after={k: after[k] for k in changed}, user=by)
    db.session.flush()


def admit(base, company, *, zone, unit, is_workstation, workstation_count, area_m2, moved_in_on, by,
          override_reason="", may_override=False):
    """Admit an applicant into a zone and unit from ``moved_in_on``.

    The rule checks run first; any failing check blocks admission unless someone who ``may_override``
    (a manager) gives a written reason, which is kept with the decision and audited. Raises WorkflowError.
    """
    _require(company, "admit")
    checks = admission_checks(base, company, is_workstation=is_workstation)
    failing = [check for check in checks if not check.passed]
    override_reason = (override_reason or "").strip()
    if failing:
        if not override_reason:
            raise WorkflowError(_l("Admission is blocked by a failing check. A manager may admit anyway with "
                                   "a written reason."))
        if not may_override:
            raise WorkflowError(_l("Only a manager may override a failing check."))
    before = audit.snapshot(company, ("status", "zone", "unit", "is_workstation", "moved_in_on"))
    company.zone, company.unit, company.is_workstation = zone, unit, is_workstation
    company.workstation_count, company.area_m2, company.moved_in_on = workstation_count, area_m2, moved_in_on
    company.status = (c.STATUS_IN_RESIDENCE if moved_in_on <= today_in(base.timezone) else c.STATUS_ADMITTED)
    decision = AdmissionDecision(company_id=company.id, decision="admit",
                                 checks=[check.as_record() for check in checks],
                                 override_reason=override_reason if failing else "", decided_by_id=by.id)
    db.session.add(decision)
    db.session.flush()
    audit.record("tenant.admit", company, before=before,
                 after={**audit.snapshot(company, ("status", "zone", "unit", "is_workstation", "moved_in_on")),
                        **({"override_reason": override_reason,
                            "overridden_checks": [check.key for check in failing]} if failing else {})},
                 user=by)
    return decision


def reject(company, *, reason, by):
    """Reject an application with a reason the applicant can be told."""
    _require(company, "reject")
    company.status = c.STATUS_REJECTED
    db.session.add(AdmissionDecision(company_id=company.id, decision="reject", reason=reason, checks=[],
                                     decided_by_id=by.id))
    db.session.flush()
    audit.record("tenant.reject", company, after={"status": company.status, "reason": reason}, user=by)


def confirm_move_in(company, *, moved_in_on, by):
    """An admitted company has moved in on ``moved_in_on``."""
    _require(company, "move_in")
    before = audit.snapshot(company, ("status", "moved_in_on"))
    company.status, company.moved_in_on = c.STATUS_IN_RESIDENCE, moved_in_on
    db.session.flush()
    audit.record("tenant.move_in", company, before=before, after=audit.snapshot(company, ("status", "moved_in_on")),
                 user=by)


def record_exit(company, *, reason, exit_on, keys_returned, rent_settled, deposit_settled, notes, by):
    """Record a company's exit. A graduation makes it a graduate, followed for three years from ``exit_on``.

    Raises WorkflowError when the status does not allow an exit or the date is before the move-in.
    """
    _require(company, "exit")
    if company.moved_in_on and exit_on < company.moved_in_on:
        raise WorkflowError(_l("The exit date is before the move-in date (%(date)s).",
                               date=company.moved_in_on.isoformat()))
    before = audit.snapshot(company, ("status", "moved_out_on"))
    company.status = c.STATUS_GRADUATED if reason == c.EXIT_GRADUATION else c.STATUS_EXITED
    company.moved_out_on = exit_on
    record = ExitRecord(company_id=company.id, reason=reason, exit_on=exit_on, keys_returned=keys_returned,
                        rent_settled=rent_settled, deposit_settled=deposit_settled, notes=notes, recorded_by_id=by.id)
    db.session.add(record)
    db.session.flush()
    audit.record("tenant.exit", company, before=before,
                 after={**audit.snapshot(company, ("status", "moved_out_on")), "reason": reason}, user=by)
    return record


def exit_record_of(company):
    return db.session.scalar(select(ExitRecord).where(ExitRecord.company_id == company.id)
                             .order_by(ExitRecord.id.desc()))


def decisions_of(company):
    return db.session.scalars(select(AdmissionDecision).where(AdmissionDecision.company_id == company.id)
                              .order_by(AdmissionDecision.id.desc())).all()


def add_milestone(company, *, occurred_on, kind, title, amount_fen, by):
    milestone = Milestone(company_id=company.id, occurred_on=occurred_on, kind=kind, title=title,
                          amount_fen=amount_fen if kind == c.MILESTONE_FINANCING else None, created_by_id=by.id)
    db.session.add(milestone)
    db.session.flush()
    audit.record("milestone.create", milestone,
                 after=audit.snapshot(milestone, ("company_id", "occurred_on", "kind", "title", "amount_fen")), user=by)
    return milestone


def remove_milestone(milestone, *, by):
    """Soft-delete: the milestone leaves the timeline and the counts, the record stays."""
    milestone.deleted_at = utcnow()
    db.session.flush()
    audit.record("milestone.delete", milestone, before=audit.snapshot(milestone, ("kind", "title", "occurred_on")),
                 user=by)


def attach_document(company, *, kind, upload, by):
    """Store an uploaded document in the company's file. Raises storage.UploadError for a refused file."""
    stored = save_upload(upload, allowed=DOCUMENT_TYPES, by=by)
    document = CompanyDocument(company_id=company.id, kind=kind, file_id=stored.id,
                               uploaded_by_id=by.id if by else None)
    db.session.add(document)
    db.session.flush()
    audit.record("document.create", document, after={"company_id": company.id, "kind": kind,
                                                     "file": stored.original_name}, user=by)
    return document


def remove_document(document, *, by):
    document.deleted_at = utcnow()
    db.session.flush()
    audit.record("document.delete", document, before={"kind": document.kind, "file": document.file.original_name},
                 user=by)


def save_rules(base, values, *, by):
    rules = rules_of(base)
    before = audit.snapshot(rules, RULES_FIELDS)
    for field in RULES_FIELDS:
        setattr(rules, field, values[field])
    after = audit.snapshot(rules, RULES_FIELDS)
    changed = {key for key in after if before[key] != after[key]}
    if changed:
        audit.record("rules.update", rules, before={k: before[k] for k in changed},
                     after={k: after[k] for k in changed}, user=by)
    db.session.flush()
    return rules


def occupancy_summary(base):
    """Housed companies by zone, the workstation companies among them and their share of the quota."""
    from .rules import workstation_limit

    rows = db.session.execute(
        select(TenantCompany.zone, TenantCompany.is_workstation, func.count(TenantCompany.id))
        .where(TenantCompany.status.in_(c.HOUSED_STATUSES), TenantCompany.deleted_at.is_(None))
        .group_by(TenantCompany.zone, TenantCompany.is_workstation)).all()
    by_zone = {}
    housed = workstations = 0
    for zone, is_workstation, count in rows:
        by_zone[zone] = by_zone.get(zone, 0) + count
        housed += count
        workstations += count if is_workstation else 0
    rules = rules_of(base)
    limit = workstation_limit(base, rules)
    return {"housed": housed, "by_zone": by_zone, "workstations": workstations, "standard": base.tenant_count_standard,
            "workstation_limit": limit, "quota_percent": rules.workstation_quota_percent,
            "applicants": db.session.scalar(select(func.count(TenantCompany.id)).where(
                TenantCompany.status == c.STATUS_APPLICANT, TenantCompany.deleted_at.is_(None)))}
