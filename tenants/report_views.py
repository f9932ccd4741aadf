"""Views of monthly operating data and the tenant portal, on the ``tenants`` blueprint: the portal, the month's
report form (a tenant's own, or staff on its behalf), a company's reports with their history and charts, the
base's month of filings, and the report settings."""

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import format_date, gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from operator_app.accounts import constants as ac
from operator_app.charts import line_chart
from operator_app.extensions import db
from operator_app.panels import register_panel
from operator_app.scoping import ALL_BASE_ROLES, STAFF_ROLES, roles_required
from operator_app.timeutil import today_in

from . import constants as c
from . import report_services as services
from . import reports
from .report_forms import ReportForm, ReportSettingsForm
from .rules import rules_of
from .views import EDITORS, _company_or_404, bp

REPORTERS = EDITORS + (ac.ROLE_TENANT,)
WARNING_LABELS = {
    "revenue_jump": lambda: _("Revenue changed a lot from the month before: please check it."),
    "employees_jump": lambda: _("The headcount changed a lot from the month before: please check it."),
    "tax_above_revenue": lambda: _("The tax paid is more than the revenue: please check it."),
    "revenue_without_staff": lambda: _("Revenue with no employees: please check the headcount."),
}


def _today():
    return today_in(g.base.timezone)


@bp.app_context_processor
def _report_helpers():
    return {"report_warning": lambda code: WARNING_LABELS[code]() if code in WARNING_LABELS else code,
            "report_month": reports.key, "wan": _wan, "filing_labels": c.FILING_LABELS}


def _wan(fen):
    """Fen shown as 万元 with two decimals (rounded as in government figures), "—" for none."""
    return "—" if fen is None else str(reports.wan(fen))


@bp.route("/portal")
@roles_required(ac.ROLE_TENANT)
def portal():
    """A tenant contact's home: the report to file, past reports, services, attendance, the base's rules.
    Raises NotFound when the contact is linked to no company."""
    if not g.get("tenant_company_id"):
        abort(404)
    company = _company_or_404(g.tenant_company_id)
    today = _today()
    due_month = reports.current_month_due(today)
    rules = rules_of(g.base)
    due_report = services.report_for(company, due_month)
    return render_template(
        "tenants/portal.html", company=company, today=today, due_month=due_month,
        due_report=due_report, expected=reports.expected_of(company, due_month),
        due_on=reports.due_on(due_month, rules.report_due_day),
        status=reports.filing_status(due_report, due_month, today, rules.report_due_day),
        past=list(reversed(services.history(company, 12, reports.shift(due_month, -1)))),
        reminders=services.reminders_of(company), rules=rules,
        services_url=url_for("ledger.mine") if "ledger.mine" in current_app.view_functions else None)


def _month_or_404(text):
    month_on = reports.parse_month(text)
    if month_on is None:
        abort(404)
    return month_on


@bp.route("/<int:company_id>/reports/<month>", methods=["GET", "POST"])
@roles_required(*REPORTERS)
def report_form(company_id, month):
    """File, save as draft or correct a month's report; staff file on the company's behalf (marked so).
    Raises NotFound for another company, a malformed month, or a month the company cannot report."""
    company = _company_or_404(company_id)
    month_on = _month_or_404(month)
    today = _today()
    rules = rules_of(g.base)
    report = services.report_for(company, month_on)
    form = ReportForm(optional_fields=rules.report_optional_fields, correcting=bool(report and report.is_submitted))
    problem = _month_problem(company, month_on, today)
    if request.method == "GET":
        if report is not None:
            form.fill(report)
        form.version.data = str(report.version) if report is not None else ""
    if request.method == "POST" and not problem and form.validate_on_submit():
        if form.version.data != (str(report.version) if report is not None else ""):
            return _conflict(company, month_on, form, report)
        submit = request.form.get("action") != "draft"
        if not submit or form.check_submission():
            return _save(company, month_on, form, submit, today)
    return _form_page(company, month_on, form, report, problem, rules)


def _conflict(company, month_on, form, report):
    """The report changed since this form was opened: keep what this user typed, show what is saved now."""
    form.version.data = str(report.version) if report is not None else ""
    form.correcting = bool(report and report.is_submitted)
    flash(_("This report was changed by someone else since you opened it. Your figures are still in the form; "
            "the saved ones are shown above it. Check them and save again."), "warning")
    return _form_page(company, month_on, form, report, None, rules_of(g.base), status=409)


def _month_problem(company, month_on, today):
    if not reports.is_over(month_on, today):
        return _("%(month)s is not over yet: its report can be filed from the 1st of the following month.",
                 month=reports.key(month_on))
    if not reports.may_report(company, month_on):
        return _("%(name)s was not in the base in %(month)s: there is nothing to report.", name=company.name,
                 month=reports.key(month_on))
    return None


def _form_page(company, month_on, form, report, problem, rules, status=200):
    return render_template("tenants/report_form.html", company=company, month_on=month_on, form=form,
                           report=report, problem=problem, due_on=reports.due_on(month_on, rules.report_due_day),
                           on_behalf=g.role != ac.ROLE_TENANT), status


