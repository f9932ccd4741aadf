"""A filing version's files, written from its snapshot only (so a frozen version's files can be rebuilt exactly):
the xlsx for people, the CSV of the summary indicators, and the JSON for machine upload.

Every text that comes from the records (a company's name, an entry's title, the reason of a version) is written as
text: never as a formula or a link, whatever it holds.
"""
import csv
import io
import json
from datetime import date, datetime
from decimal import Decimal

import xlsxwriter
from flask_babel import gettext as _, lazy_gettext as _l

from ledger.constants import KINDS
from operator_app.accounts.constants import SERVICE_FUNCTIONS
from operator_app.accounts.models import Base
from operator_app.extensions import db
from operator_app.timeutil import to_local
from tenants.imports import sheet_name

from .labels import INDICATOR_LABELS, UNIT_LABELS
from .snapshot import INDICATORS, machine_document, month_label

# The provincial unit of each indicator decides how its value is written: money in 万元 with two decimals, the
# discount as a percentage with two, everything else a whole count.
_WAN, _PERCENT = "wan", "percent"
#: How a missing month is treated (snapshot "gaps" → "treatment"); DOMAIN.md: left out, never counted as zero.
TREATMENTS = {"left_out": _l("Left out of the totals (not counted as zero)")}

SHEET_SUMMARY = _l("Summary")
SHEET_COMPANIES = _l("Company figures")
SHEET_GRADUATES = _l("Graduates")
SHEET_SERVICES = _l("Services by category")
SHEET_GAPS = _l("Missing monthly reports")


# --- JSON ------------------------------------------------------------------------------------------------------

def filing_json(filing):
    """The JSON document for the provincial platform (UTF-8, keys stable, amounts as 万元 strings and fen)."""
    return json.dumps(machine_document(filing), ensure_ascii=False, indent=2, sort_keys=False).encode("utf-8")


# --- CSV -------------------------------------------------------------------------------------------------------

def filing_csv(filing):
    """The summary indicators as CSV (UTF-8 with BOM, so Excel opens Chinese correctly), under the lines saying
    which base, quarter and version they are. Every cell is neutralised so no spreadsheet reads it as a formula."""
    out = io.StringIO()
    writer = csv.writer(out)
    for label, value in _header_lines(filing):
        writer.writerow([_text(label), _text(value)])
    writer.writerow([_text(_note())])
    writer.writerow([])
    writer.writerow([_text(cell) for cell in _indicator_header()])
    for key, unit in INDICATORS:
        value = filing.figures["indicators"].get(key)
        writer.writerow([_text(INDICATOR_LABELS[key]), _text("" if value is None else value),
                         _text(UNIT_LABELS[unit])])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _text(value):
    """A cell as text that no spreadsheet reads as a formula (OWASP "CSV injection": a leading =, +, -, @, tab
    or carriage return gets a quote before it; a plain number such as -1.5 stays as it is)."""
    value = "" if value is None else str(value)
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(value) else value


def _is_number(value):
    try:
        Decimal(value)
    except ArithmeticError:
        return False
    return value.strip() == value and value.lower().lstrip("+-") not in ("nan", "snan", "inf", "infinity")


# --- xlsx ------------------------------------------------------------------------------------------------------

