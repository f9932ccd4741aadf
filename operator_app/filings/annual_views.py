"""Views of the annual work summary (年度工作总结) on the ``filings`` blueprint: the years, one year's summary
(its figures beside the manager's five sections), its Word document and spreadsheet annex, the day it was
sent, and the dashboard's countdown to 15 January.

A summary is identified by its year inside the current base (the scoped query), never by an id from the page.
"""
from datetime import date
from io import BytesIO

from babel.lists import format_list
from flask import abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale, gettext as _
from sqlalchemy.orm.exc import StaleDataError

from tenants.constants import MILESTONE_KINDS

from ..accounts import constants as ac
from ..accounts.constants import SERVICE_FUNCTIONS
from ..charts import line_chart
from ..extensions import db
from ..panels import register_panel
from ..scoping import roles_required
from ..timeutil import today_in, utcnow
from . import annual
from .annual_forms import AnnualSentForm, AnnualSummaryForm
from .labels import UNIT_LABELS
from .views import READERS, base_today, bp

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EARLIEST_YEAR = 2000


def _year_or_404(year):
    """Raises NotFound for a year that has not ended yet or is out of any base's records."""
    if not EARLIEST_YEAR <= year < base_today().year:
        abort(404)
    return year


def _owed_or_404(year):
    """Raises NotFound for a year that has not ended yet, or that ended before the base existed (no summary is
    owed for it, so none is offered or drafted)."""
    if not annual.existed_before(g.base, date(_year_or_404(year) + 1, 1, 1)):
        abort(404)
    return year


def _summary_or_404(year):
    summary = annual.summary_for(_year_or_404(year))
    if summary is None:
        abort(404)
    return summary


@bp.route("/annual")
@roles_required(*READERS)
def annual_list():
    """The base's annual summaries, latest first, and the year before's when it is not drafted yet."""
    today = base_today()
    made = {summary.year: summary for summary in annual.summaries()}
    owed = {year for year in {*made, today.year - 1} if annual.existed_before(g.base, date(year + 1, 1, 1))}
    years = sorted({*made, *owed}, reverse=True)
    # (year, its summary or None, its deadline, whether the base owed it: a base created after a year ended
    # owes no summary of it, so it is never past its deadline)
    rows = [(year, made.get(year), date(year + 1, 1, annual.DUE_DAY), year in owed) for year in years]
    return render_template("filings/annual_list.html", rows=rows, today=today)


@bp.route("/annual/<int:year>/draft", methods=["POST"])
@roles_required(ac.ROLE_MANAGER)
def annual_draft(year):
    """Draft the year's summary now from the records as they stand (the January job does it otherwise).
    Raises NotFound for a year not ended or ended before the base existed."""
    year = _year_or_404(year)
    if annual.summary_for(year) is not None:
        flash(_("The summary of %(year)d is already drafted.", year=year), "info")
        return redirect(url_for("filings.annual_show", year=year))
    _owed_or_404(year)
    annual.ensure_summary(g.base, year, today=base_today(), now=utcnow(), by=g.user)
    db.session.commit()
    flash(_("The summary of %(year)d has been drafted from the records. Complete its text, then download the "
            "document.", year=year), "success")
    return redirect(url_for("filings.annual_show", year=year))


@bp.route("/annual/<int:year>")
@roles_required(*READERS)
def annual_show(year):
    """The year's summary: the manager's five sections beside the figures (or the offer to draft it).
    Raises NotFound for a year not ended, and for a year without a summary that ended before the base
    existed."""
    year = _year_or_404(year)
    summary = annual.summary_for(year)
    if summary is None:
        _owed_or_404(year)
        return render_template("filings/annual.html", year=year, summary=None, **_labels())
    form = AnnualSummaryForm(formdata=None, data=summary.sections or {})
    form.mark_shown(summary)
    return _page(summary, form=form)


@bp.route("/annual/<int:year>", methods=["POST"])
@roles_required(ac.ROLE_MANAGER)
def annual_save(year):
    """Save the sections the manager changed. One that someone else saved meanwhile is a conflict (409): the
    typed text stays in the form beside what was saved meanwhile. Raises NotFound for a year without a
    summary."""
    summary = _summary_or_404(year)
    form = AnnualSummaryForm()
    if not form.validate_on_submit():
        return _page(summary, form=form), 422
    try:
        changed = annual.save_sections(summary, form.section_values(), g.user, shown=form.shown_hashes(),
                                       expected_version=form.expected_version())
        db.session.commit()
    except annual.SummaryConflict:
        db.session.rollback()
        return _conflict(year, form)
    except StaleDataError:
        db.session.rollback()
        return _conflict(year, form)
    except annual.SummaryError as error:
        db.session.rollback()
        flash(str(error.message), "warning")
        return _page(annual.summary_for(year), form=form), 409
    flash(_("The summary has been saved.") if changed else _("Nothing was changed."), "success")
    return redirect(url_for("filings.annual_show", year=year))


