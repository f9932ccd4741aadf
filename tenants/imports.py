"""The roster import: an Excel template to fill in, and an all-or-nothing import with a row-by-row report."""
import logging
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from io import BytesIO
from typing import NamedTuple

import xlsxwriter
from flask import current_app
from flask_babel import force_locale, gettext as _, lazy_gettext as _l
from openpyxl import load_workbook
from stdnum.cn import uscc as uscc_module
from werkzeug.datastructures import MultiDict

from operator_app.accounts.constants import ZONE_LABELS
from operator_app.accounts.models import Base
from operator_app.db import current_base_id
from operator_app.extensions import db

from . import constants as c
from . import services
from .forms import CompanyImportForm

log = logging.getLogger(__name__)

MAX_IMPORT_ROWS = 2000
#: Rows read (empty ones included) before giving up on a sheet whose companies never end.
MAX_SCANNED_ROWS = 10 * MAX_IMPORT_ROWS
#: The header row is looked for in the first rows (a title may stand above it).
HEADER_SEARCH_ROWS = 10
#: A workbook that unpacks to more than this is refused before openpyxl reads it (a zip bomb, or not a roster).
MAX_UNPACKED_BYTES = 200 * 1024 * 1024

TEXT, YES_NO, INDUSTRY, ZONE = "text", "yes_no", "industry", "zone"
DATE, INTEGER, DECIMAL = "date", "integer", "decimal"


class Column(NamedTuple):
    field: str  # the CompanyImportForm field the column fills
    header: object  # lazy string: the header the template shows (current locale)
    kind: str = TEXT
    width: int = 16


COLUMNS = [
    Column("name", _l("Company or team name"), width=32),
    Column("uscc", _l("Unified social credit code"), width=22),
    Column("is_team", _l("Startup team (yes/no)"), YES_NO, 12),
    Column("team_evidence", _l("Evidence of being a startup team"), width=30),
    Column("legal_representative", _l("Legal representative or person in charge"), width=16),
    Column("contact_name", _l("Contact person"), width=14),
    Column("contact_phone", _l("Contact phone"), width=16),
    Column("contact_email", _l("Contact email"), width=24),
    Column("main_business", _l("Main business"), width=30),
    Column("industry", _l("Industry"), INDUSTRY, 28),
    Column("zone", _l("Zone"), ZONE, 14),
    Column("unit", _l("Unit or workstation numbers"), width=18),
    Column("is_workstation", _l("Workstation company (yes/no)"), YES_NO, 14),
    Column("workstation_count", _l("Number of workstations"), INTEGER, 12),
    Column("area_m2", _l("Area (m²)"), DECIMAL, 12),
    Column("moved_in_on", _l("Move-in date"), DATE, 14),
    Column("licence_in_base", _l("Licence address in the base (yes/no)"), YES_NO, 16),
    Column("staff_on_site", _l("Key staff in the base (yes/no)"), YES_NO, 16),
    Column("equipment_on_site", _l("Equipment in the base (yes/no)"), YES_NO, 16),
]
COLUMNS_BY_FIELD = {column.field: column for column in COLUMNS}
#: Columns a file must have; the others may be left out (empty, or "no").
REQUIRED_FIELDS = ("name", "uscc", "industry")

YES_WORDS = {"是", "y", "yes", "true", "1", "✓", "✔", "√"}
NO_WORDS = {"否", "n", "no", "false", "0", "×", "✗", "✘"}

# The section names of GB/T 4754-2017 as the standard writes them, accepted besides the code and the
# names of the current locale (a roster typed before the catalogue's wording was known).
STANDARD_INDUSTRY_NAMES = {
    "A": "农、林、牧、渔业", "B": "采矿业", "C": "制造业", "D": "电力、热力、燃气及水生产和供应业", "E": "建筑业",
    "F": "批发和零售业", "G": "交通运输、仓储和邮政业", "H": "住宿和餐饮业", "I": "信息传输、软件和信息技术服务业",
    "J": "金融业", "K": "房地产业", "L": "租赁和商务服务业", "M": "科学研究和技术服务业",
    "N": "水利、环境和公共设施管理业", "O": "居民服务、修理和其他服务业", "P": "教育", "Q": "卫生和社会工作",
    "R": "文化、体育和娱乐业", "S": "公共管理、社会保障和社会组织", "T": "国际组织",
}
STANDARD_ZONE_NAMES = {"incubation": "孵化区", "growth": "成长区"}

