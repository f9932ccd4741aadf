"""The checkable parts of a base's move-in rules: industry allowed, documents present, workstation quota.

Each check answers passed / not passed with the reason, so the review page can show it and the decision
can keep it. The 20% workstation quota is 001 "8个有" §8; the percentage is a base setting.
"""
from dataclasses import asdict, dataclass

from flask_babel import gettext as _
from sqlalchemy import func, inspect as sa_inspect, select

from operator_app.accounts.services import on_base_created
from operator_app.db import current_base_id
from operator_app.extensions import db

from . import constants as c
from .models import BaseRules, TenantCompany


_RULES_KEY = "base_rules"  # (base id, its BaseRules) in the session's info


@dataclass(frozen=True)
class RuleCheck:
    key: str
    label: str
    passed: bool
    detail: str
    overridable: bool = True  # a manager may admit despite it, with a written reason

    def as_record(self):
        return {key: str(value) if key in ("label", "detail") else value for key, value in asdict(self).items()}


@on_base_created
def create_rules(base):
    """Every base has exactly one rules row, made with the base (migration 7d2e4c1b9a60 made the older bases'),
    so reading the rules never writes: on SQLite a page that wrote here took the database's write lock."""
    db.session.add(BaseRules(allowed_industries=[], required_documents=[]))


def rules_of(base):
    """The base's rules row.

    Read once per session and base: a page's panels each ask for it (the dashboard did nine times). The row
    kept is the session's own object, so a change made in the session shows, and a commit's expiry reloads it.
    """
    base_id = current_base_id()
    kept = db.session.info.get(_RULES_KEY)
    if kept is not None and base_id is not None and kept[0] == base_id and sa_inspect(kept[1]).persistent:
        return kept[1]
    rules = db.session.execute(select(BaseRules)).scalar_one()
    if base_id is not None:
        db.session.info[_RULES_KEY] = (base_id, rules)
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


def industry_allowed(rules, industry):
    return not rules.allowed_industries or industry in rules.allowed_industries


def workstation_room(base, rules, exclude_id=None):
    """How many more workstation companies the base may admit, or None while the standard is unknown."""
    limit = workstation_limit(base, rules)
    return None if limit is None else limit - workstation_companies_count(exclude_id=exclude_id)


def direct_entry_problems(base, *, industry, is_workstation, company=None, workstations_before=0):
    """Why a company may not be entered (or edited) straight into residence, by field; empty when it may.

    Entering a housed company directly must not get round the review: an industry the rules do not allow
    and a workstation company beyond the quota go through the review, where only a manager can override.
    ``workstations_before`` counts workstation companies earlier in the same import.
    """
    rules = rules_of(base)
    problems = {}
    was_allowed_industry = company is not None and company.industry == industry
    if not industry_allowed(rules, industry) and not was_allowed_industry:
        problems["industry"] = _("This industry is not among those the base's rules allow. Record the company "
                                 "as an application: a manager can admit it in the review with a reason.")
    already_workstation = company is not None and company.is_workstation
    if is_workstation and not already_workstation:
        room = workstation_room(base, rules, exclude_id=company.id if company else None)
        if room is None:
            problems["is_workstation"] = _("Set the tenant-count standard in the base profile first: the "
                                           "workstation quota is a share of it.")
        elif room - workstations_before < 1:
            problems["is_workstation"] = _("The base already has as many workstation companies as its quota "
                                           "allows (%(limit)d). Record an application instead: a manager can "
                                           "admit it in the review with a reason.",
                                           limit=workstation_limit(base, rules))
    return problems


def admission_checks(base, company, *, is_workstation=None):
    """The checks of admitting ``company`` (as a workstation company when ``is_workstation``)."""
    from .services import find_by_uscc

    rules = rules_of(base)
    is_workstation = company.is_workstation if is_workstation is None else is_workstation
    checks = []

    holder = find_by_uscc(company.uscc, exclude_id=company.id)
    if holder is not None:
        checks.append(RuleCheck(
            "code", _("Unified social credit code"), False,
            _("%(name)s, already in the base, has this code; one code, one company.", name=holder.name),
            overridable=False))

    allowed = rules.allowed_industries or []
    industry_ok = industry_allowed(rules, company.industry)
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
        current = workstation_companies_count(exclude_id=company.id)  # admitted and housed both hold one
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