def _conflict(year, form):
    """The page again, as the summary now stands: the sections the manager changed keep the typed text, with
    the saved text under each that differs; every other section shows the saved text. The form now says it
    showed the saved text, so saving again writes only what the manager changed."""
    summary = annual.summary_for(year)
    values = form.section_values()
    touched = annual.touched_sections(summary, values, form.shown_hashes())
    sections = summary.sections or {}
    for key in annual.SECTION_KEYS:
        if key not in touched:
            form[key].data = sections.get(key, "")
    form.mark_shown(summary)
    flash(_("Someone else saved this summary while you were editing it. Your text is still in the form; the "
            "saved text is shown under each section that differs. Compare them and save again."), "warning")
    saved = {key: sections.get(key, "") for key in touched
             if annual.clean_text(form[key].data) != sections.get(key, "")}
    return _page(summary, form=form, saved=saved), 409


@bp.route("/annual/<int:year>/refresh", methods=["POST"])
@roles_required(ac.ROLE_MANAGER)
def annual_refresh(year):
    """Recompute the figures from the records as they stand; the sections the manager edited are kept.
    Raises NotFound for a year without a summary."""
    summary = _summary_or_404(year)
    try:
        kept = annual.refresh_figures(summary, g.base, base_today(), g.user)
        db.session.commit()
    except annual.SummaryError as error:
        db.session.rollback()
        flash(str(error.message), "warning")
        return redirect(url_for("filings.annual_show", year=year))
    except StaleDataError:
        db.session.rollback()
        flash(_("The summary changed meanwhile; check it and refresh the figures again."), "warning")
        return redirect(url_for("filings.annual_show", year=year))
    if kept:
        flash(_("The figures have been recomputed. The sections you edited were kept as they are: %(sections)s.",
                sections=format_list([str(annual.SECTION_LABELS[key]) for key in kept],
                                     locale=str(get_locale()))), "success")
    else:
        flash(_("The figures and the drafted text have been recomputed from the records."), "success")
    return redirect(url_for("filings.annual_show", year=year))


@bp.route("/annual/<int:year>/sent", methods=["POST"])
@roles_required(ac.ROLE_MANAGER)
def annual_sent(year):
    """Record the day the summary was sent to the authority, or withdraw that mark. Raises NotFound for a
    year without a summary."""
    summary = _summary_or_404(year)
    if request.form.get("action") == "withdraw":  # (the CSRF token is checked for every POST of the app)
        sent_on = None
    else:
        form = AnnualSentForm(year=year, today=base_today())
        if not form.validate_on_submit():
            edit = AnnualSummaryForm(formdata=None, data=summary.sections or {})
            edit.mark_shown(summary)
            return _page(summary, form=edit, sent_form=form), 422
        sent_on = form.sent_on.data
    try:
        annual.mark_sent(summary, sent_on, g.user)
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        flash(_("The summary changed meanwhile; check it and record the day again."), "warning")
        return redirect(url_for("filings.annual_show", year=year))
    if sent_on is None:
        flash(_("The summary is no longer marked sent; it can be changed again."), "info")
    else:
        flash(_("Recorded: the summary was sent on %(date)s. It is kept as it was sent.",
                date=sent_on.isoformat()), "success")
    return redirect(url_for("filings.annual_show", year=year))


@bp.route("/annual/<int:year>/summary.docx")
@roles_required(*READERS)
def annual_docx(year):
    """The summary as a Word document. Raises NotFound for a year without a summary."""
    from .annual_docx import summary_docx

    summary = _summary_or_404(year)
    return send_file(BytesIO(summary_docx(summary, g.base)), mimetype=DOCX, as_attachment=True,
                     download_name=f"{g.base.slug}-{year}-annual-summary.docx")


@bp.route("/annual/<int:year>/annex.xlsx")
@roles_required(*READERS)
def annual_annex(year):
    """The summary's figures as a workbook. Raises NotFound for a year without a summary."""
    from .annual_docx import summary_annex_xlsx

    summary = _summary_or_404(year)
    return send_file(BytesIO(summary_annex_xlsx(summary)), mimetype=XLSX, as_attachment=True,
                     download_name=f"{g.base.slug}-{year}-annual-annex.xlsx")


def _labels():
    return {"section_keys": annual.SECTION_KEYS, "section_headings": annual.SECTION_HEADINGS,
            "indicator_labels": annual.INDICATOR_LABELS, "unit_label": annual.unit_label,
            "unit_labels": UNIT_LABELS, "service_function_label": lambda key: SERVICE_FUNCTIONS.get(key, key),
            "milestone_kind_label": lambda key: MILESTONE_KINDS.get(key, key), "note_label": annual.note_label,
            "today": base_today()}


def _page(summary, *, form, sent_form=None, saved=None):
    figures = summary.figures or {}
    chart = None
    if figures.get("current"):
        months = figures["current"]["monthly"]
        chart = line_chart([m["month"][5:] for m in months],
                           [float(m["revenue_wan"]) if m["reports"] else None for m in months],
                           title=_("Monthly revenue of %(year)d (万元)", year=summary.year))
    if sent_form is None:
        sent_form = AnnualSentForm(formdata=None, year=summary.year, today=base_today())
        sent_form.sent_on.data = summary.sent_on
    return render_template("filings/annual.html", year=summary.year, summary=summary, figures=figures, form=form,
                           sent_form=sent_form, saved=saved, chart=chart, **_labels())


def _annual_context(base):
    return {"annual": annual.annual_due(base, today_in(base.timezone))}


register_panel("filings/_annual_panel.html", _annual_context, (ac.ROLE_MANAGER, ac.ROLE_STAFF), order=6)

from . import annual_jobs  # noqa: E402,F401  (registers the January job)
