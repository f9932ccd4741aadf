"""Views of the graduate follow-ups, on the ``tenants`` blueprint: the graduates page, the overdue list, a
company's follow-ups with the staff's phone answers and corrections, the graduate's own answering page, and
their panels on the dashboard and the company file."""
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError

from operator_app import audit
from operator_app.accounts import constants as ac
from operator_app.db import get_or_404
from operator_app.memo import once
from operator_app.extensions import db
from operator_app.panels import register_panel
from operator_app.scoping import STAFF_ROLES, roles_required
from operator_app.timeutil import today_in

from . import constants as c
from . import followup_jobs  # noqa: F401  (registers the daily job)
from . import followup_services as services
from .followup_forms import FollowUpForm, FollowUpSettingsForm
from .followups import ANSWER_EARLY_DAYS, GraduateFollowUp
from .rules import rules_of
from .views import EDITORS, _company_or_404, bp


def _today():
    return today_in(g.base.timezone)


def _figures():
    """What every follow-up template uses."""
    return {"early_days": ANSWER_EARLY_DAYS}


@bp.route("/graduates")
@roles_required(*STAFF_ROLES)
def graduate_list(settings_form=None):
    """The graduates by year of graduation: latest figures, milestones, next follow-up, tracking ended or not;
    the manager sets how often and how long graduates are followed."""
    today = _today()
    rules = rules_of(g.base)
    cohorts = services.graduates(today, rules)
    rows = [row for cohort in cohorts for row in cohort.rows]
    if settings_form is None and g.role == ac.ROLE_MANAGER:
        settings_form = FollowUpSettingsForm(formdata=None, obj=rules)
    return render_template("tenants/graduates.html", cohorts=cohorts, today=today, rules=rules,
                           settings_form=settings_form,
                           followed=sum(1 for row in rows if not row.tracking_ended),
                           ended=sum(1 for row in rows if row.tracking_ended),
                           overdue=sum(row.overdue for row in rows), **_figures())


@bp.route("/graduates/settings", methods=["POST"])
@roles_required(ac.ROLE_MANAGER)
def followup_settings():
    """How often and how long graduates are followed; every graduate's schedule is extended or trimmed at once
    (answers kept). Raises Forbidden for non-managers."""
    form = FollowUpSettingsForm()
    if not form.validate_on_submit():
        return graduate_list(settings_form=form)
    audit.update(rules_of(g.base), {name: form[name].data for name in ("followup_interval_months", "followup_years")},
                 ("followup_interval_months", "followup_years"), action="followup.settings", user=g.user)
    for company in services.graduate_companies():
        services.schedule_followups(company, rules_of(g.base), today=_today())
    db.session.commit()
    flash(_("The follow-up settings have been saved."), "success")
    return redirect(url_for("tenants.graduate_list"))


@bp.route("/followups/overdue")
@roles_required(*STAFF_ROLES)
def followup_overdue():
    """Every unanswered follow-up of the base past its due date, oldest first."""
    today = _today()
    return render_template("tenants/followups_overdue.html", overdue=services.overdue_followups(today),
                           due_soon=services.due_soon(today), today=today, editable=g.role in EDITORS,
                           **_figures())


@bp.route("/<int:company_id>/followups")
@roles_required(*STAFF_ROLES)
def followup_company(company_id):
    """A company's follow-ups; managers and staff record a phone answer for the open one. Raises NotFound."""
    company = _company_or_404(company_id)
    return _company_page(company)


def _company_page(company, form=None, current=None, problem=None, status=200):
    today = _today()
    rules = rules_of(g.base)
    followups = services.followups_of(company)
    if current is None and g.role in EDITORS:
        current = next((followup for followup in followups if followup.is_open(today)), None)
    if current is not None and form is None:
        form = FollowUpForm(formdata=None, mode="record", version=str(current.version))
    return render_template("tenants/followups_company.html", company=company, followups=followups,
                           current=current, form=form, problem=problem, today=today,
                           until=services.tracking_until(company, rules), editable=g.role in EDITORS,
                           **_figures()), status


