"""The annual work summary (年度工作总结): the year's figures beside the year before (the draft texts written from
them are in ``annual_text``), and the only code that changes a summary (draft, refresh the figures, save the
manager's text, mark sent).

001 §四: 每年1月15日前…报送上年度的工作总结，包括主要工作措施、主要经营指标完成情况、孵化培育各类企业成果、存在的问题和
工作计划. The figures are the four quarters' figures (``quarter_figures``) added up, so a year and its quarterly
filings agree; a month a company did not report is left out of the totals (never counted as zero) and named,
a figure no report gives is None (not known), and a comparison with incomplete reports is not made.

The texts are the manager's: refreshing the figures rewrites only a section still exactly as it was drafted.
"""
import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ledger.models import Activity, Feedback, ServiceRequest, Visit
from tenants import constants as tc
from tenants import reports
from tenants.followup_services import counts_for_base, tracking_until
from tenants.models import Milestone, TenantCompany
from tenants.rules import rules_of

from .. import audit
from ..accounts.constants import SERVICE_FUNCTIONS
from ..extensions import db
from ..timeutil import to_local, utcnow
from .annual_text import NOTE_INCOMPLETE, NOTE_LABELS, document_locale, draft_sections, note_label  # noqa: F401
from .labels import UNIT_LABELS
from .models import AnnualSummary
from .quarterly import GAP_LEFT_OUT, ServiceCounts, quarter_figures

SCHEMA = 1
#: 001 §四: 每年1月15日前 (day of January the summary of the year before is due).
DUE_DAY = 15
#: After the due day, the dashboard keeps reminding until the summary is marked sent, up to this day.
REMIND_UNTIL = (3, 31)
#: The January job also runs in February and March, to catch up a server that was down in January.
JOB_MONTHS = (1, 2, 3)
SECTION_MAX = 20_000

#: The sections, in the policy's order (001 §四).
SECTION_KEYS = ("measures", "indicators", "results", "problems", "plan")
SECTION_LABELS = {
    "measures": _l("Main work measures"),
    "indicators": _l("Key operating indicators"),
    "results": _l("Incubation results"),
    "problems": _l("Problems"),
    "plan": _l("Work plan for the next year"),
}
#: The headings of the document, numbered as an official Chinese document numbers them.
SECTION_HEADINGS = {
    "measures": _l("1. Main work measures"),
    "indicators": _l("2. Key operating indicators"),
    "results": _l("3. Incubation results"),
    "problems": _l("4. Problems"),
    "plan": _l("5. Work plan for the next year"),
}

#: The indicators compared with the year before: key, unit (labels.UNIT_LABELS, plus "score").
INDICATORS = (
    ("housed", "companies"), ("moved_in", "companies"), ("exited", "companies"), ("graduates", "companies"),
    ("followed", "companies"), ("revenue_wan", "wan"), ("tax_wan", "wan"), ("employees", "people"),
    ("cultivated", "companies"), ("financing_wan", "wan"), ("service_requests", "times"), ("visits", "times"),
    ("activities", "times"), ("participants", "person_times"), ("feedback_average", "score"),
    ("months_missing", "company_months"),
)
INDICATOR_LABELS = {
    "housed": _l("Companies housed at the year's end"),
    "moved_in": _l("Companies that moved in during the year"),
    "exited": _l("Companies that left during the year"),
    "graduates": _l("Graduates of the year"),
    "followed": _l("Graduates followed at the year's end"),
    "revenue_wan": _l("Revenue"),
    "tax_wan": _l("Tax paid"),
    "employees": _l("Employees at the year's end"),
    "cultivated": _l("Companies with recorded results"),
    "financing_wan": _l("Financing raised"),
    "service_requests": _l("Service requests"),
    "visits": _l("Company visits"),
    "activities": _l("Activities"),
    "participants": _l("Activity participants"),
    "feedback_average": _l("Average feedback rating"),
    "months_missing": _l("Monthly reports missing"),
}
MONEY = ("revenue_wan", "tax_wan", "financing_wan")

audit.register_labels(
    actions={"filings.annual_draft": _l("Annual summary drafted"),
             "filings.annual_refresh": _l("Annual summary figures refreshed"),
             "filings.annual_sections": _l("Annual summary text edited"),
             "filings.annual_sent": _l("Annual summary marked sent")},
    objects={"AnnualSummary": _l("Annual work summary")},
    fields={**SECTION_LABELS, "sent_on": _l("Sent on")})


