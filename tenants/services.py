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
    """The company the base admits or houses with this code, or None (one code, one active company)."""
    if not uscc:
        return None
    statement = select(TenantCompany).where(TenantCompany.uscc == uscc,
                                            TenantCompany.status.in_((c.STATUS_ADMITTED, c.STATUS_IN_RESIDENCE)))
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
    if status in c.ACTIVE_STATUSES:
        _returned(company)
    return company


def _returned(company):
    """A graduate that comes back to the base is no longer followed from outside it."""
    from . import followup_services

    followup_services.end_for_returning(company)


def update_company(company, values, *, by):
    """Apply edited file fields and audit the difference."""
    audit.update(company, values, COMPANY_FIELDS, action="tenant.update", user=by)


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
    blocking = [check for check in failing if not check.overridable]
    if blocking:
        raise WorkflowError(blocking[0].detail)
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
    _returned(company)
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


def record_exit(company, *, reason, exit_on, today, keys_returned, rent_settled, deposit_settled, notes, by):
    """Record a company's exit. A graduation makes it a graduate, followed for three years from ``exit_on``.

    Raises WorkflowError when the status does not allow an exit, a company that never moved in would
    graduate, or the date is after ``today`` (the base's day) or before the move-in.
    """
    _require(company, "exit")
    if reason == c.EXIT_GRADUATION and company.status != c.STATUS_IN_RESIDENCE:
        raise WorkflowError(_l("Only a company in residence can graduate; this one has not moved in."))
    if exit_on > today:
        raise WorkflowError(_l("The exit date is in the future. Record the exit on or after the day it happens."))
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
    if company.status == c.STATUS_GRADUATED:
        from . import followup_services
        followup_services.schedule_for(company, today=today)
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
    audit.update(rules, values, RULES_FIELDS, action="rules.update", user=by)
    return rules


def occupancy_summary(base):
    """Companies housed, by zone; those that count as actually housed; workstation companies against the quota.

    001 §8: except for the business-secretary, poverty-alleviation and cultural bases, a company counts
    toward the tenant-count standard only with its key staff and equipment in the base (the licence may be
    elsewhere with lease and rent proof). Workstation companies are counted as the admission check counts
    them: admitted and housed both hold a workstation.
    """
    from operator_app.accounts.constants import BASE_TYPES_WITHOUT_OCCUPANCY_RULE

    from .rules import workstation_limit

    rows = db.session.execute(
        select(TenantCompany.zone, TenantCompany.status, TenantCompany.is_workstation,
               TenantCompany.staff_on_site & TenantCompany.equipment_on_site, func.count(TenantCompany.id))
        .where(TenantCompany.status.in_(c.ACTIVE_STATUSES + (c.STATUS_APPLICANT,)),
               TenantCompany.deleted_at.is_(None))
        .group_by(TenantCompany.zone, TenantCompany.status, TenantCompany.is_workstation,
                  TenantCompany.staff_on_site & TenantCompany.equipment_on_site)).all()
    evidence_required = base.base_type not in BASE_TYPES_WITHOUT_OCCUPANCY_RULE
    summary = {"housed": 0, "counted": 0, "by_zone": {}, "workstations": 0, "applicants": 0,
               "standard": base.tenant_count_standard, "evidence_required": evidence_required}
    for zone, status, is_workstation, has_evidence, count in rows:
        if status == c.STATUS_APPLICANT:
            summary["applicants"] += count
            continue
        if is_workstation:
            summary["workstations"] += count
        if status in c.HOUSED_STATUSES:
            summary["housed"] += count
            summary["by_zone"][zone] = summary["by_zone"].get(zone, 0) + count
            if has_evidence or not evidence_required:
                summary["counted"] += count
    rules = rules_of(base)
    summary["workstation_limit"] = workstation_limit(base, rules)
    summary["quota_percent"] = rules.workstation_quota_percent
    return summary
