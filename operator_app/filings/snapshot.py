"""A quarterly filing's figures as plain data: what a filing version stores, what its files are written from,
and what its page shows. Once a version is submitted this is frozen, so it holds everything the page and the
files need (names, codes, dates, the ids of the source records) and nothing that must be looked up again.

Money is kept exactly in fen beside the 万元 figure (two decimals, half up) the province asks for.
"""
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from operator_app.accounts.constants import SERVICE_FUNCTIONS
from operator_app.timeutil import as_utc
from tenants import reports
from tenants.followup_services import tracking_until
from tenants.rules import rules_of

SCHEMA = 1

#: The provincial platform's indicators, in its order (001 §四: 入驻企业户数、营业收入、上缴税金和从业人员数, then
#: the base's own results and services). Each: key, unit key.
INDICATORS = (
    ("housed", "companies"),
    ("moved_in", "companies"),
    ("exited", "companies"),
    ("revenue_wan", "wan"),
    ("tax_wan", "wan"),
    ("employees", "people"),
    ("graduates", "companies"),
    ("followed", "companies"),
    ("service_requests", "times"),
    ("visits", "times"),
    ("activities", "times"),
    ("participants", "person_times"),
    ("rent_discount_percent", "percent"),
    ("attendance_below", "company_months"),
    ("months_missing", "company_months"),
)


def _iso(day):
    return day.isoformat() if day is not None else None


def _money(fen):
    value = reports.wan(fen)
    return None if value is None else f"{value:.2f}"


def build(base, figures, today):
    """The snapshot (a JSON-able dict) of ``figures`` (QuarterFigures) for ``base``, as of ``today``."""
    from .quarterly import quarter_bounds

    start, end = quarter_bounds(figures.year, figures.quarter)
    last_month = reports.month_of(end)
    rules = rules_of(base)

    by_company = {}

    def row(company):
        entry = by_company.get(company.id)
        if entry is None:
            entry = by_company[company.id] = {
                "id": company.id, "name": company.name, "uscc": company.uscc or "", "is_team": company.is_team,
                "status": company.status, "moved_in_on": _iso(company.moved_in_on),
                "moved_out_on": _iso(company.moved_out_on), "housed": False, "moved_in": False, "exited": False,
                "revenue_fen": 0, "tax_fen": 0, "employees": None, "months_reported": [], "months_missing": [],
                "report_ids": []}
        return entry

    for flag, companies in (("housed", figures.housed), ("moved_in", figures.moved_in),
                            ("exited", figures.exited)):
        for company in companies:
            row(company)[flag] = True
    for report in sorted(figures.reports, key=lambda r: (r.company_id, r.month_on)):
        entry = row(report.company)
        entry["revenue_fen"] += report.revenue_fen or 0
        entry["tax_fen"] += report.tax_fen or 0
        entry["months_reported"].append(_iso(report.month_on))
        entry["report_ids"].append(report.id)
        if report.month_on == last_month:
            entry["employees"] = report.employees
    for gap in figures.gaps:
        row(gap.company)["months_missing"].append(_iso(gap.month_on))
    companies = sorted(by_company.values(), key=lambda entry: (not entry["housed"], entry["name"], entry["id"]))
    for entry in companies:
        entry["revenue_wan"], entry["tax_wan"] = _money(entry["revenue_fen"]), _money(entry["tax_fen"])

    graduated_ids = {company.id for company in figures.graduates}
    graduates = [{"id": company.id, "name": company.name, "uscc": company.uscc or "",
                  "moved_out_on": _iso(company.moved_out_on),
                  "tracked_until": _iso(tracking_until(company, rules)),
                  "graduated_in_quarter": company.id in graduated_ids,
                  "followed": company in figures.followed}
                 for company in sorted({*figures.graduates, *figures.followed}, key=lambda c: (c.name, c.id))]

    order = {key: index for index, key in enumerate(SERVICE_FUNCTIONS)}
    services = [{"category": category, "requests": counts.requests, "visits": counts.visits,
                 "activities": counts.activities, "participants": counts.participants}
                for category, counts in sorted(figures.services.items(), key=lambda item: order.get(item[0], 99))]
    entries = [{"kind": _entry_kind(entry), "id": entry.id, "occurred_on": _iso(entry.occurred_on),
                "category": entry.category, "title": entry.title}
               for entry in sorted(figures.service_entries, key=lambda e: (e.occurred_on, _entry_kind(e), e.id))]
    total = figures.service_totals
    discount = None if figures.rent_discount is None else str(
        (Decimal(figures.rent_discount.numerator) * 100 / Decimal(figures.rent_discount.denominator))
        .quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))  # as the rent page shows it
    gaps = [{"company_id": gap.company.id, "company_name": gap.company.name, "month": _iso(gap.month_on),
             "treatment": gap.treatment} for gap in figures.gaps]
    attendance = [{"company_id": company.id, "company_name": company.name, "month": _iso(month_on)}
                  for month_on, company in figures.attendance_below]
    indicators = {
        "housed": len(figures.housed), "moved_in": len(figures.moved_in), "exited": len(figures.exited),
        "revenue_wan": _money(figures.revenue_fen), "tax_wan": _money(figures.tax_fen),
        "employees": figures.employees, "graduates": len(figures.graduates), "followed": len(figures.followed),
        "service_requests": total.requests, "visits": total.visits, "activities": total.activities,
        "participants": total.participants, "rent_discount_percent": discount,
        "attendance_below": len(attendance), "months_missing": len(gaps)}
    return {
        "schema": SCHEMA,
        "base": {"name": base.name, "slug": base.slug, "base_type": base.base_type},
        "year": figures.year, "quarter": figures.quarter, "start": _iso(start), "end": _iso(end),
        "as_of": _iso(today),
        "indicators": indicators,
        "money_fen": {"revenue": figures.revenue_fen, "tax": figures.tax_fen},
        "companies": companies,
        "gaps": gaps,
        "gap_treatment": "left_out",
        "graduates": graduates,
        "services": services,
        "service_entries": entries,
        "rent": {"status": figures.rent_status, "discount_percent": discount},
        "attendance_below": attendance,
    }


def _entry_kind(entry):
    from ledger import constants as lc
    from ledger.models import Activity, ServiceRequest

    if isinstance(entry, ServiceRequest):
        return lc.KIND_REQUEST
    return lc.KIND_ACTIVITY if isinstance(entry, Activity) else lc.KIND_VISIT


def machine_document(filing):
    """The JSON document for machine upload: the snapshot plus which version of which filing it is."""
    figures = filing.figures
    return {"filing": {"period": filing.period, "year": filing.year, "quarter": filing.quarter,
                       "version": filing.version, "generated_at": as_utc(filing.generated_at).isoformat(),
                       "reason": filing.reason},
            **{key: figures[key] for key in ("schema", "base", "start", "end", "as_of", "indicators",
                                             "money_fen", "gap_treatment", "companies", "gaps", "graduates",
                                             "services", "rent", "attendance_below")}}


def month_label(iso):
    day = date.fromisoformat(iso)
    return f"{day.year}-{day.month:02d}"