def unit_label(unit):
    return _l("out of 5") if unit == "score" else UNIT_LABELS[unit]


# --- The figures ---------------------------------------------------------------------------------------------

def _iso(day):
    return day.isoformat() if day is not None else None


def _wan(fen):
    value = reports.wan(fen)
    return None if value is None else f"{value:.2f}"


def _by_name(companies):
    unique = {company.id: company for company in companies}
    return sorted(unique.values(), key=lambda company: (company.name, company.id))


def year_figures(base, year, today):
    """The figures of ``base``'s ``year`` and of the year before, side by side, as of ``today`` (the base's
    day): a JSON-able dict. A bounded number of queries: eight quarters' figures (each counting its activities'
    sign-ins in one query), the two years' milestones in one, and one feedback query per year."""
    first, last = date(year - 1, 1, 1), date(year, 12, 31)
    milestones = db.session.scalars(
        select(Milestone).join(Milestone.company).options(joinedload(Milestone.company)).where(
            Milestone.deleted_at.is_(None), Milestone.occurred_on >= first, Milestone.occurred_on <= last,
            TenantCompany.deleted_at.is_(None), TenantCompany.status.in_(tc.ARRIVED_STATUSES))
        .order_by(Milestone.occurred_on, Milestone.id)).all()
    rules = rules_of(base)
    milestones = [m for m in milestones if counts_for_base(m.company, m.occurred_on, rules)]
    current = _year_block(base, year, today, milestones)
    previous = _year_block(base, year - 1, today, milestones)
    figures = {
        "schema": SCHEMA, "base": {"name": base.name, "slug": base.slug}, "year": year,
        "previous_year": year - 1, "as_of": _iso(today), "gap_treatment": GAP_LEFT_OUT,
        "current": current, "previous": previous,
        "indicators": [_compare(key, unit, current, previous) for key, unit in INDICATORS],
    }
    return figures


#: The indicators computed from the monthly reports: not comparable while either year misses a report.
REPORTED = ("revenue_wan", "tax_wan", "employees")


def _compare(key, unit, current, previous):
    """One row of the comparison: the two values, the change (signed text), the change in percent, and a note
    (NOTE_INCOMPLETE) when a value comes from incomplete monthly reports, so no change is given."""
    now, before = current["indicators"][key], previous["indicators"][key]
    row = {"key": key, "unit": unit, "current": now, "previous": before, "change": None, "change_percent": None,
           "note": None}
    if key in REPORTED and (now is None or before is None or (key != "employees" and (
            current["indicators"]["months_missing"] or previous["indicators"]["months_missing"]))):
        row["note"] = NOTE_INCOMPLETE
        return row
    if now is None or before is None:
        return row
    if key == "feedback_average":
        row["change"] = _signed(Decimal(now) - Decimal(before), 2)
        return row
    exact_now, exact_before = Decimal(now), Decimal(before)
    change = exact_now - exact_before
    row["change"] = _signed(change, 2 if unit == "wan" else 0)
    if exact_before:
        row["change_percent"] = _signed(change / exact_before * 100, 1)
    return row


def _signed(value, places):
    """A change as text with its sign ("+3", "-0.25"); no change is written without one ("0", "0.00")."""
    text = f"{_rounded(value, places):+.{places}f}"
    return text[1:] if text[1:].strip("0.") == "" else text


