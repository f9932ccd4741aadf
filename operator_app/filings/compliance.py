"""The compliance page's items (issue 8): each of "8个有" and "6个要" (001 §三) as met / not met / unknown, with
the evidence behind it and the page where the base puts it right.

Everything is read from the records through the domain services and the profile checks (operator_app.bases.
checks, with the providers the domain packages register); nothing here changes a record. The number of queries
does not grow with the number of companies: counts and sums are aggregate queries, lists shown as evidence are
limited.

How an item's status is decided: it is met only when every one of its checks is met, not met as soon as one
check is not met, and unknown otherwise (a fact it needs is not recorded yet).
"""
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, or_, select

from ledger import constants as lc
from ledger import services as ledger_services
from ledger.models import Activity, Feedback, ServiceRequest, Visit
from tenants import constants as tc
from tenants import reports
from tenants.attendance_services import months_data
from tenants.followup_services import counts_for_base, overdue_followups
from tenants.models import Milestone, TenantCompany
from tenants.rent import percent
from tenants.rent_services import base_compliance, current_policy
from tenants.report_services import month_totals
from tenants.rules import rules_of
from tenants.services import occupancy_summary

from ..accounts import constants as ac
from ..bases.checks import MET, NOT_MET, UNKNOWN, profile_checks
from ..extensions import db
from ..memo import once
from ..timeutil import add_months, from_local, month_key, month_of, to_local
from . import compliance_services as documents_service
from . import services as filing_services


GROUP_HAVE, GROUP_MUST = "8个有", "6个要"
GROUP_LABELS = {GROUP_HAVE: _l("\"8个有\": what every base has"),
                GROUP_MUST: _l("\"6个要\": what the province looks for")}

#: How recent the latest ledger records must be (a product default: 001 "8个有" §7 asks that every enquiry and
#: every service be recorded, so a base at work has records in any three months).
RECENT_LEDGER_DAYS = 90
#: The year over which services, activities and incubation results are counted ("6个要" §1 and §4).
WINDOW_MONTHS = 12
#: 001 "6个要" §2: the special audit report of the last financial year; one dated within 18 months still covers
#: it until the next one is out (a product default).
AUDIT_REPORT_MAX_AGE_MONTHS = 18
#: 001 "6个要" §6: 申报省级双创基地的申报单位必须正式运营一年以上.
MIN_OPERATING_MONTHS = 12
#: 001 "6个要" §4: the incubation results the province counts (小升规、专精特新、高新技术企业、股份制改造、上市,
#: and awards of 创客中国 and other competitions).
INCUBATION_MILESTONES = ("above_scale", "specialised", "high_tech", "shareholding", "listing", "award")
#: 001 "6个要" §1: 八大服务功能中至少要具备四项 — also the categories services must actually be recorded in.
MIN_SERVICE_CATEGORIES = ac.MIN_SERVICE_FUNCTIONS
#: Companies named as evidence under one check, at most (the page links to the full list).
NAMES_SHOWN = 5


# --- What the page shows ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Link:
    """A page of the base, built when shown (so the items can be computed outside a request too)."""

    endpoint: str
    params: tuple = ()

    @property
    def url(self):
        return url_for(self.endpoint, **dict(self.params))


def link(endpoint, **params):
    return Link(endpoint, tuple(sorted(params.items())))


@dataclass(frozen=True)
class Evidence:
    """One fact behind a check: a count, a dated record, a file; with the page or file that shows it."""

    text: str
    link: Link | None = None
    on: date | None = None
    file_name: str | None = None

    @property
    def url(self):
        return self.link.url if self.link is not None else None


@dataclass(frozen=True)
class SubCheck:
    key: str
    label: str
    status: str
    detail: str
    evidence: tuple = ()
    fix: Link | None = None


def combined(statuses):
    """Met when every status is met, not met when any is, unknown otherwise."""
    statuses = list(statuses)
    if NOT_MET in statuses:
        return NOT_MET
    if UNKNOWN in statuses:
        return UNKNOWN
    return MET