def filing_xlsx(filing):
    """The filing workbook: the summary in the provincial indicator order, the figures of each company, the
    graduates, the services by category with the ledger entries counted, and the missing monthly reports."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                        "strings_to_urls": False, "strings_to_numbers": False})
    formats = _Formats(book)
    figures = filing.figures
    _summary_sheet(book, formats, filing)
    _companies_sheet(book, formats, figures)
    _graduates_sheet(book, formats, figures)
    _services_sheet(book, formats, figures)
    _gaps_sheet(book, formats, figures)
    book.close()
    return buffer.getvalue()


class _Formats:
    def __init__(self, book):
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.label = book.add_format({"bold": True})
        self.header = book.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#E8EEF7",
                                       "border": 1})
        self.text = book.add_format({"valign": "top"})
        self.wan = book.add_format({"num_format": "0.00"})
        self.percent = book.add_format({"num_format": "0.00"})
        self.count = book.add_format({"num_format": "0"})
        self.day = book.add_format({"num_format": "yyyy-mm-dd"})
        self.total_label = book.add_format({"bold": True, "top": 1})
        self.total_wan = book.add_format({"bold": True, "top": 1, "num_format": "0.00"})
        self.total_count = book.add_format({"bold": True, "top": 1, "num_format": "0"})
        self.note = book.add_format({"italic": True, "font_color": "#555555"})


def _sheet(book, name, columns, formats):
    """A new sheet named ``name`` (made valid for Excel) with the ``columns`` [(header, width)] in its first row,
    frozen below it and right of the first column."""
    sheet = book.add_worksheet(sheet_name(str(name)))
    _widths(sheet, [width for _header, width in columns])
    _table_header(sheet, 0, [header for header, _width in columns], formats)
    sheet.set_row(0, 32)
    sheet.freeze_panes(1, 1)
    return sheet


def _widths(sheet, widths):
    for index, width in enumerate(widths):
        sheet.set_column(index, index, width)


def _table_header(sheet, row, headers, formats):
    for index, header in enumerate(headers):
        sheet.write_string(row, index, str(header), formats.header)


def _write_text(sheet, row, col, value, fmt=None):
    """User text as text, whatever it looks like (an empty one leaves the cell empty)."""
    if value:
        sheet.write_string(row, col, str(value), fmt)


def _write_wan(sheet, row, col, value, fmt):
    """A 万元 amount (a snapshot's two-decimal string, a Decimal) as a number; None leaves the cell empty."""
    if value is not None:
        sheet.write_number(row, col, float(Decimal(str(value))), fmt)


def _write_count(sheet, row, col, value, fmt):
    if value is not None:
        sheet.write_number(row, col, int(value), fmt)


def _write_day(sheet, row, col, iso, fmt):
    if iso:
        day = date.fromisoformat(iso)
        sheet.write_datetime(row, col, datetime(day.year, day.month, day.day), fmt)


def _translated(labels):
    """{key: label} as plain text, translated once (a workbook has thousands of cells with a few labels)."""
    return {key: str(label) for key, label in labels.items()}


def _yes_no(flag, words=None):
    yes, no = words or (_("Yes"), _("No"))
    return yes if flag else no


def _months(isos):
    return "、".join(month_label(iso) for iso in isos)


def _generated_at(filing):
    """When the version was generated, on the base's clock (the time shown on the filing's page)."""
    base = db.session.get(Base, filing.base_id) if filing.base_id else None
    moment = to_local(filing.generated_at, base.timezone if base else "Asia/Shanghai")
    return f"{moment:%Y-%m-%d %H:%M}" if moment else ""


def _header_lines(filing):
    """(label, value) lines saying which filing this is."""
    figures = filing.figures
    lines = [(_("Base"), figures["base"]["name"]),
             (_("Quarter"), _("%(year)d, quarter %(quarter)d", year=filing.year, quarter=filing.quarter)),
             (_("Dates covered"), _("%(start)s to %(end)s", start=figures["start"], end=figures["end"])),
             (_("Figures as of"), figures["as_of"]),
             (_("Version"), filing.version),
             (_("Generated at"), _generated_at(filing))]
    if filing.reason:
        lines.append((_("Why this version was made"), filing.reason))
    return lines


def _note():
    return _("Months without a monthly report are left out of the totals, never counted as zero.")


def _indicator_header():
    return [_("Indicator"), _("Value"), _("Unit of measure")]


def _summary_sheet(book, formats, filing):
    figures = filing.figures
    sheet = book.add_worksheet(sheet_name(str(SHEET_SUMMARY)))
    _widths(sheet, (44, 30, 16))
    sheet.write_string(0, 0, _("Quarterly filing for %(year)d Q%(quarter)d", year=filing.year,
                               quarter=filing.quarter), formats.title)
    row = 1
    for label, value in _header_lines(filing):
        sheet.write_string(row, 0, str(label), formats.label)
        if isinstance(value, int):
            sheet.write_number(row, 1, value, formats.count)
        else:
            sheet.write_string(row, 1, str(value), formats.text)
        row += 1
    sheet.write_string(row, 0, _note(), formats.note)
    row += 2
    _table_header(sheet, row, _indicator_header(), formats)
    sheet.freeze_panes(row + 1, 0)
    for key, unit in INDICATORS:
        row += 1
        value = figures["indicators"].get(key)
        sheet.write_string(row, 0, str(INDICATOR_LABELS[key]))
        if value is None:
            sheet.write_string(row, 1, _("unknown"))
        elif unit == _WAN:
            _write_wan(sheet, row, 1, value, formats.wan)
        elif unit == _PERCENT:
            sheet.write_number(row, 1, float(Decimal(str(value))), formats.percent)
        else:
            _write_count(sheet, row, 1, value, formats.count)
        sheet.write_string(row, 2, str(UNIT_LABELS[unit]))


def _companies_sheet(book, formats, figures):
    columns = [(_l("Company"), 36), (_l("Unified social credit code"), 22), (_l("Housed at the quarter's end"), 12),
               (_l("Moved in during the quarter"), 12), (_l("Left during the quarter"), 12),
               (_l("Revenue (万元)"), 14), (_l("Tax paid (万元)"), 14), (_l("Employees"), 10),
               (_l("Months reported"), 26), (_l("Months missing"), 26)]
    sheet = _sheet(book, SHEET_COMPANIES, columns, formats)
    words = (_("Yes"), _("No"))
    row = 0
    for company in figures["companies"]:
        row += 1
        _write_text(sheet, row, 0, company["name"])
        _write_text(sheet, row, 1, company["uscc"])
        for col, flag in ((2, "housed"), (3, "moved_in"), (4, "exited")):
            sheet.write_string(row, col, _yes_no(company[flag], words))
        _write_wan(sheet, row, 5, company["revenue_wan"], formats.wan)
        _write_wan(sheet, row, 6, company["tax_wan"], formats.wan)
        _write_count(sheet, row, 7, company["employees"], formats.count)
        _write_text(sheet, row, 8, _months(company["months_reported"]))
        _write_text(sheet, row, 9, _months(company["months_missing"]))
    row += 1
    sheet.write_string(row, 0, _("Total"), formats.total_label)
    for col in range(1, 5):
        sheet.write_blank(row, col, None, formats.total_label)
    # The totals are the summary's own (from the exact fen, rounded once), not the sum of the rounded rows.
    _write_wan(sheet, row, 5, figures["indicators"]["revenue_wan"], formats.total_wan)
    _write_wan(sheet, row, 6, figures["indicators"]["tax_wan"], formats.total_wan)
    _write_count(sheet, row, 7, figures["indicators"]["employees"], formats.total_count)


def _graduates_sheet(book, formats, figures):
    columns = [(_l("Company"), 36), (_l("Unified social credit code"), 22), (_l("Left on"), 12),
               (_l("Followed until"), 12), (_l("Graduated this quarter"), 12), (_l("Being followed"), 12)]
    sheet = _sheet(book, SHEET_GRADUATES, columns, formats)
    words = (_("Yes"), _("No"))
    for row, graduate in enumerate(figures["graduates"], start=1):
        _write_text(sheet, row, 0, graduate["name"])
        _write_text(sheet, row, 1, graduate["uscc"])
        _write_day(sheet, row, 2, graduate["moved_out_on"], formats.day)
        _write_day(sheet, row, 3, graduate["tracked_until"], formats.day)
        sheet.write_string(row, 4, _yes_no(graduate["graduated_in_quarter"], words))
        sheet.write_string(row, 5, _yes_no(graduate["followed"], words))


def _services_sheet(book, formats, figures):
    counts = ("requests", "visits", "activities", "participants")
    # Two tables share the columns (the counts by category, then the entries counted): widths fit both.
    columns = [(_l("Category"), 24), (INDICATOR_LABELS["service_requests"], 14), (INDICATOR_LABELS["visits"], 18),
               (INDICATOR_LABELS["activities"], 48), (INDICATOR_LABELS["participants"], 12)]
    sheet = _sheet(book, SHEET_SERVICES, columns, formats)
    functions, kinds = _translated(SERVICE_FUNCTIONS), _translated(KINDS)
    row = 0
    for service in figures["services"]:
        row += 1
        _write_text(sheet, row, 0, functions.get(service["category"], service["category"]))
        for col, key in enumerate(counts, start=1):
            _write_count(sheet, row, col, service[key], formats.count)
    row += 1
    indicators = figures["indicators"]
    sheet.write_string(row, 0, _("Total"), formats.total_label)
    for col, key in enumerate(("service_requests", "visits", "activities", "participants"), start=1):
        _write_count(sheet, row, col, indicators[key], formats.total_count)

    row += 2
    sheet.write_string(row, 0, _("Ledger entries counted"), formats.label)
    row += 1
    _table_header(sheet, row, [_("Date"), _("Type"), _("Category"), _("Title")], formats)
    for entry in figures["service_entries"]:
        row += 1
        _write_day(sheet, row, 0, entry["occurred_on"], formats.day)
        sheet.write_string(row, 1, kinds.get(entry["kind"], entry["kind"]))
        _write_text(sheet, row, 2, functions.get(entry["category"], entry["category"]))
        _write_text(sheet, row, 3, entry["title"])


def _gaps_sheet(book, formats, figures):
    columns = [(_l("Company"), 36), (_l("Month"), 10), (_l("How it was treated"), 30)]
    sheet = _sheet(book, SHEET_GAPS, columns, formats)
    treatments = _translated(TREATMENTS)
    for row, gap in enumerate(figures["gaps"], start=1):
        _write_text(sheet, row, 0, gap["company_name"])
        sheet.write_string(row, 1, month_label(gap["month"]))
        sheet.write_string(row, 2, treatments.get(gap["treatment"], gap["treatment"]))
    if not figures["gaps"]:
        sheet.write_string(1, 0, _("Every company expected to report did so for every month of the quarter."),
                           formats.note)