def _rounded(value, places):
    return Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _year_block(base, year, today, milestones):
    quarters = [quarter_figures(base, year, quarter, today) for quarter in (1, 2, 3, 4)]
    year_end = quarters[-1]
    start, end = date(year, 1, 1), date(year, 12, 31)
    rules = rules_of(base)
    used = [report for figures in quarters for report in figures.reports]
    gaps = [gap for figures in quarters for gap in figures.gaps]
    services = {}
    for figures in quarters:
        for category, counts in figures.services.items():
            total = services.setdefault(category, ServiceCounts())
            for name in ("requests", "visits", "activities", "participants"):
                setattr(total, name, getattr(total, name) + getattr(counts, name))
    totals = ServiceCounts(*(sum(getattr(counts, name) for counts in services.values())
                             for name in ("requests", "visits", "activities", "participants")))
    activities = [entry for figures in quarters for entry in figures.service_entries if isinstance(entry, Activity)]
    late = sorted((activity for activity in activities if activity.overdue_at is not None
                   or (activity.archived_at is None and activity.archive_deadline < today)),
                  key=lambda activity: (activity.occurred_on, activity.id))
    attendance = [(month_on, company) for figures in quarters for month_on, company in figures.attendance_below]
    moved_in = _by_name(c for figures in quarters for c in figures.moved_in)
    exited = _by_name(c for figures in quarters for c in figures.exited)
    graduates = _by_name(c for figures in quarters for c in figures.graduates)
    # No report used: the money is not known (never zero). A housed company without December's report: the
    # headcount at the year's end is not known either.
    revenue = sum(r.revenue_fen or 0 for r in used) if used else None
    tax = sum(r.tax_fen or 0 for r in used) if used else None
    december = {r.company_id for r in used if r.month_on == date(year, 12, 1)}
    unreported = _by_name(c for c in year_end.housed if c.id not in december)

    cultivated, companies_with_results, financing_fen = [], set(), 0
    of_year = [m for m in milestones if start <= m.occurred_on <= end]
    for kind in tc.MILESTONE_KINDS:
        items = [m for m in of_year if m.kind == kind]
        names = _by_name(m.company for m in items)
        companies_with_results.update(company.id for company in names)
        amount = sum(m.amount_fen or 0 for m in items)
        financing_fen += amount if kind == tc.MILESTONE_FINANCING else 0
        cultivated.append({"kind": kind, "companies": len(names), "milestones": len(items),
                           "names": [company.name for company in names], "amount_fen": amount,
                           "items": [{"company_id": m.company_id, "company_name": m.company.name, "title": m.title,
                                      "occurred_on": _iso(m.occurred_on), "amount_fen": m.amount_fen}
                                     for m in items]})

    missing = {}
    for gap in gaps:
        entry = missing.setdefault(gap.company.id, {"company_id": gap.company.id, "company_name": gap.company.name,
                                                    "months": []})
        entry["months"].append(reports.key(gap.month_on))
    below = {}
    for month_on, company in attendance:
        below.setdefault(company.id, {"company_id": company.id, "company_name": company.name, "months": []})
        below[company.id]["months"].append(reports.key(month_on))
    last_over = reports.shift(reports.month_of(today), -1)
    monthly = []
    for month in range(1, 13):
        month_on = date(year, month, 1)
        of_month = [r for r in used if r.month_on == month_on]
        month_revenue = sum(r.revenue_fen or 0 for r in of_month) if of_month else None
        month_tax = sum(r.tax_fen or 0 for r in of_month) if of_month else None
        monthly.append({"month": reports.key(month_on), "is_over": month_on <= last_over,
                        "revenue_fen": month_revenue, "tax_fen": month_tax, "revenue_wan": _wan(month_revenue),
                        "tax_wan": _wan(month_tax), "reports": len(of_month),
                        "missing": sum(1 for gap in gaps if gap.month_on == month_on)})
    feedback_count, feedback_average = _feedback(start, end)
    order = {key: index for index, key in enumerate(SERVICE_FUNCTIONS)}
    discount = year_end.rent_discount
    return {
        "year": year, "start": _iso(start), "end": _iso(end),
        "indicators": {
            "housed": len(year_end.housed), "moved_in": len(moved_in), "exited": len(exited),
            "graduates": len(graduates), "followed": len(year_end.followed), "revenue_wan": _wan(revenue),
            "tax_wan": _wan(tax), "employees": None if unreported else year_end.employees,
            "cultivated": len(companies_with_results),
            "financing_wan": _wan(financing_fen), "service_requests": totals.requests, "visits": totals.visits,
            "activities": totals.activities, "participants": totals.participants,
            "feedback_average": feedback_average, "months_missing": len(gaps)},
        "money_fen": {"revenue": revenue, "tax": tax, "financing": financing_fen},
        "reports_used": len(used),
        "december_unreported": [{"company_id": c.id, "company_name": c.name} for c in unreported],
        "feedback_count": feedback_count,
        "services": [{"category": category, "requests": counts.requests, "visits": counts.visits,
                      "activities": counts.activities, "participants": counts.participants}
                     for category, counts in sorted(services.items(), key=lambda item: order.get(item[0], 99))],
        "monthly": monthly,
        "cultivated": cultivated,
        "graduates": [{"id": c.id, "name": c.name, "moved_out_on": _iso(c.moved_out_on),
                       "tracked_until": _iso(tracking_until(c, rules))} for c in graduates],
        "followed": [{"id": c.id, "name": c.name} for c in _by_name(year_end.followed)],
        "moved_in": [{"id": c.id, "name": c.name, "moved_in_on": _iso(c.moved_in_on)} for c in moved_in],
        "exited": [{"id": c.id, "name": c.name, "moved_out_on": _iso(c.moved_out_on), "status": c.status}
                   for c in exited],
        "gaps": [{"company_id": gap.company.id, "company_name": gap.company.name,
                  "month": reports.key(gap.month_on), "treatment": gap.treatment} for gap in gaps],
        "missing_companies": sorted(missing.values(), key=lambda entry: entry["company_name"]),
        "attendance_below": sorted(below.values(), key=lambda entry: entry["company_name"]),
        "attendance_below_months": len(attendance),
        "archives_late": [{"id": a.id, "title": a.title, "occurred_on": _iso(a.occurred_on)} for a in late],
        "rent": {"status": year_end.rent_status,
                 "discount_percent": None if discount is None else f"{float(discount) * 100:.1f}"},
    }


