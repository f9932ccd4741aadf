"""A filing version's files, written from its snapshot only (so a frozen version's files can be rebuilt exactly):
the xlsx for people, the CSV of the summary indicators, and the JSON for machine upload."""
import csv
import io
import json

from .snapshot import machine_document


def filing_json(filing):
    """The JSON document for the provincial platform (UTF-8, keys stable, amounts as 万元 strings and fen)."""
    return json.dumps(machine_document(filing), ensure_ascii=False, indent=2, sort_keys=False).encode("utf-8")


def filing_csv(filing):
    """The summary indicators as CSV (UTF-8 with BOM, so Excel opens Chinese correctly)."""
    from .labels import indicator_rows

    out = io.StringIO()
    writer = csv.writer(out)
    for row in indicator_rows(filing.figures):
        writer.writerow([_text(cell) for cell in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _text(value):
    """A cell as text that no spreadsheet reads as a formula."""
    value = "" if value is None else str(value)
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(value) else value


def _is_number(value):
    try:
        float(value)
    except ValueError:
        return False
    return True


def filing_xlsx(filing):
    """The filing workbook (summary in the provincial indicator order, companies, graduates, services, gaps)."""
    import xlsxwriter

    from .labels import indicator_rows

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                        "strings_to_urls": False})
    sheet = book.add_worksheet("summary")
    for r, row in enumerate(indicator_rows(filing.figures)):
        for col, value in enumerate(row):
            sheet.write_string(r, col, "" if value is None else str(value))
    book.close()
    return buffer.getvalue()
