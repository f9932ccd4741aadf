"""The annual work summary as files: the Word document sent to the authority (python-docx, the sections in the
policy's order with the figures' tables) and its spreadsheet annex (xlsxwriter). Both are written from the
summary alone -- its text and its stored figures -- in the document's language (Chinese by default)."""
import io
import re
from decimal import Decimal

from flask_babel import force_locale, gettext as _

from tenants import constants as tc

from ..accounts.constants import SERVICE_FUNCTIONS
from .annual import INDICATOR_LABELS, SECTION_HEADINGS, SECTION_KEYS, document_locale, note_label, unit_label

BODY_FONT, HEADING_FONT = "SimSun", "SimHei"  # 宋体 for the text, 黑体 for the headings, as official documents
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
TITLE_MAX = 255  # the longest title the document's properties hold


def _text(value):
    """A value as text a document can hold (no control characters); None as a dash."""
    return "—" if value is None else _NOT_XML.sub("", str(value))


def _change(row):
    """The change of a compared indicator as text: signed, with its percent, or why it is not given."""
    if row.get("note"):
        return str(note_label(row["note"]))
    change = row["change"]
    if change is not None and row["change_percent"] is not None:
        change = _("%(change)s (%(percent)s%%)", change=change, percent=row["change_percent"])
    return change


def _indicator_label(row):
    return _("%(label)s (%(unit)s)", label=INDICATOR_LABELS[row["key"]], unit=unit_label(row["unit"]))


def indicator_rows(figures):
    """[label (unit), this year, last year, change] of the compared indicators as text, with a header row."""
    rows = [[_("Indicator"), str(figures["year"]), str(figures["previous_year"]), _("Change")]]
    for row in figures["indicators"]:
        rows.append([_indicator_label(row), _text(row["current"]), _text(row["previous"]), _text(_change(row))])
    return rows


def _number(value):
    """A stored figure as a number for the workbook: an int stays one, a decimal text ("37.60") is a Decimal;
    None (not known) stays None, an empty cell."""
    if value is None or isinstance(value, int):
        return value
    return Decimal(str(value))


def indicator_values(figures):
    """The indicators for the workbook: [label (unit), this year, last year (numbers), change (text)]."""
    return [[_indicator_label(row), _number(row["current"]), _number(row["previous"]), _change(row)]
            for row in figures["indicators"]]


def cultivated_rows(figures):
    """[kind, companies, their names] per kind of result, with a header row."""
    rows = [[_("Kind of result"), _("Number of companies"), _("Company names")]]
    for row in figures["current"]["cultivated"]:
        rows.append([str(tc.MILESTONE_KINDS.get(row["kind"], row["kind"])), str(row["companies"]),
                     "、".join(row["names"]) or "—"])
    return rows


def graduate_rows(figures):
    rows = [[_("Company"), _("Graduated on"), _("Followed until")]]
    for row in figures["current"]["graduates"]:
        rows.append([row["name"], _text(row["moved_out_on"]), _text(row["tracked_until"])])
    return rows


def figures_note(figures):
    """Where the figures come from, and how missing monthly reports were treated."""
    missing = figures["current"]["indicators"]["months_missing"]
    if missing:
        return _("Figures from the base's records as of %(date)s; amounts in 10,000 yuan. %(n)d monthly reports "
                 "were not submitted: those months are left out of the totals, not counted as zero.",
                 date=figures["as_of"], n=missing)
    return _("Figures from the base's records as of %(date)s; amounts in 10,000 yuan.", date=figures["as_of"])


def document_title(summary, base):
    return _("%(base)s: work summary of %(year)d", base=base.name, year=summary.year)


# --- Word ----------------------------------------------------------------------------------------------------

def _fonts(style, name, size=None, bold=None):
    """Give ``style`` the font ``name`` for Latin and Chinese text alike (the east-Asian font is its own
    attribute, w:eastAsia; theme fonts would override both, so they are removed)."""
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    style.font.name = name
    if size is not None:
        style.font.size = Pt(size)
    if bold is not None:
        style.font.bold = bold
    style.font.color.rgb = RGBColor(0, 0, 0)
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for attribute in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attribute), None)
    fonts.set(qn("w:eastAsia"), name)


def _table(document, rows):
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    table.style = "Table Grid"
    for r, row in enumerate(rows):
        for col, value in enumerate(row):
            cell = table.cell(r, col)
            cell.text = _text(value)
            if r == 0:
                for run in cell.paragraphs[0].runs:
                    run.bold = True
    document.add_paragraph()
    return table


def _narrative(document, text):
    from docx.shared import Pt

    for line in (text or "").split("\n"):
        if line.strip():
            paragraph = document.add_paragraph(_text(line.strip()))
            paragraph.paragraph_format.first_line_indent = Pt(24)  # two characters, as Chinese text is set