@dataclass(frozen=True)
class Item:
    """One item of "8个有" or "6个要" with its checks."""

    group: str
    number: int
    key: str
    label: str
    requirement: str  # what the policy asks, in short
    checks: tuple
    fix: Link  # where the base works on the item when no single check names a better place

    @property
    def status(self):
        return combined(check.status for check in self.checks)

    @property
    def summary(self):
        """The details of the checks that decide the status."""
        return " ".join(dict.fromkeys(str(check.detail) for check in self.checks if check.status == self.status))

    @property
    def evidence(self):
        return tuple(evidence for check in self.checks for evidence in check.evidence)

    @property
    def fix_link(self):
        """Where to fix it: the page of the first check not met (or unknown), else the item's page."""
        for wanted in (NOT_MET, UNKNOWN):
            for check in self.checks:
                if check.status == wanted and check.fix is not None:
                    return check.fix
        return self.fix

    @property
    def fix_url(self):
        return self.fix_link.url

    def check(self, key):
        return next(check for check in self.checks if check.key == key)


def score(items):
    """(items met, items in all)."""
    return sum(1 for item in items if item.status == MET), len(items)


# --- The facts, read once -----------------------------------------------------------------------------------

DOCUMENTS_PAGE = link("filings.inspection_documents")
PROFILE_PAGE = link("bases.profile")


class _Facts:
    """What several items read, loaded once per page."""

    def __init__(self, base, today):
        self.base, self.today = base, today
        self.checks = {check.key: check for check in profile_checks(base)}
        self.documents = {}
        for document in documents_service.documents():  # newest first
            self.documents.setdefault(document.kind, []).append(document)
        self.rules = rules_of(base)
        # Every company of the files stays in the session while the items are computed, so a lease's or a
        # report's look-up of its company is answered from the session, not by a query per company.
        self.companies = db.session.scalars(select(TenantCompany)).all()
        self.since_year = add_months(today, -WINDOW_MONTHS)
        self.report_month = last_due_month(today, self.rules.report_due_day)
        self.categories, self.recent_entries = _categories(self.since_year, today,
                                                           today - timedelta(days=RECENT_LEDGER_DAYS))

    def profile_check(self, key, fix=None, evidence=()):
        """A profile check as a sub-check (unknown when no package decides it)."""
        check = self.checks.get(key)
        if check is None:
            return SubCheck(key, key, UNKNOWN, _l("Not recorded."), tuple(evidence), fix)
        return SubCheck(key, check.label, check.status, check.detail, tuple(evidence), fix)

    def document_check(self, key, label, kind, missing, fix=DOCUMENTS_PAGE):
        """Met when a document of ``kind`` is uploaded (not met with ``missing`` otherwise)."""
        found = self.documents.get(kind, [])
        if not found:
            return SubCheck(key, label, NOT_MET, missing, (), fix)
        return SubCheck(key, label, MET, _l("Uploaded: %(title)s.", title=found[0].title),
                        tuple(document_evidence(document) for document in found[:2]), fix)


def document_evidence(document):
    return Evidence(document.title or str(documents_service.DOCUMENT_KINDS.get(document.kind, document.kind)),
                    link("filings.inspection_document_file", inspection_document_id=document.id),
                    on=document.dated_on, file_name=document.file.original_name if document.file else None)


def last_due_month(today, due_day):
    """The latest month whose reports were due before ``today`` (last month once its due day has passed)."""
    month_on = reports.current_month_due(today)
    if today <= reports.due_on(month_on, due_day):
        month_on = reports.shift(month_on, -1)
    return month_on


def _categories(since, today, recent_since):
    """({category: Counter(kind: entries)} of the ledger from ``since`` to ``today``, {kind: entries} from
    ``recent_since`` to ``today``): one grouped query per kind gives both."""
    found, recent = {}, Counter()
    for model, kind in ((ServiceRequest, lc.KIND_REQUEST), (Visit, lc.KIND_VISIT), (Activity, lc.KIND_ACTIVITY)):
        for category, count, recent_count in db.session.execute(
                select(model.category, func.count(case((model.occurred_on >= since, model.id))),
                       func.count(case((model.occurred_on >= recent_since, model.id))))
                .where(model.deleted_at.is_(None), model.occurred_on >= min(since, recent_since),
                       model.occurred_on <= today)
                .group_by(model.category)):
            if count:
                found.setdefault(category, Counter())[kind] += count
            recent[kind] += recent_count
    return found, recent


# --- "8个有" ----------------------------------------------------------------------------------------------------

def _staff(facts):
    team = link("ledger.team")
    evidence = (Evidence(_l("The service team and the partner agencies"), team),)
    return Item(GROUP_HAVE, 1, "staff", _l("Staff (有人员)"),
                _l("A service team of at least 10 people, at least 3 certified startup mentors and at least 5 "
                   "partner agencies."),
                (facts.profile_check("team", team, evidence), facts.profile_check("mentors", team),
                 facts.profile_check("agencies", team)), team)