def _save(company, month_on, form, submit, today):
    try:
        report = services.save_report(company, month_on, form.figures(), base=g.base, submit=submit,
                                      reason=form.reason.data, today=today, by=g.user,
                                      on_behalf=g.role != ac.ROLE_TENANT)
        # Read before the commit expires them: once committed, the answer needs no more database round trips.
        warnings, company_id = list(report.warnings), company.id
        db.session.commit()
    except (IntegrityError, StaleDataError, services.CorrectionNeedsReason):  # saved by someone else meanwhile
        db.session.rollback()
        return _conflict(company, month_on, form, services.report_for(company, month_on))
    if not submit:
        flash(_("The draft has been saved. It is not filed until you submit it."), "info")
    else:
        flash(_("The report on %(month)s has been filed.", month=reports.key(month_on)), "success")
        for code in warnings:
            flash(WARNING_LABELS[code](), "warning")
    if g.role == ac.ROLE_TENANT:
        return redirect(url_for("tenants.portal"))
    return redirect(url_for("tenants.company_reports", company_id=company_id))


@bp.route("/<int:company_id>/reports")
@roles_required(*ALL_BASE_ROLES)
def company_reports(company_id):
    """A company's monthly figures over a year with charts, and every revision of each report. Raises NotFound."""
    company = _company_or_404(company_id)
    until = reports.current_month_due(_today())
    history = services.history(company, 12, until)
    months = [reports.shift(until, -n) for n in range(11, -1, -1)]
    by_month = {report.month_on: report for report in history if report.is_submitted}
    labels = [format_date(month, "MMM") for month in months]

    def series(name, scale=1):
        return [getattr(by_month[m], name) / scale if m in by_month and getattr(by_month[m], name) is not None
                else None for m in months]

    charts = [_chart(labels, series("revenue_fen", 1_000_000), _("Revenue (万元)")),
              _chart(labels, series("tax_fen", 1_000_000), _("Tax paid (万元)"), "#198754"),
              _chart(labels, series("employees"), _("Employees"), "#6f42c1")]
    return render_template("tenants/company_reports.html", company=company, history=list(reversed(history)),
                           charts=charts, due_month=until, staff=g.role in STAFF_ROLES,
                           editable=g.role in REPORTERS)


def _chart(labels, values, title, colour="#0d6efd"):
    """(title, SVG) of a twelve-month line."""
    return title, line_chart(labels, values, title=title, colour=colour)


@bp.route("/reports")
@roles_required(*STAFF_ROLES)
def reports_month():
    """The month's filings: who filed, who is late, who has only a draft; totals and the base's trend."""
    month_on = reports.parse_month(request.args.get("month")) or reports.current_month_due(_today())
    return _month_page(month_on)


def _month_page(month_on, settings_form=None):
    today = _today()
    months = [reports.shift(month_on, -n) for n in range(11, -1, -1)]
    totals = services.month_totals(months)
    # A month not every company has filed would read as a fall: it is left out of the trend, not drawn low.
    complete = {m: totals[m] for m in months if totals[m].complete}
    labels = [format_date(month, "MMM") for month in months]
    charts = [_chart(labels, [complete[m].revenue_fen / 1_000_000 if m in complete else None for m in months],
                     _("Revenue of all companies (万元)")),
              _chart(labels, [complete[m].tax_fen / 1_000_000 if m in complete else None for m in months],
                     _("Tax paid by all companies (万元)"), "#198754"),
              _chart(labels, [complete[m].employees if m in complete else None for m in months],
                     _("Employees of all companies"), "#6f42c1")]
    rules = rules_of(g.base)
    if settings_form is None and g.role == ac.ROLE_MANAGER:
        settings_form = ReportSettingsForm(formdata=None, obj=rules)
    return render_template(
        "tenants/reports_month.html", month_on=month_on, filings=services.month_filings(g.base, month_on, today),
        totals=totals[month_on], incomplete=[reports.key(m) for m in months if m not in complete
                                             and totals[m].expected],
        charts=charts, due_on=reports.due_on(month_on, rules.report_due_day),
        previous=reports.key(reports.shift(month_on, -1)), following=reports.key(reports.shift(month_on, 1)),
        settings_form=settings_form, editable=g.role in EDITORS)


@bp.route("/reports/settings", methods=["POST"])
@roles_required(ac.ROLE_MANAGER)
def report_settings():
    """The due day, the optional figures and the plausibility factor; a refused entry is shown with what was
    typed. Raises Forbidden for non-managers."""
    form = ReportSettingsForm()
    if not form.validate_on_submit():
        return _month_page(reports.current_month_due(_today()), settings_form=form)
    services.save_settings(g.base, {name: form[name].data for name in services.SETTINGS_FIELDS}, by=g.user)
    db.session.commit()
    flash(_("The report settings have been saved."), "success")
    return redirect(url_for("tenants.reports_month"))


def _banner_context(base):
    """For a tenant contact: the month still to file, shown on every page from the 1st until it is filed."""
    company_id = g.get("tenant_company_id")
    if not company_id:
        return {"month_on": None}
    from .models import TenantCompany

    company = db.session.get(TenantCompany, company_id)
    today = today_in(base.timezone)
    month_on = services.unfiled_month(company, today) if company is not None and company.deleted_at is None \
        else None
    due = reports.due_on(month_on, rules_of(base).report_due_day) if month_on else None
    return {"month_on": month_on, "due_on": due, "late": bool(due and today > due), "company": company}


def _missing_context(base):
    today = today_in(base.timezone)
    month_on = reports.current_month_due(today)
    filings = services.month_filings(base, month_on, today)
    return {"month_on": month_on, "open": [f for f in filings if f.status not in (c.FILING_FILED,
                                                                                  c.FILING_LATE_FILED)],
            "count": len(filings)}


register_panel("tenants/_report_banner.html", _banner_context, (ac.ROLE_TENANT,), place="banner")
register_panel("tenants/_reports_panel.html", _missing_context, STAFF_ROLES, order=25)