_EXAMPLE_BASE = "91330100000000000"
#: The code of the template's example row: an unchanged example row is skipped, the code is refused elsewhere.
EXAMPLE_USCC = _EXAMPLE_BASE + uscc_module.calc_check_digit(_EXAMPLE_BASE)
EXAMPLE_NAME = _l("Example Co., Ltd. (replace or delete this row)")

FILE_NOT_XLSX = _l("This file is not an Excel workbook (.xlsx).")
FILE_DAMAGED = _l("This Excel file is damaged or incomplete; save it again and retry.")


@dataclass
class RowError:
    row: int  # the spreadsheet's row number; 0 for the whole file
    column: str  # the header shown to the user, or ""
    message: str


@dataclass
class ImportResult:
    created: list = field(default_factory=list)
    errors: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.errors


class _FileProblem(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def _norm(text):
    """Text as compared: compatibility forms folded (full-width brackets, ㎡), spaces collapsed, case ignored."""
    return " ".join(unicodedata.normalize("NFKC", str(text)).split()).casefold()


def _both_languages(lazy):
    """The lazy string in the current locale and as its English msgid."""
    with force_locale("en"):
        english = str(lazy)
    return {str(lazy), english}


# ---------------------------------------------------------------- the template


def roster_template():
    """The roster template (xlsx bytes): headers in the current locale with an example row, then explanations."""
    output = BytesIO()
    workbook = xlsxwriter.Workbook(output, {"in_memory": True, "strings_to_formulas": False,
                                            "strings_to_urls": False, "strings_to_numbers": False})
    bold = workbook.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#E8EEF7",
                                "border": 1})
    text = workbook.add_format({"num_format": "@"})
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    sheet = workbook.add_worksheet(sheet_name(_("Companies")))
    notes = workbook.add_worksheet(sheet_name(_("Instructions")))

    yes, no = str(_l("Yes")), str(_l("No"))
    example = {
        "name": str(EXAMPLE_NAME), "uscc": EXAMPLE_USCC, "is_team": no, "team_evidence": "",
        "legal_representative": "", "contact_name": "", "contact_phone": "13800000000",
        "contact_email": "contact@example.com", "main_business": "",
        "industry": str(c.INDUSTRIES["I"]), "zone": str(ZONE_LABELS["incubation"]), "unit": "A-101",
        "is_workstation": no, "workstation_count": None, "area_m2": 120, "moved_in_on": date(2024, 3, 1),
        "licence_in_base": yes, "staff_on_site": yes, "equipment_on_site": yes,
    }
    for index, column in enumerate(COLUMNS):
        if column.kind == DATE:
            column_format = day
        elif column.kind in (INTEGER, DECIMAL):
            column_format = None
        else:
            column_format = text  # long digit strings (codes, phones) stay text in Excel
        sheet.set_column(index, index, column.width, column_format)
        sheet.write_string(0, index, str(column.header), bold)
        value = example[column.field]
        if value is None or value == "":
            continue
        if isinstance(value, date):
            sheet.write_datetime(1, index, datetime(value.year, value.month, value.day), day)
        elif isinstance(value, (int, float)):
            sheet.write_number(1, index, value)
        else:
            sheet.write_string(1, index, value, text)
    sheet.set_row(0, 45)
    sheet.freeze_panes(1, 1)

    # The explanations sheet: what each coded column accepts.
    notes.set_column(0, 0, 14)
    notes.set_column(1, 1, 70, wrap)
    row = 0
    lines = [
        _("One company per row below the headers; replace or delete the example row."),
        _("All or nothing: if any row has an error, nothing is imported. At most %(max)d companies; no formulas.",
          max=MAX_IMPORT_ROWS),
        _("A startup team without a licence leaves the code empty and describes its evidence."),
        _("Dates: YYYY-MM-DD. Yes: %(yes)s, Y, 1, ✓. No: %(no)s, N, 0 or empty.", yes=yes, no=no),
    ]
    for line in lines:
        notes.merge_range(row, 0, row, 1, line, wrap)
        notes.set_row(row, 32)
        row += 1
    row += 1
    notes.write_string(row, 0, _("Zone"), bold)
    notes.write_string(row, 1, _("Also accepted; leave empty if not yet placed"), bold)
    row += 1
    zone_first = row
    for zone in c.TENANT_ZONES:
        label = str(ZONE_LABELS[zone])
        notes.write_string(row, 0, label)
        others = dict.fromkeys([STANDARD_ZONE_NAMES[zone], *sorted(_both_languages(ZONE_LABELS[zone])), zone])
        notes.write_string(row, 1, ", ".join(word for word in others if word != label))
        row += 1
    zone_last = row - 1
    row += 1
    notes.merge_range(row, 0, row, 1, _("Industry: the code or the name"), bold)
    row += 1
    industry_first = row
    for code, label in c.INDUSTRIES.items():
        notes.write_string(row, 0, code)
        notes.write_string(row, 1, str(label))
        row += 1
    industry_last = row - 1

    # Drop-down lists on the first sheet; other accepted words may still be typed.
    quoted = "'" + notes.get_name().replace("'", "''") + "'"
    last_row = MAX_IMPORT_ROWS
    for index, column in enumerate(COLUMNS):
        if column.kind == YES_NO:
            source = [yes, no]
        elif column.kind == ZONE:
            source = f"={quoted}!$A${zone_first + 1}:$A${zone_last + 1}"
        elif column.kind == INDUSTRY:
            source = f"={quoted}!$B${industry_first + 1}:$B${industry_last + 1}"
        else:
            continue
        sheet.data_validation(1, index, last_row, index, {"validate": "list", "source": source,
                                                          "show_error": False})
    sheet.activate()
    workbook.close()
    return output.getvalue()


