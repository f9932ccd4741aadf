"""Rent services: market quotes, the preferential policy, leases and the rent settings. Each flushes and
audits; the request commits once. The discount arithmetic itself lives in ``tenants.rent``."""
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from operator_app import audit
from operator_app.extensions import db
from operator_app.storage import DOCUMENT_TYPES, save_upload
from operator_app.timeutil import utcnow

from . import constants as c
from . import rent
from .models import Lease, MarketQuote, PreferentialPolicy, TenantCompany, unit_set
from .rules import rules_of

QUOTE_FIELDS = ("quoted_on", "source", "source_name", "location", "space_type", "price_fen", "notes")
POLICY_FIELDS = ("title", "document_number", "issuing_unit", "issued_on", "kinds", "summary", "is_posted")
LEASE_FIELDS = ("space_type", "units", "area_m2", "seats", "starts_on", "ends_on", "list_rent_fen",
                "actual_rent_fen", "free_months", "discounted_months", "discounted_rent_fen", "deposit_fen", "notes")
HISTORY_PER_PAGE = 25  # leases out of term per page of the rent check
SETTINGS_FIELDS = ("discount_threshold_percent", "quote_max_age_months", "free_rent_warning_months")


def quotes():
    return db.session.scalars(select(MarketQuote).where(MarketQuote.deleted_at.is_(None))
                              .order_by(MarketQuote.quoted_on.desc(), MarketQuote.id.desc())).all()


def record_quote(values, *, upload=None, by):
    """Record a market quote, with its evidence file when one is uploaded (storage.UploadError if refused)."""
    quote = MarketQuote(created_by_id=by.id, **{field: values[field] for field in QUOTE_FIELDS})
    if upload is not None and upload.filename:
        quote.file_id = save_upload(upload, allowed=DOCUMENT_TYPES, by=by).id
    db.session.add(quote)
    db.session.flush()
    audit.record("quote.create", quote, after=audit.snapshot(quote, QUOTE_FIELDS), user=by)
    return quote


def remove_quote(quote, *, by):
    quote.deleted_at = utcnow()
    db.session.flush()
    audit.record("quote.delete", quote, before=audit.snapshot(quote, QUOTE_FIELDS), user=by)


def current_policy():
    """The latest preferential policy of the base, or None."""
    return db.session.scalar(select(PreferentialPolicy).where(PreferentialPolicy.deleted_at.is_(None))
                             .order_by(PreferentialPolicy.issued_on.desc(), PreferentialPolicy.id.desc()))


def save_policy(values, *, upload=None, by):
    """Record the base's preferential policy document (a new document replaces the current one as current)."""
    policy = current_policy()
    same_document = policy is not None and policy.document_number == values["document_number"]
    before = audit.snapshot(policy, POLICY_FIELDS) if same_document else None
    if not same_document:
        policy = PreferentialPolicy()
        db.session.add(policy)
    for field in POLICY_FIELDS:
        setattr(policy, field, values[field])
    if upload is not None and upload.filename:
        policy.file_id = save_upload(upload, allowed=DOCUMENT_TYPES, by=by).id
    db.session.flush()
    audit.record("policy.update" if same_document else "policy.create", policy, before=before,
                 after=audit.snapshot(policy, POLICY_FIELDS), user=by)
    return policy


def leases_of(company):
    return db.session.scalars(select(Lease).where(Lease.company_id == company.id, Lease.deleted_at.is_(None))
                              .order_by(Lease.starts_on.desc())).all()


def _leases_with_companies():
    # The company comes with its lease from the join (the check reads lease.company for every lease).
    return (select(Lease).join(Lease.company).options(contains_eager(Lease.company))
            .where(Lease.deleted_at.is_(None)).order_by(TenantCompany.name, Lease.starts_on, Lease.id))


def all_leases():
    return db.session.scalars(_leases_with_companies()).all()


def _term_covers(today):
    return (Lease.starts_on <= today) & (Lease.ends_on >= today)


def leases_in_term(today):
    """The leases whose term covers ``today``: the running ones, and those whose company has left early."""
    return db.session.scalars(_leases_with_companies().where(_term_covers(today))).all()