def _site(facts):
    base = facts.base
    described = base.total_area_m2 is not None and bool((base.site_boundaries or "").strip())
    area = SubCheck("site_area", _l("Area and boundaries"), MET if described else UNKNOWN,
                    _l("Total area %(area)s m²; boundaries recorded.", area=base.total_area_m2) if described
                    else _l("Record the site's total area and its boundaries in the base profile."),
                    (), PROFILE_PAGE)
    return Item(GROUP_HAVE, 2, "site", _l("Site (有场地)"),
                _l("Clear ownership: an owned site with its certificates, or a lease of at least 5 years; a clear "
                   "area and clear boundaries."),
                (facts.profile_check("site", PROFILE_PAGE), area, facts.profile_check("zones", PROFILE_PAGE),
                 facts.document_check("site_documents", _l("Site documents uploaded"),
                                      documents_service.KIND_SITE_DOCUMENTS,
                                      _l("Upload the property certificate or the lease contract the inspector "
                                         "compares with the originals."))), PROFILE_PAGE)


def _signage(facts):
    return Item(GROUP_HAVE, 3, "signage", _l("Signage (有标识)"),
                _l("A \"小微企业服务站\" sign on the wall of the public service hall."),
                (facts.profile_check("signage", PROFILE_PAGE),
                 facts.document_check("signage_photo", _l("Photo of the sign"), documents_service.KIND_SIGNAGE_PHOTO,
                                      _l("Upload a photo of the sign as it hangs in the service hall."))),
                PROFILE_PAGE)


def _incomplete_file():
    return or_(func.trim(TenantCompany.name) == "", func.trim(TenantCompany.legal_representative) == "",
               func.trim(TenantCompany.main_business) == "")


def _files(facts):
    housed = (TenantCompany.deleted_at.is_(None), TenantCompany.status.in_(tc.HOUSED_STATUSES))
    total, incomplete = db.session.execute(select(func.count(TenantCompany.id),
                                                  func.count(case((_incomplete_file(), 1))))
                                           .where(*housed)).one()
    companies = link("tenants.company_list")
    if not total:
        files = SubCheck("company_files", _l("Files of the housed companies"), UNKNOWN,
                         _l("No company is housed yet."), (), companies)
    elif not incomplete:
        files = SubCheck("company_files", _l("Files of the housed companies"), MET,
                         _l("Each of the %(n)d housed companies' files names the company, its legal representative "
                            "or person in charge and its main business.", n=total),
                         (Evidence(_l("The company files"), companies),), companies)
    else:
        named = db.session.execute(select(TenantCompany.id, TenantCompany.name).where(*housed, _incomplete_file())
                                   .order_by(TenantCompany.name).limit(NAMES_SHOWN)).all()
        files = SubCheck("company_files", _l("Files of the housed companies"), NOT_MET,
                         _l("%(n)d of the %(total)d housed companies' files lack the legal representative (or person "
                            "in charge) or the main business.", n=incomplete, total=total),
                         tuple(Evidence(name or _l("(no name)"), link("tenants.company_edit", company_id=company_id))
                               for company_id, name in named),
                         link("tenants.company_edit", company_id=named[0][0]))
    overdue = once(overdue_followups, facts.today)
    graduates = db.session.scalar(select(func.count(TenantCompany.id)).where(
        TenantCompany.deleted_at.is_(None), TenantCompany.status == tc.STATUS_GRADUATED))
    graduate_list = (Evidence(_l("%(n)d graduates in the files", n=graduates), link("tenants.graduate_list")),)
    if overdue:
        followed = SubCheck("graduates", _l("Graduates followed for three years"), NOT_MET,
                            _l("%(n)d follow-ups of graduates are overdue; the oldest was due on %(date)s.",
                               n=len(overdue), date=overdue[0].due_on.isoformat()),
                            graduate_list, link("tenants.followup_overdue"))
    else:
        followed = SubCheck("graduates", _l("Graduates followed for three years"), MET,
                            _l("No follow-up of a graduate is overdue."), graduate_list,
                            link("tenants.graduate_list"))
    return Item(GROUP_HAVE, 4, "files", _l("Files (有档案)"),
                _l("A file of every company: name, legal representative or person in charge, main business, "
                   "operations and development; graduates followed for three years after they leave."),
                (files, followed), companies)


RULE_TEXTS = {"entry_conditions": _l("Entry conditions"), "procedure": _l("Move-in procedure"),
              "management_rules": _l("Management rules"), "exit_conditions": _l("Exit conditions and procedure")}