def sheet_name(name):
    """A valid Excel sheet name: at most 31 characters, none of []:*?/\\."""
    return "".join(" " if ch in "[]:*?/\\" else ch for ch in name)[:31].strip("' ") or "Sheet"


# ---------------------------------------------------------------- the import


def import_roster(upload, *, by, base=None):
    """Import the companies of an uploaded roster (a werkzeug FileStorage) into the current base, in residence.

    All or nothing: every row is checked with the web form's rules; if anything is wrong nothing is created
    and ``errors`` lists each problem with its row and column. Otherwise the companies are created (flushed
    and audited); the caller commits. A file that is not a readable xlsx is an error, never an exception.
    """
    max_bytes = current_app.config["MAX_UPLOAD_BYTES"]
    data = upload.read(max_bytes + 1) if upload else b""
    if not data:
        return _file_error(_l("Choose a file to upload."))
    if len(data) > max_bytes:
        return _file_error(_l("The file is larger than %(mb)d MB.", mb=max_bytes // (1024 * 1024)))
    try:
        header_row, headers, rows = _read_sheet(data)
    except _FileProblem as problem:
        return _file_error(problem.message)

    columns, errors = _match_headers(header_row, headers)
    if errors:
        return ImportResult(errors=errors)
    errors.extend(_values_without_header(headers, rows))

    if base is None:
        base = db.session.get(Base, current_base_id())
    vocabulary = _Vocabulary()
    forms = []
    workstations = 0  # workstation companies in the rows so far: the quota covers the whole file
    seen_codes = {}
    example_names = {_norm(name) for name in _both_languages(EXAMPLE_NAME)}
    for row_number, cells in rows:
        form_data, row_errors = _row_formdata(row_number, columns, cells, vocabulary)
        uscc = _compact(form_data.get("uscc", ""))
        if uscc == EXAMPLE_USCC:
            if _norm(form_data.get("name", "")) in example_names:
                continue  # the template's example row, left in place
            row_errors.append(("uscc", RowError(row_number, str(COLUMNS_BY_FIELD["uscc"].header),
                                                _("The example row's code; enter the company's own code."))))
        failed_fields = {field_name for field_name, _error in row_errors}
        errors.extend(error for _field_name, error in row_errors)
        form = CompanyImportForm(formdata=MultiDict(form_data), base=base, housed=True,
                                 workstations_before=workstations)
        workstations += 1 if form.is_workstation.data else 0
        if not form.validate():
            for field_name, messages in form.errors.items():
                if field_name in failed_fields:
                    continue  # the cell's own problem is already reported
                header = str(COLUMNS_BY_FIELD[field_name].header) if field_name in COLUMNS_BY_FIELD else ""
                errors.extend(RowError(row_number, header, str(message)) for message in messages)
        code = form.uscc.data or ""
        if code:
            if code in seen_codes:
                errors.append(RowError(row_number, str(COLUMNS_BY_FIELD["uscc"].header),
                                       _("The same code as row %(row)d.", row=seen_codes[code])))
            else:
                seen_codes[code] = row_number
        forms.append(form)

    if not errors and not forms:
        errors.append(RowError(0, "", _("The file has no companies to import.")))
    if errors:
        order = {str(column.header): index for index, column in enumerate(COLUMNS)}
        errors.sort(key=lambda error: (error.row, order.get(error.column, len(order))))
        return ImportResult(errors=errors)
    created = [services.create_company(form.company_values(), status=c.STATUS_IN_RESIDENCE, by=by)
               for form in forms]
    return ImportResult(created=created)


def _file_error(message):
    return ImportResult(errors=[RowError(0, "", str(message))])


def _compact(text):
    return text.replace(" ", "").replace("-", "").upper()


class _Cell(NamedTuple):
    value: object
    is_formula: bool


def _read_sheet(data):
    """(header row number, header cells, [(row number, cells)]) of the workbook's first sheet.

    Raises _FileProblem for a file that is not an xlsx, is damaged, or has too many rows.
    """
    if not data.startswith(b"PK\x03\x04"):
        raise _FileProblem(FILE_NOT_XLSX)
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise _FileProblem(FILE_DAMAGED) from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise _FileProblem(_l("The workbook is too large once unpacked."))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about extensions it does not read
            workbook = load_workbook(BytesIO(data), read_only=True, data_only=False)
            try:
                return _scan_rows(workbook)
            finally:
                workbook.close()
    except _FileProblem:
        raise
    except Exception:  # noqa: BLE001 - a damaged file makes openpyxl raise many kinds (zip, XML, key, value…)
        log.info("roster import: unreadable workbook", exc_info=True)
        raise _FileProblem(FILE_DAMAGED) from None


def _scan_rows(workbook):
    if not workbook.worksheets:
        raise _FileProblem(FILE_DAMAGED)
    sheet = workbook.worksheets[0]
    if hasattr(sheet, "reset_dimensions"):
        sheet.reset_dimensions()  # a stored dimension may be wrong; read every row there is
    known = _known_headers()
    header_row, headers, rows = None, None, []
    for row_number, raw in enumerate(sheet.iter_rows(values_only=False), start=1):
        cells = tuple(_Cell(cell.value, cell.data_type == "f") for cell in raw)
        if header_row is None:
            if sum(1 for cell in cells if _is_header_text(cell.value, known)) >= 2:
                header_row, headers = row_number, cells
            elif row_number >= HEADER_SEARCH_ROWS:
                break
            continue
        if row_number - header_row > MAX_SCANNED_ROWS:
            raise _FileProblem(_l("The sheet has more than %(max)d rows, empty ones included; delete unused "
                                  "rows.", max=MAX_SCANNED_ROWS))
        if all(_is_empty(cell.value) for cell in cells):
            continue
        if len(rows) == MAX_IMPORT_ROWS:
            raise _FileProblem(_l("More than %(max)d companies; import at most %(max)d at a time.",
                                  max=MAX_IMPORT_ROWS))
        rows.append((row_number, cells))
    if header_row is None:
        raise _FileProblem(_l("No header row found; use the template's headers."))
    return header_row, headers, rows


def _known_headers():
    """Normalised header text (either language) -> field."""
    known = {}
    for column in COLUMNS:
        for text in _both_languages(column.header):
            known[_norm(text)] = column.field
    return known


def _is_header_text(value, known):
    return isinstance(value, str) and _norm(value) in known


def _is_empty(value):
    return value is None or (isinstance(value, str) and not value.strip())


def _match_headers(header_row, headers):
    """({cell index: Column}, errors) for the header row."""
    known = _known_headers()
    columns, errors, seen = {}, [], set()
    for index, cell in enumerate(headers):
        if _is_empty(cell.value):
            continue
        text = str(cell.value).strip()
        field_name = known.get(_norm(text))
        if field_name is None:
            errors.append(RowError(header_row, text, _("Unknown column; use the template's headers.")))
        elif field_name in seen:
            errors.append(RowError(header_row, text, _("This column appears twice.")))
        else:
            seen.add(field_name)
            columns[index] = COLUMNS_BY_FIELD[field_name]
    for field_name in REQUIRED_FIELDS:
        if field_name not in seen:
            errors.append(RowError(header_row, str(COLUMNS_BY_FIELD[field_name].header),
                                   _("This column is missing.")))
    return columns, errors


def _values_without_header(headers, rows):
    """One error for each column that holds values but has no header (they would be lost)."""
    named = {index for index, cell in enumerate(headers) if not _is_empty(cell.value)}
    errors, reported = [], set()
    for row_number, cells in rows:
        for index, cell in enumerate(cells):
            if index not in named and index not in reported and not _is_empty(cell.value):
                reported.add(index)
                errors.append(RowError(row_number, "", _("Column %(column)s has values but no header.",
                                                          column=_column_letter(index))))
    return errors


def _column_letter(index):
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


class _Vocabulary:
    """The words the coded columns accept, in both languages, worked out once per import."""

    def __init__(self):
        self.yes = {_norm(word) for word in (*YES_WORDS, *_both_languages(_l("Yes")))}
        self.no = {_norm(word) for word in (*NO_WORDS, *_both_languages(_l("No")))}
        self.industries = {}
        for code, label in c.INDUSTRIES.items():
            for name in (code, STANDARD_INDUSTRY_NAMES[code], *_both_languages(label)):
                self.industries[_norm(name)] = code
        self.zones = {}
        for zone in c.TENANT_ZONES:
            for name in (zone, STANDARD_ZONE_NAMES[zone], *_both_languages(ZONE_LABELS[zone])):
                self.zones[_norm(name)] = zone

    def convert(self, kind, value):
        """The form text of a cell of a column of ``kind``; raises ValueError with the message for the user."""
        if kind == YES_NO:
            return self.yes_no(value)
        if kind == INDUSTRY:
            return self.coded(value, self.industries, _l("Unknown industry; enter a code A–T or its name."))
        if kind == ZONE:
            return self.coded(value, self.zones, _l("Unknown zone; enter incubation or growth zone, or leave empty."))
        if kind == DATE:
            return _as_date(value)
        return _as_text(value)

    def yes_no(self, value):
        if value is None or isinstance(value, bool):
            return bool(value)
        if isinstance(value, (int, float)) and value in (0, 1):
            return bool(value)
        word = _norm(_as_text(value))
        if not word or word in self.no:
            return False
        if word in self.yes:
            return True
        raise ValueError(_("Enter yes or no (%(yes)s or %(no)s).", yes=_l("Yes"), no=_l("No")))

    @staticmethod
    def coded(value, words, message):
        text = _as_text(value)
        if not text:
            return ""
        try:
            return words[_norm(text)]
        except KeyError:
            raise ValueError(str(message)) from None


def _row_formdata(row_number, columns, cells, vocabulary):
    """The form data of one row (field -> text, as a browser posts it) and [(field, RowError)] of its cells."""
    data, errors = {}, []
    for index, column in columns.items():
        cell = cells[index] if index < len(cells) else _Cell(None, False)
        header = str(column.header)
        if cell.is_formula or (isinstance(cell.value, str) and cell.value.startswith("=")):
            errors.append((column.field, RowError(row_number, header,
                                                  _("Formulas are not accepted; paste values."))))
            continue
        try:
            text = vocabulary.convert(column.kind, cell.value)
        except ValueError as problem:
            errors.append((column.field, RowError(row_number, header, str(problem))))
            continue
        if column.kind == YES_NO:
            if text:
                data[column.field] = "y"  # an unticked checkbox is not posted
        else:
            data[column.field] = text
    return data, errors


def _as_text(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(_l("Yes")) if value else str(_l("No"))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


def _as_date(value):
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = _as_text(value)
    if len(text) >= 8 and text[:4].isdigit() and text[4] in "/.":
        text = text.replace(text[4], "-")  # 2024/03/01 and 2024.03.01 are the same date
    return text  # the form's date field checks the text (YYYY-MM-DD)
