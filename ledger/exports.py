"""The service ledger as an Excel workbook: one row per entry, as inspectors and the provincial platform read it.

Files (notice, photos, sheet scans) are links into the app, which checks the reader's access to the base.
Every user text is written as a string, never as a formula or a link.
"""
from datetime import datetime
from io import BytesIO

import xlsxwriter
from flask import url_for
from flask_babel import gettext as _, lazy_gettext as _l

from operator_app.timeutil import to_local
from tenants.imports import sheet_name

from . import constants as c
from . import services

COLUMNS = (  # (header, width)
    (_l("Type"), 10), (_l("Date"), 11), (_l("Category"), 14), (_l("Company or participants"), 28),
    (_l("Title or content"), 40), (_l("Details"), 50), (_l("Base staff or organiser"), 14),
    (_l("Partner agency"), 18), (_l("Status"), 14), (_l("Response time (hours)"), 10),
    (_l("Companies taking part"), 10), (_l("People taking part"), 10), (_l("Archive"), 12),
    (_l("Formal notice"), 30), (_l("Photos"), 30), (_l("Sign-in sheet"), 30), (_l("Publicity"), 30),
    (_l("Results"), 30), (_l("Average rating"), 8), (_l("Feedback"), 30),
)


def ledger_xlsx(base, entries, today):
    """The entries as xlsx bytes, headers in the current locale."""
    output = BytesIO()
    workbook = xlsxwriter.Workbook(output, {"in_memory": True, "strings_to_formulas": False,
                                            "strings_to_urls": False, "strings_to_numbers": False})
    header = workbook.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#E8EEF7",
                                  "border": 1})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    day = workbook.add_format({"num_format": "yyyy-mm-dd", "valign": "top"})
    link = workbook.add_format({"font_color": "blue", "underline": 1, "valign": "top"})
    sheet = workbook.add_worksheet(sheet_name(_("Service ledger")))
    for index, (title, width) in enumerate(COLUMNS):
        sheet.set_column(index, index, width)
        sheet.write_string(0, index, str(title), header)
    sheet.set_row(0, 32)
    sheet.freeze_panes(1, 2)
    feedback = services.feedback_by_entry(entries)
    for row, entry in enumerate(entries, start=1):
        cells = _cells(base, entry, today, feedback.get((entry.kind, entry.id), []))
        for index, value in enumerate(cells):
            _write(sheet, row, index, value, wrap, day, link)
    workbook.close()
    return output.getvalue()


def _write(sheet, row, column, value, wrap, day, link):
    if value is None or value == "" or value == []:
        return
    if isinstance(value, datetime):
        sheet.write_datetime(row, column, value, day)
    elif isinstance(value, (int, float)):
        sheet.write_number(row, column, value)
    elif isinstance(value, list):  # links into the app: the first as a link, all of them listed as text
        urls = [url for url, _name in value]
        sheet.write_url(row, column, urls[0], link, string=value[0][1][:200])
        if len(value) > 1:
            sheet.write_comment(row, column, "\n".join(urls))
    else:
        sheet.write_string(row, column, str(value), wrap)


def _file_links(entry, kind):
    return [(url_for("ledger.activity_file", activity_id=entry.id, file_id=file.id, _external=True),
             file.stored.original_name) for file in entry.files_of(kind)]


def _cells(base, entry, today, ratings):
    day = datetime(entry.occurred_on.year, entry.occurred_on.month, entry.occurred_on.day)
    average = round(sum(f.rating for f in ratings) / len(ratings), 2) if ratings else None
    comments = "\n".join(f"{f.rating}：{f.comment}" for f in ratings if f.comment)
    common = [str(c.KINDS[entry.kind]), day, str(entry.category_label)]
    if entry.kind == c.KIND_REQUEST:
        hours = round(entry.response_time.total_seconds() / 3600, 1) if entry.response_time is not None else None
        details = _("Channel: %(channel)s", channel=entry.channel_label) + (
            "\n" + _("What was done: %(text)s", text=entry.resolution) if entry.resolution else "")
        rest = [entry.company.name, entry.content, details, entry.handler.name if entry.handler else "", "",
                str(entry.status_label), hours, 1, None, "", [], [], [], "", ""]
    elif entry.kind == c.KIND_VISIT:
        details = entry.content + ("\n" + _("Follow-up: %(text)s", text=entry.follow_up) if entry.follow_up else "")
        if entry.people:
            details = _("People: %(people)s", people=entry.people) + "\n" + details
        rest = [entry.company.name, entry.purpose, details, entry.staff.name if entry.staff else "",
                entry.agency.name if entry.agency else "", "", None, 1, None, "", [], [], [], "", ""]
    else:
        companies, people = services.participation(entry)
        starts, ends = to_local(entry.starts_at, base.timezone), to_local(entry.ends_at, base.timezone)
        details = f"{starts:%Y-%m-%d %H:%M} – {ends:%H:%M}" + (f" · {entry.place}" if entry.place else "")
        if entry.agenda:
            details += "\n" + entry.agenda
        names = "、".join(sorted({signin.company_name for signin in entry.signins}))
        archive = services.archive_state(entry, today, base.timezone)
        rest = [names, entry.title, details, entry.organiser.name if entry.organiser else "",
                entry.agency.name if entry.agency else "", "", None, companies, people, str(archive.label),
                _file_links(entry, c.FILE_NOTICE), _file_links(entry, c.FILE_PHOTO), _file_links(entry, c.FILE_SHEET),
                "\n".join(entry.publicity), entry.results]
    return common + rest + [average, comments]