def _rules(facts, totals):
    rules = facts.rules
    missing = [label for name, label in RULE_TEXTS.items() if not (getattr(rules, name) or "").strip()]
    edit = link("tenants.rules_edit")
    public = (Evidence(_l("The published rules"), link("tenants_public.public_rules")),) if rules.is_published \
        else ()
    if missing:
        written = SubCheck("rules", _l("Move-in and exit rules, published"), NOT_MET,
                           _l("The rules do not say yet: %(missing)s.", missing="、".join(str(m) for m in missing)),
                           public, edit)
    elif not rules.is_published:
        written = SubCheck("rules", _l("Move-in and exit rules, published"), NOT_MET,
                           _l("The rules are written but not published."), (), edit)
    else:
        written = SubCheck("rules", _l("Move-in and exit rules, published"), MET,
                           _l("Entry and exit conditions, procedure and management rules are written and "
                              "published."), public, edit)
    month_on = facts.report_month
    total = totals[month_on]
    page = link("tenants.reports_month", month=month_key(month_on))
    label = _l("Monthly operating data reported")
    if not total.expected:
        reporting = SubCheck("monthly_reports", label, UNKNOWN,
                             _l("No company was expected to report on %(month)s.", month=month_key(month_on)),
                             (), page)
    else:
        reporting = SubCheck("monthly_reports", label, MET if total.filed >= total.expected else NOT_MET,
                             _l("%(filed)d of %(expected)d companies reported their revenue, tax and employees for "
                                "%(month)s (%(share)d%%).", filed=total.filed, expected=total.expected,
                                month=month_key(month_on), share=total.filed * 100 // total.expected),
                             (Evidence(_l("The reports of %(month)s", month=month_key(month_on)), page),), page)
    return Item(GROUP_HAVE, 5, "rules", _l("Rules (有制度)"),
                _l("Published move-in and exit rules (conditions, procedure, industries, management), and tenants "
                   "reporting revenue, tax and employees regularly."),
                (written, reporting), edit)


def _policy(facts):
    policy = current_policy()
    edit = link("tenants.policy_edit")
    label = _l("Preferential policy document, posted")
    if policy is None:
        document = SubCheck("policy_document", label, NOT_MET, _l("No preferential policy document is recorded."),
                            (), edit)
    else:
        evidence = (Evidence(f"{policy.title}（{policy.document_number}）",
                             link("tenants.policy_document", policy_id=policy.id) if policy.file_id else None,
                             on=policy.issued_on),)
        document = SubCheck("policy_document", label, MET if policy.is_posted else NOT_MET,
                            _l("%(title)s, posted on the wall.", title=policy.title) if policy.is_posted
                            else _l("%(title)s is not posted on the wall.", title=policy.title), evidence, edit)
    result = once(base_compliance, facts.base, facts.today)
    page = link("tenants.rent_compliance")
    evidence = [Evidence(_l("The rent check: every lease against the market quotes"), page)]
    if result.long_free_rent:
        evidence.append(Evidence(_l("%(n)d leases with long free rent", n=len(result.long_free_rent)), page))
    if result.status == UNKNOWN:
        detail = _l("The discount cannot be checked yet: record market quotes and the leases.")
    else:
        detail = _l("Overall discount %(p)s%% against the required %(t)s%%.", p=percent(result.overall),
                    t=percent(result.threshold))
    discount = SubCheck("rent_discount", _l("Overall rent discount"), result.status, detail, tuple(evidence), page)
    return Item(GROUP_HAVE, 6, "policy", _l("Preferential policy (有优惠政策)"),
                _l("A formal document of the operator, posted on the wall; an overall rent discount of at least "
                   "20% below local market quotes."),
                (document, discount), page)


def _ledger(facts):
    today = facts.today
    since = today - timedelta(days=RECENT_LEDGER_DAYS)
    counts = {kind: facts.recent_entries[kind] for kind in ledger_services.ENTRY_MODELS}
    feedback = db.session.scalar(select(func.count(Feedback.id)).where(
        Feedback.created_at >= _day_start(since, facts.base.timezone)))
    ledger = link("ledger.index", date_from=since.isoformat())
    total = sum(counts.values())
    recent = SubCheck(
        "recent_entries", _l("Services recorded in the last %(n)d days", n=RECENT_LEDGER_DAYS),
        MET if total else NOT_MET,
        _l("%(requests)d requests, %(visits)d visits and %(activities)d activities recorded since %(date)s.",
           requests=counts[lc.KIND_REQUEST], visits=counts[lc.KIND_VISIT], activities=counts[lc.KIND_ACTIVITY],
           date=since.isoformat()),
        (Evidence(_l("The ledger since %(date)s", date=since.isoformat()), ledger),
         Evidence(_l("%(n)d ratings by companies", n=feedback), link("ledger.satisfaction"))),
        ledger)
    # Activities that ended in the window and are archived: within ARCHIVE_DAYS of their end, or late.
    rows = db.session.execute(select(Activity.id, Activity.title, Activity.ends_on, Activity.first_archived_at)
                              .where(Activity.deleted_at.is_(None), Activity.archived_at.is_not(None),
                                     Activity.ends_on >= since, Activity.ends_on <= today)).all()
    late = [row for row in rows if row.first_archived_at is not None and to_local(
        row.first_archived_at, facts.base.timezone).date() > row.ends_on + timedelta(days=lc.ARCHIVE_DAYS)]
    archived = SubCheck(
        "archived_on_time", _l("Activities archived within %(n)d days", n=lc.ARCHIVE_DAYS), NOT_MET if late else MET,
        _l("%(late)d of the %(n)d archived activities that ended since %(date)s were archived late.",
           late=len(late), n=len(rows), date=since.isoformat()) if late
        else _l("Each of the %(n)d archived activities that ended since %(date)s was archived within %(days)d days.",
                n=len(rows), date=since.isoformat(), days=lc.ARCHIVE_DAYS),
        tuple(Evidence(row.title, link("ledger.activity_detail", activity_id=row.id), on=row.ends_on)
              for row in late[:NAMES_SHOWN]), ledger)
    overdue = once(ledger_services.overdue_activities, today)
    pending = SubCheck(
        "no_overdue_archive", _l("No activity archive overdue"), NOT_MET if overdue else MET,
        _l("%(n)d activities still lack their notice, photos or sign-ins after %(days)d days.", n=len(overdue),
           days=lc.ARCHIVE_DAYS) if overdue else _l("No activity archive is overdue."),
        tuple(Evidence(activity.title, link("ledger.activity_detail", activity_id=activity.id), on=activity.ends_on)
              for activity in overdue[:NAMES_SHOWN]),
        link("ledger.activity_detail", activity_id=overdue[0].id) if overdue else ledger)
    return Item(GROUP_HAVE, 7, "ledger", _l("Service ledger (有服务台账)"),
                _l("Every request, visit and activity recorded with companies' feedback; each activity archived "
                   "with its notice, photos and sign-in sheet within 3 days."),
                (recent, archived, pending), ledger)


def _day_start(day, timezone_name):
    """The start of the base-local ``day`` as an aware UTC datetime."""
    return from_local(datetime(day.year, day.month, day.day), timezone_name)


def _occupancy(facts):
    summary = once(occupancy_summary, facts.base)
    companies = link("tenants.company_list")
    standard = summary["standard"]
    housed = (Evidence(_l("%(housed)d housed, %(counted)d with staff and equipment on site",
                          housed=summary["housed"], counted=summary["counted"]), companies),)
    if not standard:
        count = SubCheck("actual_count", _l("Companies actually housed"), UNKNOWN,
                         _l("Set the tenant-count standard of the base type in the base profile."), housed,
                         PROFILE_PAGE)
    else:
        count = SubCheck("actual_count", _l("Companies actually housed"),
                         MET if summary["counted"] >= standard else NOT_MET,
                         _l("%(n)d companies actually housed; the standard is %(standard)d.", n=summary["counted"],
                            standard=standard), housed, companies)
    limit = summary["workstation_limit"]
    workstation_page = link("tenants.company_list", workstation="yes")
    if limit is None:
        quota = SubCheck("workstation_quota", _l("Workstation companies within the quota"), UNKNOWN,
                         _l("The quota is a share of the tenant-count standard: set the standard first."), (),
                         PROFILE_PAGE)
    else:
        quota = SubCheck("workstation_quota", _l("Workstation companies within the quota"),
                         MET if summary["workstations"] <= limit else NOT_MET,
                         _l("%(n)d workstation companies; at most %(limit)d (%(p)d%% of the standard).",
                            n=summary["workstations"], limit=limit, p=summary["quota_percent"]),
                         (Evidence(_l("The workstation companies"), workstation_page),), workstation_page)
    month_on = add_months(month_of(facts.today), -1)
    data = months_data(facts.base, [(month_on.year, month_on.month)], facts.today)[0]
    page = link("tenants.attendance_month", month=month_key(month_on))
    below = [row for row in data.companies if row.status == NOT_MET]
    unrecorded = [row for row in data.companies if row.status == UNKNOWN]
    days = facts.rules.attendance_days
    if below:
        detail = _l("%(n)d workstation companies were on site fewer than %(days)d days a week on average in "
                    "%(month)s.", n=len(below), days=days, month=month_key(month_on))
    elif unrecorded:
        detail = _l("%(n)d workstation companies have no one registered for attendance in %(month)s.",
                    n=len(unrecorded), month=month_key(month_on))
    elif data.companies:
        detail = _l("Every workstation company was on site at least %(days)d days a week on average in %(month)s.",
                    days=days, month=month_key(month_on))
    else:
        detail = _l("No workstation company: there is no attendance to check.")
    attendance = SubCheck(
        "attendance", _l("Workstation attendance"), combined(row.status for row in data.companies), detail,
        tuple(Evidence(row.company.name, link("tenants.attendance_company", company_id=row.company.id))
              for row in (below or unrecorded)[:NAMES_SHOWN]) or (Evidence(_l("The attendance of %(month)s",
                                                                                month=month_key(month_on)), page),),
        page)
    return Item(GROUP_HAVE, 8, "occupancy", _l("Companies actually housed (有实际入驻企业)"),
                _l("At least the tenant-count standard of the base type actually housed; workstation companies at "
                   "most 20 percent of the standard, their people on site more than 4 days a week."),
                (count, quota, attendance), companies)


# --- "6个要" ----------------------------------------------------------------------------------------------------

def _functions(facts):
    ledger = link("ledger.index", date_from=facts.since_year.isoformat())
    used = {category: sum(counter.values()) for category, counter in facts.categories.items()
            if sum(counter.values())}
    recorded = SubCheck(
        "categories", _l("Services recorded in at least %(n)d functions", n=MIN_SERVICE_CATEGORIES),
        MET if len(used) >= MIN_SERVICE_CATEGORIES else NOT_MET,
        _l("Services were recorded in %(n)d of the eight functions since %(date)s.", n=len(used),
           date=facts.since_year.isoformat()),
        tuple(Evidence(_l("%(name)s: %(n)d", name=ac.SERVICE_FUNCTIONS.get(category, category), n=n),
                       link("ledger.index", date_from=facts.since_year.isoformat(), category=category))
              for category, n in sorted(used.items(), key=lambda pair: -pair[1])), ledger)
    checks = [facts.profile_check("service_functions", PROFILE_PAGE), recorded]
    if facts.base.is_demonstration:
        checks.append(facts.document_check(
            "venture_fund", _l("Venture fund (示范基地)"), documents_service.KIND_VENTURE_FUND,
            _l("A demonstration base must set up or partner with a venture fund: upload the agreement and its "
               "investment cases.")))
    return Item(GROUP_MUST, 1, "functions", _l("Service functions (服务功能要齐全)"),
                _l("At least 4 of the 8 service functions offered, partner agencies' services included."),
                tuple(checks), ledger)


def _audit(facts):
    found = facts.documents.get(documents_service.KIND_AUDIT_REPORT, [])
    label = _l("Special audit report")
    oldest = add_months(facts.today, -AUDIT_REPORT_MAX_AGE_MONTHS)
    if not found:
        check = SubCheck("audit_report", label, NOT_MET,
                         _l("Upload the special audit report (with its verifiable bar code or QR code)."), (),
                         DOCUMENTS_PAGE)
    else:
        latest = found[0]  # the newest date first
        if latest.dated_on is None:
            status, detail = UNKNOWN, _l("The audit report has no date: record it.")
        elif latest.dated_on < oldest:
            status, detail = NOT_MET, _l("The latest audit report is dated %(date)s, more than %(n)d months ago.",
                                         date=latest.dated_on.isoformat(), n=AUDIT_REPORT_MAX_AGE_MONTHS)
        else:
            status, detail = MET, _l("Audit report dated %(date)s.", date=latest.dated_on.isoformat())
        check = SubCheck("audit_report", label, status, detail, (document_evidence(latest),), DOCUMENTS_PAGE)
    return Item(GROUP_MUST, 2, "audit", _l("Special audit report (专项审计报告内容要完整)"),
                _l("A special audit report with a verifiable bar code: income and spending, service costs, "
                   "investments, number of tenant companies."),
                (check,), DOCUMENTS_PAGE)


PERFORMANCE_FIGURES = (("revenue", _l("Revenue")), ("tax", _l("Tax paid")), ("employees", _l("Employees")),
                       ("housed", _l("Companies housed")))


def _performance(facts, totals, months):
    before, now = months[:WINDOW_MONTHS], months[WINDOW_MONTHS:]
    page = link("tenants.reports_month", month=month_key(now[-1]))
    complete = all(totals[month_on].complete for month_on in months)  # a missing report is never a zero

    def figures(window):
        return {"revenue": sum(totals[m].revenue_fen for m in window), "tax": sum(totals[m].tax_fen for m in window),
                "employees": totals[window[-1]].employees, "housed": totals[window[-1]].expected}

    checks = []
    if not complete:
        gaps = [month_key(m) for m in months if not totals[m].complete]
        for key, label in PERFORMANCE_FIGURES:
            checks.append(SubCheck(key, label, UNKNOWN,
                                   _l("Two full years of monthly reports from every company are needed (%(first)s "
                                      "to %(last)s) to compare the years; missing on %(gaps)s.",
                                      first=month_key(months[0]),
                                      last=month_key(months[-1]),
                                      gaps="、".join(gaps[:3]) + ("…" if len(gaps) > 3 else "")), (), page))
    else:
        earlier, later = figures(before), figures(now)
        period = _l("%(first)s–%(last)s against %(before_first)s–%(before_last)s", first=month_key(now[0]),
                    last=month_key(now[-1]), before_first=month_key(before[0]), before_last=month_key(before[-1]))
        filed = sum(totals[m].filed for m in months)
        expected = sum(totals[m].expected for m in months)
        for key, label in PERFORMANCE_FIGURES:
            if key in ("revenue", "tax"):
                detail = _l("%(now)s against %(before)s the year before (万元).", now=reports.wan(later[key]),
                            before=reports.wan(earlier[key]))
            else:
                detail = _l("%(now)s against %(before)s the year before.", now=later[key], before=earlier[key])
            checks.append(SubCheck(
                key, label, MET if later[key] >= earlier[key] else NOT_MET, detail,
                (Evidence(period, page),
                 Evidence(_l("%(filed)d of %(expected)d monthly reports filed over the two years", filed=filed,
                             expected=expected), page)) if key == "revenue" else (), page))
    return Item(GROUP_MUST, 3, "performance", _l("Operating results (经营业绩要良好)"),
                _l("Tenant companies, employment, revenue and tax growing year on year (from the companies' "
                   "monthly reports)."),
                tuple(checks), page)


def _operating(facts):
    since = facts.since_year
    companies = link("tenants.company_list")
    rules = rules_of(facts.base)
    rows = db.session.execute(
        select(Milestone.kind, Milestone.occurred_on, TenantCompany)
        .join(TenantCompany, TenantCompany.id == Milestone.company_id)
        .where(Milestone.deleted_at.is_(None), TenantCompany.deleted_at.is_(None),
               Milestone.kind.in_(INCUBATION_MILESTONES), Milestone.occurred_on >= since,
               Milestone.occurred_on <= facts.today)).all()
    counts = Counter(kind for kind, day, company in rows if counts_for_base(company, day, rules))
    results = SubCheck(
        "incubation_results", _l("Incubation results recorded"), MET if counts else NOT_MET,
        _l("%(n)d incubation results (小升规, 专精特新, 高新技术企业, shareholding reform, listing, "
           "competition awards) recorded since %(date)s.", n=sum(counts.values()), date=since.isoformat()),
        tuple(Evidence(_l("%(name)s: %(n)d", name=tc.MILESTONE_KINDS[kind], n=counts[kind]), companies)
              for kind in INCUBATION_MILESTONES if counts.get(kind)), companies)
    held = sum(counter[lc.KIND_ACTIVITY] for counter in facts.categories.values())
    activities_page = link("ledger.index", date_from=since.isoformat(), kind=lc.KIND_ACTIVITY)
    activities = SubCheck("activities", _l("Activities held"), MET if held else NOT_MET,
                          _l("%(n)d activities held since %(date)s.", n=held, date=since.isoformat()),
                          (Evidence(_l("The activities of the year"), activities_page),), activities_page)
    return Item(GROUP_MUST, 4, "operating", _l("Operating level (运营水平要提升)"),
                _l("Companies incubated into 小升规, 专精特新, high-tech, shareholding or listed companies; "
                   "competition entries; cultural and group activities."),
                (results, activities), companies)


def _inspection(facts, by_key):
    """The six things an inspector looks at (六查看), decided by the other items' checks."""
    signage = by_key["signage"]
    checks = (
        replace(by_key["occupancy"].check("actual_count"), key="tenant_count", label=_l("Actual tenant count")),
        replace(by_key["site"].check("site_documents"), label=_l("Site documents")),
        replace(by_key["audit"].check("audit_report"), label=_l("Audit report")),
        facts.document_check("finance_system", _l("Finance system and finance staff"),
                             documents_service.KIND_FINANCE_SYSTEM,
                             _l("Upload the base's finance system (财务制度) the inspector checks.")),
        replace(by_key["ledger"].check("recent_entries"), key="ledger_records", label=_l("Service ledger records")),
        SubCheck("signage", _l("Signage"), signage.status,
                 next(check.detail for check in signage.checks if check.status == signage.status),
                 signage.evidence, signage.fix_link),
    )
    return Item(GROUP_MUST, 5, "inspection", _l("On-site inspection (现场查看要认真)"),
                _l("The inspector counts the companies actually housed and checks the site documents, the audit "
                   "report, the finance system, the service ledger and the signage."),
                checks, DOCUMENTS_PAGE)


def _guidance(facts):
    base, today = facts.base, facts.today
    started = base.operating_since_on  # 正式运营, from the profile (signing up here is not when the base began)
    if started is None:
        running = SubCheck("operating_year", _l("Operating for at least a year"), UNKNOWN,
                           _l("The day the base started is not recorded."), (), link("bases.profile"))
    else:
        enough = started <= add_months(today, -MIN_OPERATING_MONTHS)
        running = SubCheck("operating_year", _l("Operating for at least a year"), MET if enough else NOT_MET,
                           _l("Running since %(date)s.", date=started.isoformat()) if enough
                           else _l("Running since %(date)s: less than a year.", date=started.isoformat()), (), None)
    settings = once(filing_services.settings_of, base)
    filed = {(filing.year, filing.quarter): filing for filing in filing_services.latest_filings()}
    ever_submitted = once(filing_services.submitted_quarters)
    due, missing, evidence = [], [], []
    for year, quarter in filing_services.ended_quarters(base, today):
        filing = filed.get((year, quarter))
        deadline_on = filing.deadline_on if filing else filing_services.deadline(year, quarter, settings)
        if deadline_on >= today:
            continue  # not due yet
        period = f"{year}Q{quarter}"
        due.append(period)
        submitted = (year, quarter) in ever_submitted
        if not submitted:
            missing.append((year, quarter))
        evidence.append(Evidence(
            _l("%(period)s: submitted", period=period) if submitted else _l("%(period)s: not submitted",
                                                                             period=period),
            link("filings.filing", filing_id=filing.id) if filing else link("filings.quarter", year=year,
                                                                            quarter=quarter),
            on=deadline_on))
    index = link("filings.index")
    label = _l("Quarterly filings submitted")
    if not due:
        filings = SubCheck("quarterly_filings", label, UNKNOWN,
                           _l("No quarterly filing has fallen due since the base was created."), (), index)
    elif missing:
        filings = SubCheck("quarterly_filings", label, NOT_MET,
                           _l("Not submitted by the deadline: %(quarters)s.",
                              quarters="、".join(f"{year}Q{quarter}" for year, quarter in missing)),
                           tuple(evidence), link("filings.quarter", year=missing[0][0], quarter=missing[0][1]))
    else:
        filings = SubCheck("quarterly_filings", label, MET,
                           _l("Submitted: %(quarters)s.", quarters="、".join(due)), tuple(evidence), index)
    return Item(GROUP_MUST, 6, "guidance", _l("Cultivation and guidance (培育指导要到位)"),
                _l("Operating formally for more than a year, and the base's data filed through the provincial "
                   "platform every quarter."),
                (running, filings), index)


# --- All of them ------------------------------------------------------------------------------------------------

def compliance_items(base, today):
    """The 14 items of ``base`` on ``today`` (its own day): the eight of "8个有", then the six of "6个要"."""
    facts = _Facts(base, today)
    months = [reports.shift(facts.report_month, -n) for n in range(2 * WINDOW_MONTHS - 1, -1, -1)]
    totals = month_totals(months)  # one read of the reports for both the rules and the results
    have = [_staff(facts), _site(facts), _signage(facts), _files(facts), _rules(facts, totals), _policy(facts),
            _ledger(facts), _occupancy(facts)]
    by_key = {item.key: item for item in have}
    audit = _audit(facts)
    by_key[audit.key] = audit
    must = [_functions(facts), audit, _performance(facts, totals, months), _operating(facts),
            _inspection(facts, by_key), _guidance(facts)]
    return have + must
