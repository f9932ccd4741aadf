"""The monthly attendance sheet (考勤表) as xlsx: one A4-landscape sheet per company, people × days, totals, the
average and a signature line."""
from io import BytesIO

import xlsxwriter
from flask_babel import gettext as _

from .attendance import days_figure

MARK = "✓"


def sheet_title(name, used):
    """A worksheet name from a company name: 31 characters at most, none of []:*?/\\, no apostrophe at either
    end, unique ignoring case (as Excel compares them)."""
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in name)[:28].strip("'") or "sheet"
    title, n = clean, 2
    while title.lower() in used:
        title, n = f"{clean[:25]}({n})", n + 1
    used.add(title.lower())
    return title


def month_sheet_xlsx(base, data):
    """The sheet of ``data`` (an attendance.Month) as xlsx bytes."""
    output = BytesIO()
    workbook = xlsxwriter.Workbook(output, {"in_memory": True, "strings_to_formulas": False,
                                            "strings_to_urls": False, "strings_to_numbers": False})
    title = workbook.add_format({"bold": True, "font_size": 14})
    head = workbook.add_format({"bold": True, "align": "center", "border": 1, "bg_color": "#EEEEEE"})
    cell = workbook.add_format({"align": "center", "border": 1})
    rest = workbook.add_format({"align": "center", "border": 1, "bg_color": "#DDDDDD"})
    name_format = workbook.add_format({"border": 1})
    working = set(data.working)
    used = set()
    companies = data.companies or []
    if not companies:
        workbook.add_worksheet(_("Attendance")).write_string(0, 0, _("No workstation companies."))
    for row in companies:
        sheet = workbook.add_worksheet(sheet_title(row.company.name, used))
        sheet.set_landscape()
        sheet.set_paper(9)  # A4
        sheet.fit_to_pages(1, 0)
        sheet.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
        sheet.write_string(0, 0, _("Attendance sheet of %(company)s, %(year)d-%(month)02d",
                                   company=row.company.name, year=data.year, month=data.month), title)
        sheet.write_string(1, 0, base.name)
        sheet.write_string(3, 0, _("Name"), head)
        for column, day in enumerate(data.days, start=1):
            sheet.write_number(3, column, day.day, head)
        total_column = len(data.days) + 1
        sheet.write_string(3, total_column, _("Days on site"), head)
        for index, person in enumerate(row.people, start=4):
            sheet.write_string(index, 0, person.person.name, name_format)
            for column, day in enumerate(data.days, start=1):
                style = cell if day in working else rest
                sheet.write_string(index, column, MARK if day in person.present else "", style)
            sheet.write_number(index, total_column, person.days_on_site, cell)
        totals_row = 4 + len(row.people)
        sheet.write_string(totals_row, 0, _("People on site"), head)
        for column, day in enumerate(data.days, start=1):
            sheet.write_number(totals_row, column, sum(1 for person in row.people if day in person.present), cell)
        sheet.write_number(totals_row, total_column, sum(person.days_on_site for person in row.people), cell)
        average = days_figure(row.average)
        sheet.write_string(totals_row + 2, 0, _("Weekly average: %(days)s days on site (required: %(required)d); "
                                                "grey columns are weekends and holidays.",
                                                days=average if average is not None else "—",
                                                required=row.threshold))
        sheet.write_string(totals_row + 4, 0, _("Company representative (signature): ____________    "
                                                "Base manager (signature): ____________    Date: ____________"))
        sheet.set_column(0, 0, 12)
        sheet.set_column(1, len(data.days), 3.2)
        sheet.set_column(total_column, total_column, 9)
    workbook.close()
    return output.getvalue()