def _feedback(start, end):
    """(ratings, average rating as text with two decimals or None) of the services of the year still in the
    ledger, in one query."""
    live = [column.in_(select(model.id).where(model.deleted_at.is_(None), model.occurred_on >= start,
                                              model.occurred_on <= end))
            for column, model in ((Feedback.request_id, ServiceRequest), (Feedback.visit_id, Visit),
                                  (Feedback.activity_id, Activity))]
    count, average = db.session.execute(select(func.count(Feedback.id), func.avg(Feedback.rating))
                                        .where(or_(*live))).one()
    return count, (None if not count else f"{_rounded(str(average), 2):.2f}")


# --- Changing a summary ----------------------------------------------------------------------------------------

class SummaryError(ValueError):
    """A change the summary does not allow now; ``message`` is for the user."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class SummaryConflict(SummaryError):
    """A section the manager changed was saved by someone else since the form was opened; ``sections`` are
    their keys."""

    def __init__(self, message, sections=()):
        super().__init__(message)
        self.sections = list(sections)


def summary_for(year):
    """The current base's summary of ``year``, or None."""
    return db.session.scalar(select(AnnualSummary).where(AnnualSummary.year == year))


def summaries():
    """The current base's summaries, latest year first."""
    return db.session.scalars(select(AnnualSummary).order_by(AnnualSummary.year.desc())).all()


def _with_drafts(figures):
    """The figures with the drafts written from them kept beside (a section still equal to its draft has not
    been edited, so a refresh may rewrite it)."""
    drafts = draft_sections(figures)
    return {**figures, "drafted_sections": drafts}, drafts


