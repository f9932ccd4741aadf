"""The rent compliance sheet as xlsx: the overall result, each lease against the market, the quotes, the policy."""
from io import BytesIO

import xlsxwriter
from flask_babel import gettext as _

from . import constants as c
from . import rent


def compliance_xlsx(base, result, quotes, policy, rules):
    """The compliance sheet of ``result`` (a rent.Compliance) as xlsx bytes; user text is always plain text."""
    output = BytesIO()
    workbook = xlsxwriter.Workbook(output, {"in_memory": True, "strings_to_formulas": False,
                                            "strings_to_urls": False, "strings_to_numbers": False})
    bold = workbook.add_format({"bold": True})
    money = workbook.add_format({"num_format": "#,##0.00"})
    pct = workbook.add_format({"num_format": "0.00"})
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    status_words = {"met": _("Met"), "not_met": _("Not met"), "unknown": _("Cannot be checked")}

    sheet = workbook.add_worksheet(_("Leases"))
    sheet.write_string(0, 0, _("Rent discount of %(base)s", base=base.name), bold)
    sheet.write_string(1, 0, _("Overall discount (%)"))
    overall = rent.percent(result.overall)
    if overall is not None:
        sheet.write_number(1, 1, float(overall), pct)
    sheet.write_string(2, 0, _("Required (%)"))
    sheet.write_number(2, 1, float(rent.percent(result.threshold)), pct)
    sheet.write_string(3, 0, _("Status"))
    sheet.write_string(3, 1, status_words[result.status])
    headers = [_("Company"), _("Space"), _("Rooms or workstations"), _("Starts"), _("Ends"), _("Size"), _("Unit"),
               _("List rent"), _("Actual rent"), _("Free months"), _("Discounted months"), _("Effective rent"),
               _("Market"), _("Discount (%)"), _("Running today"), _("Long free rent")]
    sheet.write_row(5, 0, headers, bold)
    for index, row in enumerate(result.rows, start=6):
        lease = row.lease
        sheet.write_string(index, 0, lease.company.name)
        sheet.write_string(index, 1, str(c.SPACE_TYPES[lease.space_type]))
        sheet.write_string(index, 2, lease.units)
        sheet.write_datetime(index, 3, _as_datetime(lease.starts_on), day)
        sheet.write_datetime(index, 4, _as_datetime(lease.ends_on), day)
        sheet.write_number(index, 5, float(lease.quantity))
        sheet.write_string(index, 6, str(c.SPACE_UNITS[lease.space_type]))
        sheet.write_number(index, 7, float(rent.yuan(lease.list_rent_fen)), money)
        sheet.write_number(index, 8, float(rent.yuan(lease.actual_rent_fen)), money)
        sheet.write_number(index, 9, lease.free_months or 0)
        sheet.write_number(index, 10, lease.discounted_months or 0)
        sheet.write_number(index, 11, float(rent.yuan(row.effective)), money)
        if row.reference is not None:
            sheet.write_number(index, 12, float(rent.yuan(row.reference)), money)
        if row.discount is not None:
            sheet.write_number(index, 13, float(rent.percent(row.discount)), pct)
        else:
            sheet.write_string(index, 13, _("Cannot be checked"))
        sheet.write_string(index, 14, _("Yes") if row.active else _("No"))
        sheet.write_string(index, 15, _("Yes") if row.long_free_rent else _("No"))
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, 2, 18)
    sheet.set_column(3, 15, 12)
    sheet.freeze_panes(6, 1)

    quotes_sheet = workbook.add_worksheet(_("Market quotes"))
    quotes_sheet.write_row(0, 0, [_("Date"), _("Source"), _("Agency, listing or park"), _("Location"), _("Space"),
                                  _("Price"), _("Counts")], bold)
    expired = {id(quote) for quote in result.expired_quotes}
    for index, quote in enumerate(quotes, start=1):
        quotes_sheet.write_datetime(index, 0, _as_datetime(quote.quoted_on), day)
        quotes_sheet.write_string(index, 1, str(quote.source_label))
        quotes_sheet.write_string(index, 2, quote.source_name)
        quotes_sheet.write_string(index, 3, quote.location)
        quotes_sheet.write_string(index, 4, str(quote.space_label))
        quotes_sheet.write_number(index, 5, float(rent.yuan(quote.price_fen)), money)
        quotes_sheet.write_string(index, 6, _("No") if id(quote) in expired else _("Yes"))
    quotes_sheet.set_column(0, 6, 16)

    method_sheet = workbook.add_worksheet(_("Method"))
    settings = [(_("Required overall discount (%)"), rules.discount_threshold_percent),
                (_("A market quote counts for (months)"), rules.quote_max_age_months),
                (_("Flag free rent longer than (months)"), rules.free_rent_warning_months)]
    for index, (label, value) in enumerate(settings):
        method_sheet.write_string(index, 0, str(label), bold)
        method_sheet.write_number(index, 1, value)
    method_lines = [
        _("Effective rent: what a lease charges per m² (or per seat) per month averaged over its whole term: free "
          "months count as zero, discounted months at their rent."),
        _("Market reference: the mean of the market quotes of the same space type that are not older than "
          "%(m)d months.", m=rules.quote_max_age_months),
        _("Discount of a lease: 1 − effective rent ÷ market reference."),
        _("Overall discount: 1 − Σ(effective rent × size) ÷ Σ(market reference × size) over the leases running "
          "today that can be checked; size is m² for rooms and seats for workstations, so every lease weighs by "
          "its area (or seats) at market price."),
    ]
    for index, line in enumerate(method_lines, start=len(settings) + 1):
        method_sheet.write_string(index, 0, line)
    method_sheet.set_column(0, 0, 110)

    policy_sheet = workbook.add_worksheet(_("Preferential policy"))
    if policy is None:
        policy_sheet.write_string(0, 0, _("No preferential policy is recorded."))
    else:
        rows = [(_("Title of the document"), policy.title), (_("Document number (文号)"), policy.document_number),
                (_("Issued by"), policy.issuing_unit), (_("Date of issue"), policy.issued_on.isoformat()),
                (_("Discounts it grants"), "、".join(str(c.POLICY_KINDS[kind]) for kind in policy.kinds)),
                (_("Posted on the wall (上墙公开)"), _("Yes") if policy.is_posted else _("No")),
                (_("What it grants, in short"), policy.summary)]
        for index, (label, value) in enumerate(rows):
            policy_sheet.write_string(index, 0, str(label), bold)
            policy_sheet.write_string(index, 1, value)
        policy_sheet.set_column(0, 0, 24)
        policy_sheet.set_column(1, 1, 60)
    workbook.close()
    return output.getvalue()


def _as_datetime(day):
    from datetime import datetime

    return datetime(day.year, day.month, day.day)