def summary_docx(summary, base):
    """The summary as a Word document (bytes): title, then the five sections of 001 §四 in its order, each with
    the manager's text, the indicators and the results with their tables."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    figures, sections = summary.figures or {}, summary.sections or {}
    with force_locale(document_locale()):
        document = Document()
        _fonts(document.styles["Normal"], BODY_FONT, 12)
        _fonts(document.styles["Title"], HEADING_FONT, 22, bold=True)
        _fonts(document.styles["Heading 1"], HEADING_FONT, 16, bold=True)
        _fonts(document.styles["Heading 2"], HEADING_FONT, 13, bold=True)
        document.core_properties.title = _text(document_title(summary, base))[:TITLE_MAX]
        title = document.add_paragraph(_text(document_title(summary, base)), style="Title")
        title.alignment = WD_ALIGN_PARAGRAPH.CENTER
        for key in SECTION_KEYS:
            document.add_heading(str(SECTION_HEADINGS[key]), level=1)
            _narrative(document, sections.get(key, ""))
            if key == "indicators" and figures:
                _table(document, indicator_rows(figures))
                _narrative(document, figures_note(figures))
            if key == "results" and figures:
                document.add_heading(_("Companies cultivated, by kind of result"), level=2)
                _table(document, cultivated_rows(figures))
                if figures["current"]["graduates"]:
                    document.add_heading(_("Graduates"), level=2)
                    _table(document, graduate_rows(figures))
        out = io.BytesIO()
        document.save(out)
    return out.getvalue()


# --- The annex -----------------------------------------------------------------------------------------------

_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def _sheet_name(label, used):
    name = _SHEET_FORBIDDEN.sub(" ", str(label))[:31].strip() or f"Sheet{len(used) + 1}"
    while name in used:
        name = f"{name[:28]}-{len(used)}"
    used.add(name)
    return name


def summary_annex_xlsx(summary):
    """The figures of the summary as a workbook (bytes): the indicators compared, the months, the services, the
    results, the graduates and the missing reports. Text is written as text (never a formula or a link)."""
    import xlsxwriter

    figures = summary.figures or {}
    current = figures.get("current") or {}
    buffer = io.BytesIO()
    with force_locale(document_locale()):
        book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                            "strings_to_urls": False, "strings_to_numbers": False})
        bold, money = book.add_format({"bold": True}), book.add_format({"num_format": "0.00"})
        used = set()

        def sheet(label, header, rows, widths=()):
            ws = book.add_worksheet(_sheet_name(label, used))
            for col, value in enumerate(header):
                ws.write_string(0, col, _text(value), bold)
            for r, row in enumerate(rows, start=1):
                for col, value in enumerate(row):
                    if value is None:
                        ws.write_blank(r, col, None)  # not known: an empty cell, never a zero
                    elif isinstance(value, bool):
                        ws.write_string(r, col, str(value))
                    elif isinstance(value, int):
                        ws.write_number(r, col, value)
                    elif isinstance(value, Decimal):
                        ws.write_number(r, col, float(value), money)
                    else:
                        ws.write_string(r, col, _text(value))
            for col, width in enumerate(widths):
                ws.set_column(col, col, width)
            return ws

        header = indicator_rows(figures)[0] if figures else [_("Indicator")]
        sheet(_("Indicators"), header, indicator_values(figures) if figures else [], (36, 14, 14, 24))
        sheet(_("Months"), [_("Month"), _("Revenue (万元)"), _("Tax paid (万元)"), _("Reports submitted"),
                            _("Reports missing")],
              [[m["month"], _number(m["revenue_wan"]) if m["reports"] else None,
                _number(m["tax_wan"]) if m["reports"] else None, m["reports"], m["missing"]]
               for m in current.get("monthly", [])], (10, 14, 14, 14, 14))
        sheet(_("Services"), [_("Service function"), _("Service requests"), _("Company visits"), _("Activities"),
                              _("Activity participants")],
              [[str(SERVICE_FUNCTIONS.get(s["category"], s["category"])), s["requests"], s["visits"],
                s["activities"], s["participants"]] for s in current.get("services", [])], (24, 12, 12, 12, 14))
        sheet(_("Results"), [_("Kind of result"), _("Company"), _("Result"), _("Date"), _("Amount (万元)")],
              [[str(tc.MILESTONE_KINDS.get(row["kind"], row["kind"])), item["company_name"], item["title"],
                item["occurred_on"], None if item["amount_fen"] is None else Decimal(item["amount_fen"]) / 1_000_000]
               for row in current.get("cultivated", []) for item in row["items"]], (28, 30, 40, 12, 14))
        sheet(_("Graduates"), [_("Company"), _("Graduated on"), _("Followed until")],
              [[g["name"], g["moved_out_on"], g["tracked_until"]] for g in current.get("graduates", [])],
              (30, 14, 14))
        sheet(_("Missing reports"), [_("Company"), _("Month"), _("Treatment")],
              [[gap["company_name"], gap["month"], _("Left out of the totals (not counted as zero)")]
               for gap in current.get("gaps", [])], (30, 10, 36))
        book.close()
    return buffer.getvalue()
