"""The draft texts of the annual work summary, written from its figures (``annual.year_figures``) in the
document's language. A figure that is not known (no report used, a housed company's December missing) is said
to be unknown, never written as zero, and a comparison with incomplete data is said to be not comparable."""
from decimal import Decimal

from babel.lists import format_list
from flask import current_app
from flask_babel import force_locale, get_locale, gettext as _, lazy_gettext as _l

from tenants import constants as tc

from ..accounts.constants import SERVICE_FUNCTIONS
from .labels import UNIT_LABELS

#: Why a compared indicator has no change: ``note`` of a row of ``figures["indicators"]``.
NOTE_INCOMPLETE = "incomplete"
NOTE_LABELS = {NOTE_INCOMPLETE: _l("Incomplete data: not comparable")}


def document_locale():
    """The language of the summary's text and document: the product's default (Chinese), whoever drafts it."""
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def note_label(note):
    """The text of a comparison's note (NOTE_LABELS), or None."""
    return NOTE_LABELS.get(note) if note else None


def _names(names, limit=8):
    shown = format_list(list(names[:limit]), locale=str(get_locale() or document_locale()))
    if len(names) > limit:
        return _("%(names)s and %(n)d more", names=shown, n=len(names) - limit)
    return shown


def _trend(row):
    if row.get("note"):
        return str(note_label(row["note"]))
    if row["change_percent"] is None:
        return _("no comparable figure for the year before")
    percent = Decimal(row["change_percent"])
    if percent > 0:
        return _("up %(percent)s%%", percent=f"{percent:.1f}")
    if percent < 0:
        return _("down %(percent)s%%", percent=f"{-percent:.1f}")
    return _("unchanged")


def draft_sections(figures):
    """The default texts of the five sections, written from ``figures`` in the document's language; passages
    in square brackets ask the manager to complete them."""
    with force_locale(document_locale()):
        return {key: "\n".join(line for line in writer(figures) if line).strip()
                for key, writer in (("measures", _measures), ("indicators", _indicators), ("results", _results),
                                    ("problems", _problems), ("plan", _plan))}


def _measures(figures):
    year, block = figures["year"], figures["current"]
    ind = block["indicators"]
    yield _("In %(year)d the base served its companies as its service ledger records: %(requests)d service "
            "requests handled, %(visits)d company visits and %(activities)d activities with %(participants)d "
            "participants.", year=year, requests=ind["service_requests"], visits=ind["visits"],
            activities=ind["activities"], participants=ind["participants"])
    for row in block["services"]:
        yield _("%(category)s: %(requests)d requests, %(visits)d visits, %(activities)d activities.",
                category=SERVICE_FUNCTIONS.get(row["category"], row["category"]), requests=row["requests"],
                visits=row["visits"], activities=row["activities"])
    if block["feedback_count"]:
        yield _("Companies rated %(n)d of these services, %(average)s out of 5 on average.",
                n=block["feedback_count"], average=ind["feedback_average"])
    yield _("[Describe the main measures of the year: the service team and mentors, the partner agencies, the "
            "preferential rent policy, the events and what they achieved.]")


def _indicators(figures):
    rows = {row["key"]: row for row in figures["indicators"]}
    block = figures["current"]
    ind, wan = block["indicators"], str(UNIT_LABELS["wan"])
    yield _("At the end of %(year)d the base housed %(housed)d companies (%(previous)d a year earlier); "
            "%(moved_in)d moved in and %(exited)d left during the year.", year=figures["year"],
            housed=ind["housed"], previous=rows["housed"]["previous"], moved_in=ind["moved_in"],
            exited=ind["exited"])
    revenue_known, employees_known = ind["revenue_wan"] is not None, ind["employees"] is not None
    if revenue_known and employees_known:
        yield _("The companies reported revenue of %(revenue)s %(unit)s (%(revenue_trend)s) and tax paid of "
                "%(tax)s %(unit)s (%(tax_trend)s), and employed %(employees)d people at the year's end.",
                revenue=ind["revenue_wan"], tax=ind["tax_wan"], unit=wan, revenue_trend=_trend(rows["revenue_wan"]),
                tax_trend=_trend(rows["tax_wan"]), employees=ind["employees"])
    elif revenue_known:
        yield _("The companies reported revenue of %(revenue)s %(unit)s (%(revenue_trend)s) and tax paid of "
                "%(tax)s %(unit)s (%(tax_trend)s).", revenue=ind["revenue_wan"], tax=ind["tax_wan"], unit=wan,
                revenue_trend=_trend(rows["revenue_wan"]), tax_trend=_trend(rows["tax_wan"]))
    else:
        yield _("No monthly report of %(year)d was submitted: the companies' revenue and tax paid are not "
                "known.", year=figures["year"])
    if employees_known and not revenue_known:
        yield _("The companies employed %(employees)d people at the year's end.", employees=ind["employees"])
    elif not employees_known:
        unreported = [entry["company_name"] for entry in block.get("december_unreported", [])]
        yield _("The headcount at the year's end is not known: %(n)d companies housed have not reported "
                "December (%(companies)s).", n=len(unreported), companies=_names(unreported))
    missing = block["missing_companies"]
    if missing:
        yield _("%(n)d monthly reports were not submitted (%(companies)s): those months are left out of the "
                "totals, not counted as zero.", n=ind["months_missing"],
                companies=_names([entry["company_name"] for entry in missing]))
    else:
        yield _("Every company expected to report submitted its monthly reports.")


