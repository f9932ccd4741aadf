"""Import a month's attendance typed into the exported sheet's layout: all rows or none, errors by sheet and row."""
from io import BytesIO
from zipfile import BadZipFile

from flask_babel import gettext as _
from openpyxl import load_workbook

from . import attendance_services as services
from . import constants as c
from .attendance import month_bounds
from .attendance_exports import sheet_title

PRESENT_MARKS = {"✓", "√", "✔", "1", "Y", "y", "是", "到", "x", "X"}
HEADER_ROW = 4  # as exported: title, base, blank, then the header row
MAX_BYTES = 5 * 1024 * 1024


def import_month_sheet(upload, year, month, *, today, by):
    """Set presence for the month from the workbook; returns (errors, days present). Nothing is written when
    there is an error: the caller rolls back."""
    try:
        return _import(upload, year, month, today=today, by=by)
    except Exception:  # noqa: BLE001 — any unreadable workbook (bad XML, absurd numbers) is the user's file
        import logging

        logging.getLogger(__name__).info("attendance import: unreadable workbook", exc_info=True)
        return [_("This Excel file is damaged or incomplete; save it again and retry.")], 0


def _import(upload, year, month, *, today, by):
    data = upload.read(MAX_BYTES + 1) if upload else b""
    if not data:
        return [_("Choose a file to upload.")], 0
    if len(data) > MAX_BYTES or not data.startswith(b"PK"):
        return [_("This file is not an Excel workbook (.xlsx).")], 0
    try:
        workbook = load_workbook(BytesIO(data), read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError, ValueError):
        return [_("This Excel file is damaged or incomplete; save it again and retry.")], 0
    first, last = month_bounds(year, month)
    used = set()
    companies = {sheet_title(company.name, used): company for company in services.workstation_companies()}
    errors, marks = [], []
    for sheet in workbook.worksheets:
        company = companies.get(sheet.title)
        if company is None:
            errors.append(_("Sheet %(sheet)s: no workstation company of this base has this name.", sheet=sheet.title))
            continue
        title_cell = str(next(sheet.iter_rows(min_row=1, max_row=1, max_col=1, values_only=True), [""])[0] or "")
        if f"{year:04d}-{month:02d}" not in title_cell:
            errors.append(_("Sheet %(sheet)s is not the sheet of %(month)s: download that month's sheet and mark it.",
                            sheet=sheet.title, month=f"{year:04d}-{month:02d}"))
            continue
        people, shared = {}, set()
        for person in services.people_of(company):  # active people first: a name taken again is the current one
            if person.name in people and person.is_active and people[person.name].is_active:
                shared.add(person.name)
            people.setdefault(person.name, person)
        seen = {}
        rows = sheet.iter_rows(min_row=HEADER_ROW, max_row=HEADER_ROW + 500, values_only=True)
        header = next(rows, None)
        if not header or str(header[0] or "").strip() != _("Name"):
            errors.append(_("Sheet %(sheet)s: the header row is not where the exported sheet has it.",
                            sheet=sheet.title))
            continue
        day_columns = {}
        for column, value in enumerate(header[1:], start=1):
            if isinstance(value, (int, float)) and 1 <= int(value) <= last.day and int(value) == value:
                day_columns[column] = first.replace(day=int(value))
        for number, values in enumerate(rows, start=HEADER_ROW + 1):
            name = str(values[0] or "").strip() if values else ""
            if not name or name == _("People on site"):
                break
            if name in seen:
                errors.append(_("Sheet %(sheet)s, row %(row)d: %(name)s appears twice (row %(first)d).",
                                sheet=sheet.title, row=number, name=name, first=seen[name]))
                continue
            seen[name] = number
            person = people.get(name)
            if name in shared:
                errors.append(_("Sheet %(sheet)s, row %(row)d: two people of this company are called %(name)s; "
                                "correct their days in the grid.", sheet=sheet.title, row=number, name=name))
                continue
            if person is None:
                errors.append(_("Sheet %(sheet)s, row %(row)d: %(name)s is not registered at this company.",
                                sheet=sheet.title, row=number, name=name))
                continue
            for column, day in day_columns.items():
                value = str(values[column] if column < len(values) and values[column] is not None else "").strip()
                present = value in PRESENT_MARKS
                if present and day > today:
                    errors.append(_("Sheet %(sheet)s, row %(row)d: %(day)s is in the future.", sheet=sheet.title,
                                    row=number, day=day.isoformat()))
                elif value and not present:
                    errors.append(_("Sheet %(sheet)s, row %(row)d: '%(value)s' on %(day)s is not a mark; use ✓ "
                                    "or leave the cell empty.", sheet=sheet.title, row=number, value=value[:20],
                                    day=day.isoformat()))
                elif day <= today:
                    marks.append((person, day, present))
    if errors:
        return errors, 0
    count = 0
    for person, day, present in marks:
        if day < person.active_from or (person.deactivated_on and day >= person.deactivated_on):
            continue
        services.set_presence(person, day, present, source=c.ATTENDANCE_IMPORT, by=by)
        count += 1 if present else 0
    return [], count
