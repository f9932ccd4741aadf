"""The checkable parts of a base's move-in rules: industry allowed, documents present, workstation quota.

Each check answers passed / not passed with the reason, so the review page can show it and the decision
can keep it. The 20% workstation quota is 001 "8个有" §8; the percentage is a base setting.
"""
from dataclasses import asdict, dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from operator_app.extensions import db

from . import constants as c
from .models import BaseRules, TenantCompany


@dataclass(frozen=True)
class RuleCheck:
    key: str
    label: str
    passed: bool
    detail: str

    def as_record(self):
        return {key: str(value) if key in ("label", "detail") else value for key, value in asdict(self).items()}


def rules_of(base):
    """The base's rules row, created empty on first use (every base has exactly one)."""
    rules = db.session.scalar(select(BaseRules))
    if rules is None:
        rules = BaseRules(allowed_industries=[], required_documents=[])
        db.session.add(rules)
        db.session.flush()
    return rules


def workstation_limit(base, rules):
    """The most workstation companies the base may house, or None while the tenant-count standard is unknown."""
    if not base.tenant_count_standard:
        return None
    return base.tenant_count_standard * rules.workstation_quota_percent // 100


def workstation_companies_count(exclude_id=None):
    """Workstation companies admitted or housed now (both take a workstation)."""
    statement = select(func.count(TenantCompany.id)).where(
        TenantCompany.is_workstation.is_(True), TenantCompany.deleted_at.is_(None),
        TenantCompany.status.in_((c.STATUS_ADMITTED, c.STATUS_IN_RESIDENCE)))
    if exclude_id is not None:
        statement = statement.where(TenantCompany.id != exclude_id)
    return db.session.scalar(statement)


def admission_checks(base, company, *, is_workstation=None):
    """The checks of admitting ``company`` (as a workstation company when ``is_workstation``)."""
    rules = rules_of(base)
    is_workstation = company.is_workstation if is_workstation is None else is_workstation
    checks = []

    allowed = rules.allowed_industries or []
    industry_ok = not allowed or company.industry in allowed
    checks.append(RuleCheck(
        "industry", _("Industry allowed"), industry_ok,
        _("Every industry is allowed.") if not allowed else
        _("%(industry)s is allowed.", industry=company.industry_label) if industry_ok else
        _("%(industry)s is not among the industries the base's rules allow.", industry=company.industry_label)))

    present = {document.kind for document in company.documents}
    missing = [c.DOCUMENT_KINDS[kind] for kind in rules.required_documents or [] if kind not in present]
    checks.append(RuleCheck(
        "documents", _("Required documents"), not missing,
        _("All required documents are in the file.") if not missing else
        _("Missing: %(documents)s.", documents="、".join(str(label) for label in missing))))

    if is_workstation:
        limit = workstation_limit(base, rules)
        current = workstation_companies_count(exclude_id=company.id)
        if limit is None:
            checks.append(RuleCheck(
                "workstation_quota", _("Workstation quota"), False,
                _("The base profile has no tenant-count standard, so the %(percent)d%% quota cannot be checked.",
                  percent=rules.workstation_quota_percent)))
        else:
            checks.append(RuleCheck(
                "workstation_quota", _("Workstation quota"), current + 1 <= limit,
                _("Admitting makes %(after)d workstation companies; the limit is %(limit)d "
                  "(%(percent)d%% of the standard of %(standard)d).", after=current + 1, limit=limit,
                  percent=rules.workstation_quota_percent, standard=base.tenant_count_standard)))
    return checks