def _results(figures):
    block = figures["current"]
    ind = block["indicators"]
    reached = [row for row in block["cultivated"] if row["companies"]]
    if reached:
        yield _("In %(year)d, %(n)d companies reached results recorded in their files:", year=figures["year"],
                n=ind["cultivated"])
        for row in reached:
            yield _("%(kind)s: %(n)d (%(names)s)", kind=tc.MILESTONE_KINDS[row["kind"]], n=row["companies"],
                    names=_names(row["names"]))
    else:
        yield _("No company result was recorded in %(year)d. [Add the companies' results (financing, patents, "
                "high-tech enterprise, specialised and innovative, growth above the threshold) to their files, "
                "then refresh the figures.]", year=figures["year"])
    if block["graduates"]:
        yield _("%(n)d companies graduated: %(names)s.", n=ind["graduates"],
                names=_names([row["name"] for row in block["graduates"]]))
    else:
        yield _("No company graduated in %(year)d.", year=figures["year"])
    yield _("%(n)d graduates are followed for three years after leaving; their results count as the base's.",
            n=ind["followed"])


def _problems(figures):
    block, found = figures["current"], False
    rows = {row["key"]: row for row in figures["indicators"]}
    if block["missing_companies"]:
        found = True
        yield _("%(n)d monthly reports are missing from %(companies)d companies: the rule that companies report "
                "their operating data is not fully kept.", n=block["indicators"]["months_missing"],
                companies=len(block["missing_companies"]))
    if block["attendance_below"]:
        found = True
        yield _("Workstation companies were below the attendance rule in %(n)d company-months (%(names)s).",
                n=block["attendance_below_months"],
                names=_names([entry["company_name"] for entry in block["attendance_below"]]))
    if block["rent"]["status"] == "not_met":
        found = True
        yield _("The overall rent discount (%(percent)s%%) is less than the policy requires.",
                percent=block["rent"]["discount_percent"] or "0")
    elif block["rent"]["status"] == "unknown":
        found = True
        yield _("The rent discount could not be checked: market quotes or leases are missing.")
    if block["archives_late"]:
        found = True
        yield _("%(n)d activities were not archived within three days (notice, photos, sign-in sheet).",
                n=len(block["archives_late"]))
    housed = rows["housed"]
    if housed["previous"] and housed["current"] < housed["previous"]:
        found = True
        yield _("The number of companies housed fell from %(previous)d to %(current)d.",
                previous=housed["previous"], current=housed["current"])
    if not found:
        yield _("The records show no problem.")
    yield _("[Describe the problems the base met this year and their causes.]")


def _plan(figures):
    block = figures["current"]
    yield _("In %(year)d the base plans to:", year=figures["year"] + 1)
    if block["missing_companies"]:
        yield _("- collect every company's monthly operating data on time;")
    if block["attendance_below"]:
        yield _("- check the attendance of the workstation companies every month;")
    if block["archives_late"]:
        yield _("- archive every activity within three days;")
    yield _("[Set the targets for %(year)d: companies to house and to cultivate, services and activities, and "
            "how the problems above will be solved.]", year=figures["year"] + 1)