def leases_out_of_term(today, page, per_page=HISTORY_PER_PAGE):
    """The leases ended or not begun on ``today``, a page at a time (a base's history grows every year)."""
    return db.paginate(_leases_with_companies().where(~_term_covers(today)), page=page, per_page=per_page,
                       error_out=False)


def overlapping_leases(units, starts_on, ends_on, exclude_id=None):
    """Other leases of the base that hold one of ``units`` for part of the same period (a lease stops holding
    its units when its company leaves)."""
    wanted = unit_set(units)
    statement = select(Lease).where(Lease.deleted_at.is_(None), Lease.starts_on <= ends_on,
                                    Lease.ends_on >= starts_on)
    if exclude_id is not None:
        statement = statement.where(Lease.id != exclude_id)
    return [lease for lease in db.session.scalars(statement)
            if lease.effective_end >= starts_on and lease.unit_set() & wanted]


def create_lease(company, values, *, by):
    lease = Lease(company_id=company.id, **{field: values[field] for field in LEASE_FIELDS})
    db.session.add(lease)
    db.session.flush()
    audit.record("lease.create", lease, after=audit.snapshot(lease, ("company_id",) + LEASE_FIELDS), user=by)
    return lease


def update_lease(lease, values, *, by):
    audit.update(lease, values, LEASE_FIELDS, action="lease.update", user=by)


class LeaseInUse(Exception):
    """The lease cannot be removed: the message (translated) says why and what to do instead."""


_removal_checks = []


def register_lease_removal_check(check):
    """Register ``check(lease)`` -> a message (why the lease cannot be removed) or None. Packages that keep
    records of a lease (billing's bills) register one at import, so tenants never imports them."""
    if check not in _removal_checks:
        _removal_checks.append(check)
    return check


def lease_removal_refusal(lease):
    """The first registered check's message refusing to remove ``lease``, or None when it may be removed."""
    for check in _removal_checks:
        message = check(lease)
        if message:
            return message
    return None


def remove_lease(lease, *, by):
    """Soft-delete a lease entered by mistake (an ended lease simply ends: it stays as evidence). Raises
    LeaseInUse when a registered check refuses it (a billed lease: its months would be billed again)."""
    refusal = lease_removal_refusal(lease)
    if refusal:
        raise LeaseInUse(refusal)
    lease.deleted_at = utcnow()
    db.session.flush()
    audit.record("lease.delete", lease, before=audit.snapshot(lease, LEASE_FIELDS), user=by)


def save_settings(base, values, *, by):
    audit.update(rules_of(base), values, SETTINGS_FIELDS, action="rent_settings.update", user=by)


def base_compliance(base, today, *, every_lease=False):
    """The rent discount check of the base as of ``today``.

    Its rows are the leases whose term covers ``today``, the only ones that weigh in the overall discount;
    ``every_lease`` adds the ended and future ones (the spreadsheet an inspector keeps lists them all).
    """
    rules = rules_of(base)
    leases = all_leases() if every_lease else leases_in_term(today)
    return rent.compliance(leases, quotes(), today=today, threshold_percent=rules.discount_threshold_percent,
                           max_age_months=rules.quote_max_age_months,
                           free_rent_warning_months=rules.free_rent_warning_months)


def check_leases(leases, result, base, today):
    """Each of ``leases`` against the market references of ``result`` (the base's check as of ``today``), as
    rows like the check's own (for the pages of the leases out of term)."""
    warning = rules_of(base).free_rent_warning_months
    return [rent.check_lease(lease, result.references, today, warning) for lease in leases]


def leases_ending_soon(today, days=c.LEASE_ENDING_SOON_DAYS):
    return db.session.scalars(select(Lease).join(Lease.company).options(contains_eager(Lease.company)).where(
        Lease.deleted_at.is_(None), Lease.ends_on >= today, Lease.ends_on <= today + timedelta(days=days),
        TenantCompany.status.in_(c.ACTIVE_STATUSES)).order_by(Lease.ends_on)).all()