def ensure_summary(base, year, *, today, now, by=None):
    """The base's summary of ``year``, drafted from the records when there is none yet.

    The unique (base, year) is the claim: when a concurrent request or job made it first, theirs is returned and
    nothing is written.
    """
    existing = summary_for(year)
    if existing is not None:
        return existing
    figures, drafts = _with_drafts(year_figures(base, year, today))
    summary = AnnualSummary(year=year, figures=figures, sections=dict(drafts), generated_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(summary)
    except IntegrityError:
        return summary_for(year)
    audit.record("filings.annual_draft", summary, after={"year": year}, user=by)
    db.session.flush()
    return summary


def _frozen(summary):
    if summary.sent_on is not None:
        raise SummaryError(_l("This summary was marked sent on %(date)s; withdraw that mark before changing it.",
                              date=summary.sent_on.isoformat()))


def refresh_figures(summary, base, today, by, *, now=None):
    """Recompute the summary's figures from the records as they stand on ``today``. A section the manager
    edited is kept as it is; one still as drafted is redrafted from the new figures. Returns the keys of the
    sections kept. Raises SummaryError once the summary is marked sent."""
    _frozen(summary)
    figures, drafts = _with_drafts(year_figures(base, summary.year, today))
    previous_drafts = (summary.figures or {}).get("drafted_sections", {})
    sections, kept = dict(summary.sections or {}), []
    for key in SECTION_KEYS:
        if key not in sections or sections[key] == previous_drafts.get(key):
            sections[key] = drafts[key]
        else:
            kept.append(key)
    summary.figures, summary.sections, summary.generated_at = figures, sections, now or utcnow()
    audit.record("filings.annual_refresh", summary, after={"year": summary.year, "kept_sections": kept}, user=by)
    db.session.flush()
    return kept


def clean_text(text):
    """A section's text as stored: line ends of any browser made ``\\n``, surrounding blank space removed."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def section_hash(text):
    """A short fingerprint of a section's text as stored: what the page shows it as, to tell later which
    sections the manager changed and which someone else changed meanwhile."""
    return hashlib.sha256(clean_text(text).encode("utf-8", "surrogatepass")).hexdigest()[:16]


def shown_hashes(sections):
    """{key: section_hash} of the five sections of ``sections`` (a missing one counts as empty)."""
    return {key: section_hash((sections or {}).get(key, "")) for key in SECTION_KEYS}


def touched_sections(summary, values, shown):
    """The keys of ``values`` ({key: posted text}) the manager changed: those whose text differs from the text
    the page showed (``shown``: {key: section_hash}). Without ``shown`` (a page that did not send it), those
    that differ from the saved text."""
    saved = summary.sections or {}
    return [key for key in SECTION_KEYS if key in values and (
        section_hash(values[key]) != shown[key] if shown is not None
        else clean_text(values[key]) != clean_text(saved.get(key, "")))]


def save_sections(summary, values, by, *, shown=None, expected_version=None, now=None):
    """Save the manager's text; returns the keys that changed.

    ``values`` holds the posted text of the sections ({key: text}); ``shown`` the fingerprints of the sections
    as the page showed them (``shown_hashes``). Only the sections the manager changed are written, so another
    manager's save or a refresh of the figures made meanwhile is kept in every other section (and a section
    still as drafted stays a draft). Raises SummaryConflict when a section the manager changed was changed by
    someone else since it was shown (without ``shown``: when ``expected_version`` is not the current version),
    and SummaryError once the summary is marked sent. A concurrent save between this check and the flush
    raises StaleDataError at the flush (the version column); the caller reports it the same way.
    """
    _frozen(summary)
    old = dict(summary.sections or {})
    touched = touched_sections(summary, values, shown)
    new = {key: clean_text(values[key]) for key in touched}
    if shown is None:
        conflicts = touched if expected_version != summary.version else []
    else:
        conflicts = [key for key in touched
                     if section_hash(old.get(key, "")) != shown[key] and new[key] != old.get(key)]
    if conflicts:
        raise SummaryConflict(_l("Someone else changed this summary while you were editing it."), conflicts)
    changed = [key for key in touched if new[key] != old.get(key)]
    if not changed:
        return []
    summary.sections = {**old, **{key: new[key] for key in changed}}
    summary.updated_at, summary.updated_by_id = now or utcnow(), by.id if by is not None else None
    audit.record("filings.annual_sections", summary, before={key: old.get(key) for key in changed},
                 after={key: new[key] for key in changed}, user=by)
    db.session.flush()
    return changed


def mark_sent(summary, sent_on, by):
    """Record the day the summary was sent to the authority (None withdraws the mark); audited."""
    before = summary.sent_on
    if before == sent_on:
        return summary
    summary.sent_on = sent_on
    audit.record("filings.annual_sent", summary, before={"sent_on": _iso(before)},
                 after={"sent_on": _iso(sent_on)}, user=by)
    db.session.flush()
    return summary


# --- The deadline ----------------------------------------------------------------------------------------------

def existed_before(base, day):
    """Whether ``base`` was created before ``day`` (in its own time zone)."""
    return base.created_at is None or to_local(base.created_at, base.timezone).date() < day


@dataclass(frozen=True)
class AnnualDue:
    """The summary the dashboard counts down to."""

    year: int
    deadline_on: date
    days_left: int
    summary: object

    @property
    def overdue(self):
        return self.days_left < 0

    @property
    def sent_on(self):
        return self.summary.sent_on if self.summary is not None else None


def annual_due(base, today):
    """The summary of the year before, from 1 January to the 15th, and after that until 31 March while it is
    not marked sent; None otherwise (and for a base created this year)."""
    year = today.year - 1
    if today > date(today.year, *REMIND_UNTIL) or not existed_before(base, date(today.year, 1, 1)):
        return None
    deadline_on = date(today.year, 1, DUE_DAY)
    summary = summary_for(year)
    if today > deadline_on and summary is not None and summary.sent_on is not None:
        return None
    return AnnualDue(year, deadline_on, (deadline_on - today).days, summary)