@bp.route("/followups/<int:followup_id>/record", methods=["GET", "POST"])
@roles_required(*EDITORS)
def followup_record(followup_id):
    """Record a graduate's answer given on the phone, or correct an answer (audited). Raises NotFound."""
    followup = get_or_404(GraduateFollowUp, followup_id)
    company = _company_or_404(followup.company_id)
    today = _today()
    correcting = followup.is_answered
    form = FollowUpForm() if request.method == "POST" or not correcting else FollowUpForm.of(followup)
    problem = None if correcting else services.answer_problem(followup, today, late=True)
    shown = ("correct" if correcting else "record", str(followup.version))
    if request.method == "GET":
        form.mode.data, form.version.data = shown
    elif (form.mode.data, form.version.data) != shown:  # answered or corrected by someone since the page loaded
        form.mode.data, form.version.data = shown
        problem = _("Someone else saved this follow-up meanwhile. Reload the page to see the answer.")
    if request.method == "POST" and problem is None and form.validate():
        try:
            if correcting:
                changed = services.correct(followup, form.values(), by=g.user)
            else:
                services.answer(followup, form.values(), today=today, by=g.user, by_phone=True)
            db.session.commit()
        except services.FollowUpError as error:
            db.session.rollback()
            problem = error.message
        except StaleDataError:
            db.session.rollback()
            problem = _("Someone else saved this follow-up meanwhile. Reload the page to see the answer.")
        else:
            if correcting:
                flash(_("The follow-up has been corrected.") if changed else _("Nothing was changed."), "success")
            else:
                flash(_("The answer given on the phone has been recorded."), "success")
            return redirect(url_for("tenants.followup_company", company_id=company.id))
    return render_template("tenants/followup_record.html", company=company, followup=followup, form=form,
                           correcting=correcting, problem=problem, today=today, **_figures())


@bp.route("/followups/mine", methods=["GET", "POST"])
@roles_required(ac.ROLE_TENANT)
def followup_mine():
    """A graduate's contact answers its due follow-ups (from a phone). Raises NotFound for a contact linked to no
    company, and for a follow-up that is not its company's."""
    if not g.get("tenant_company_id"):
        abort(404)
    company = _company_or_404(g.tenant_company_id)
    today = _today()
    submitted, form, problem = None, None, None
    if request.method == "POST":
        chosen = request.form.get("followup", "")
        if not chosen:
            problem = _("Choose the follow-up you answer.")
        else:
            submitted = get_or_404(GraduateFollowUp, chosen, company_id=company.id)
            form = FollowUpForm()
            if form.validate():
                try:
                    services.answer(submitted, form.values(), today=today, by=g.user, by_phone=False)
                    db.session.commit()
                except services.FollowUpError as error:
                    db.session.rollback()
                    problem = error.message
                except StaleDataError:
                    db.session.rollback()
                    problem = _("This follow-up has been answered already. To change the answer, ask the base's "
                                "staff.")
                else:
                    flash(_("Thank you. Your answer has been sent to the base."), "success")
                    return redirect(url_for("tenants.followup_mine"))
    followups = services.followups_of(company)
    # One form at a time, for the oldest open follow-up (or the one just submitted with its problems).
    current = submitted or next((followup for followup in followups if followup.is_open(today)), None)
    if current is not None and form is None:
        form = FollowUpForm(formdata=None)
    return render_template("tenants/followups_mine.html", company=company, followups=followups, current=current,
                           form=form, problem=problem, today=today,
                           until=services.tracking_until(company, rules_of(g.base)), **_figures())


# --- Panels ----------------------------------------------------------------------------------------------------

def _dashboard_context(base):
    today = today_in(base.timezone)
    return {"overdue": once(services.overdue_followups, today), "due_soon": services.due_soon(today), "today": today}


def _tenant_banner_context(base):
    """A graduate's contact sees on every page that a follow-up waits for its answer (not on the answer page)."""
    company_id = g.get("tenant_company_id")
    if not company_id or request.endpoint == "tenants.followup_mine":
        return {"open": []}
    return {"open": services.open_followups(company_id, today_in(base.timezone))}


def _company_context(base, company):
    today = today_in(base.timezone)
    followups = services.followups_of(company) if company.status == c.STATUS_GRADUATED else []
    return {"company": company, "followups": followups, "today": today,
            "until": company.graduate_tracking_until, "staff": g.role in STAFF_ROLES}


register_panel("tenants/_followups_panel.html", _dashboard_context, STAFF_ROLES, order=35)
register_panel("tenants/_followups_banner.html", _tenant_banner_context, (ac.ROLE_TENANT,), place="banner")
register_panel("tenants/_company_followups.html", _company_context, STAFF_ROLES + (ac.ROLE_TENANT,),
               place="company")
