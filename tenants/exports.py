"""The company list as an Excel workbook: the roster template's columns plus status and move-out date."""
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO

import xlsxwriter
from flask_babel import gettext as _, lazy_gettext as _l

from operator_app.accounts.constants import ZONE_LABELS

from . import constants as c
from .imports import COLUMNS, DATE, DECIMAL, INDUSTRY, INTEGER, YES_NO, ZONE, Column, sheet_name

EXPORT_COLUMNS = [*COLUMNS,
                  Column("status", _l("Status"), width=12),
                  Column("moved_out_on", _l("Move-out date"), DATE, 14)]


def companies_xlsx(companies):
    """The companies as xlsx bytes, one row each, headers and labels in the current locale.

    Every text is written as a string (never a formula or a link, whatever a company's name holds).
    """
    companies = list(companies)
    output = BytesIO()
    workbook = xlsxwriter.Workbook(output, {"in_memory": True, "strings_to_formulas": False,
                                            "strings_to_urls": False, "strings_to_numbers": False})
    bold = workbook.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#E8EEF7",
                                "border": 1})
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    area = workbook.add_format({"num_format": "0.00"})
    sheet = workbook.add_worksheet(sheet_name(_("Companies")))
    for index, column in enumerate(EXPORT_COLUMNS):
        sheet.set_column(index, index, column.width)
        sheet.write_string(0, index, str(column.header), bold)
    sheet.set_row(0, 45)
    sheet.freeze_panes(1, 1)
    yes, no = str(_l("Yes")), str(_l("No"))

    for row, company in enumerate(companies, start=1):
        for index, column in enumerate(EXPORT_COLUMNS):
            value = getattr(company, column.field)
            if column.kind == YES_NO:
                sheet.write_string(row, index, yes if value else no)
            elif value is None or value == "":
                continue
            elif column.kind == DATE:
                if not isinstance(value, datetime):
                    value = datetime(value.year, value.month, value.day)
                sheet.write_datetime(row, index, value, day)
            elif column.kind == INTEGER:
                sheet.write_number(row, index, value)
            elif column.kind == DECIMAL:
                sheet.write_number(row, index, float(value) if isinstance(value, Decimal) else value, area)
            elif column.kind == INDUSTRY:
                sheet.write_string(row, index, str(c.INDUSTRIES.get(value, value)))
            elif column.kind == ZONE:
                sheet.write_string(row, index, str(ZONE_LABELS.get(value, value)))
            elif column.field == "status":
                sheet.write_string(row, index, str(c.STATUS_LABELS.get(value, value)))
            else:
                sheet.write_string(row, index, value.isoformat() if isinstance(value, date) else str(value))
    if companies:
        sheet.autofilter(0, 0, len(companies), len(EXPORT_COLUMNS) - 1)
    workbook.close()
    return output.getvalue()
