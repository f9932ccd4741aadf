"""Views of the ``ledger`` blueprint (the service ledger, its team and agencies, the tenant's services and
feedback) and of ``ledger_public`` (the QR sign-in of an activity)."""
from io import BytesIO

import segno
from flask import abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from wtforms.fields.choices import SelectChoice

from operator_app.accounts import constants as ac
from operator_app.accounts import services as account_services
from operator_app.db import get_or_404
from operator_app.extensions import db
from operator_app.forms import filter_args
from operator_app.scoping import STAFF_ROLES, base_blueprint, public_base_blueprint, roles_required
from operator_app.storage import StoredFile, UploadError, send_stored
from operator_app.timeutil import from_local, to_local, today_in, utcnow
from tenants.models import TenantCompany

from . import constants as c
from . import listing, services
from .forms import (ActivityFilesForm, ActivityForm, AgencyForm, FeedbackForm, LedgerFilterForm, PersonForm,
                    RequestForm, RequestStatusForm, SignInForm, TenantRequestForm, VisitForm)
from .models import Activity, ActivityFile, PartnerAgency, ServicePerson, ServiceRequest, Visit

bp = base_blueprint("ledger", __name__, "/ledger")
public = public_base_blueprint("ledger_public", __name__, "/ledger")

EDITORS = (ac.ROLE_MANAGER, ac.ROLE_STAFF)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_PAGE = 100_000


@bp.app_context_processor
def _ledger_helpers():
    """The ledger's vocabulary and per-entry figures for its templates and panels."""
    def archive(activity):
        return services.archive_state(activity, today_in(g.base.timezone), g.base.timezone)

    return {"ledger_c": c, "ledger_participation": services.participation, "ledger_archive": archive}


def _now():
    return utcnow()


def _local(moment):
    """A stored timestamp as the base's naive wall-clock time, as the forms show and read it."""
    return to_local(moment, g.base.timezone).replace(tzinfo=None) if moment is not None else None


def _local_now():
    return _local(_now()).replace(second=0, microsecond=0)


def _today():
    return today_in(g.base.timezone)


def _people_choices(form_field, blank=True, current=None):
    people = [person for person in services.team() if person.is_active or person.id == current]
    form_field.choices = [SelectChoice("", _("— none —") if blank else _("— choose —"))] + [
        SelectChoice(person.id, person.name + (f"（{person.position}）" if person.position else ""))
        for person in people]


def _agency_choices(form_field, current=None):
    agencies = [agency for agency in services.agencies() if agency.is_active or agency.id == current]
    form_field.choices = [SelectChoice("", _("— none —"))] + [SelectChoice(agency.id, agency.name)
                                                             for agency in agencies]


def _company_choices(form_field, current=None):
    companies = services.served_companies()
    if current is not None and all(company.id != current for company in companies):
        companies.append(db.session.get(TenantCompany, current))
    form_field.choices = [SelectChoice("", _("— choose —"))] + [SelectChoice(company.id, company.name)
                                                               for company in companies]


def _entry_or_404(model, entry_id, edit=False):
    entry = get_or_404(model, entry_id)
    if edit and not entry.editable_by(g.user, g.role):
        abort(403)
    return entry


# --- The ledger ---------------------------------------------------------------------------------------------

def _filter_form(team=None):
    form = LedgerFilterForm(request.args, meta={"csrf": False})
    form.company.choices = [SelectChoice("", _("All companies"))] + [
        SelectChoice(company.id, company.name) for company in services.companies_in_files()]
    people = services.team() if team is None else team
    form.person.choices = [SelectChoice("", _("Everyone"))] + [SelectChoice(person.id, person.name)
                                                               for person in people]
    return form


@bp.route("/")
@roles_required(*STAFF_ROLES)
def index():
    """The service ledger: every request, visit and activity, filtered, newest first."""
    team = services.team()
    form = _filter_form(team)
    filters = listing.Filters.from_form(form)
    page = min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)
    entries = listing.ledger_page(filters, page)
    return render_template("ledger/index.html", form=form, entries=entries, today=_today(),
                           counts=services.team_counts(_today(), team),
                           args=filter_args(form, request.args))


@bp.route("/export.xlsx")
@roles_required(*STAFF_ROLES)
def export():
    """The ledger with the same filters as xlsx: one row per entry, files as links into the app."""
    from .exports import ledger_xlsx

    filters = listing.Filters.from_form(_filter_form())
    data = ledger_xlsx(g.base, listing.ledger_entries(filters), _today())
    return send_file(BytesIO(data), mimetype=XLSX, as_attachment=True,
                     download_name=f"{g.base.slug}-service-ledger-{_today().isoformat()}.xlsx")


@bp.route("/satisfaction")
@roles_required(*STAFF_ROLES)
def satisfaction():
    """Companies' ratings by service category and by partner agency."""
    categories, agencies = services.satisfaction()
    return render_template("ledger/satisfaction.html", categories=categories, agencies=agencies)


# --- Team and agencies --------------------------------------------------------------------------------------

def _person_form(**kwargs):
    """The team member form; the login is one of the base's own team accounts."""
    form = PersonForm(**kwargs)
    form.user_id.choices = [SelectChoice("", _("— none —"))] + [
        SelectChoice(membership.user_id, f"{membership.user.name}（{membership.user.email}）")
        for membership in account_services.base_members(g.base, roles=STAFF_ROLES)]
    return form


@bp.route("/team", methods=["GET", "POST"])
@roles_required(*STAFF_ROLES)
def team():
    """The service team against the policy minimums; managers and staff add people."""
    form = _person_form() if g.role in EDITORS else None
    if form is not None and form.validate_on_submit():
        person = services.add_person(form.values(), by=g.user)
        db.session.commit()
        flash(_("%(name)s has joined the service team.", name=person.name), "success")
        return redirect(url_for("ledger.team"))
    return render_template("ledger/team.html", people=services.team(), agencies=services.agencies(), form=form,
                           counts=services.team_counts(_today()), today=_today())


@bp.route("/team/<int:member_id>", methods=["GET", "POST"])
@roles_required(*EDITORS)
def person_edit(member_id):
    """Correct a team member's details, or record that they left. Raises NotFound."""
    person = get_or_404(ServicePerson, member_id)
    form = _person_form(obj=person)
    if form.validate_on_submit():
        services.update_person(person, form.values(), by=g.user)
        db.session.commit()
        flash(_("The team member has been saved."), "success")
        return redirect(url_for("ledger.team"))
    return render_template("ledger/person.html", form=form, person=person)


@bp.route("/agencies/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def agency_create():
    """Record a partner agency and its agreement."""
    form = AgencyForm()
    if form.validate_on_submit():
        try:
            agency = services.add_agency(form.values(), upload=request.files.get("agreement"), by=g.user)
            db.session.commit()
        except UploadError as error:
            db.session.rollback()
            form.agreement.errors.append(error.message)
        else:
            flash(_("%(name)s has been added to the partner agencies.", name=agency.name), "success")
            return redirect(url_for("ledger.team", _anchor="agencies"))
    return render_template("ledger/agency.html", form=form, agency=None)


@bp.route("/agencies/<int:agency_id>", methods=["GET", "POST"])
@roles_required(*EDITORS)
def agency_edit(agency_id):
    """Correct an agency, renew its agreement, or record that the base stopped working with it. Raises NotFound."""
    agency = get_or_404(PartnerAgency, agency_id)
    form = AgencyForm(obj=agency)
    if form.validate_on_submit():
        try:
            services.update_agency(agency, form.values(), upload=request.files.get("agreement"), by=g.user)
            db.session.commit()
        except UploadError as error:
            db.session.rollback()
            form.agreement.errors.append(error.message)
        else:
            flash(_("The partner agency has been saved."), "success")
            return redirect(url_for("ledger.team", _anchor="agencies"))
    return render_template("ledger/agency.html", form=form, agency=agency)


@bp.route("/agencies/<int:agency_id>/agreement")
@roles_required(*STAFF_ROLES)
def agency_agreement(agency_id):
    """The agency's agreement file. Raises NotFound."""
    agency = get_or_404(PartnerAgency, agency_id)
    if agency.agreement_file_id is None:
        abort(404)
    return send_stored(get_or_404(StoredFile, agency.agreement_file_id))


# --- Service requests ---------------------------------------------------------------------------------------

def _request_form(entry=None, **kwargs):
    form = RequestForm(now=_local_now(), **kwargs)
    _company_choices(form.company_id, entry.company_id if entry else None)
    _people_choices(form.handler_id, current=entry.handler_id if entry else None)
    return form


def _request_values(form):
    return form.values() | {"received_at": from_local(form.received_at.data, g.base.timezone)}


@bp.route("/requests/new", methods=["GET", "POST"])
@roles_required(*STAFF_ROLES)
def request_create():
    """Log a request a company made by phone, in person, online or during a visit."""
    form = _request_form(company_id=request.args.get("company", type=int))
    if request.method == "GET":
        form.received_at.data = _local_now()
    if form.validate_on_submit():
        entry = services.create_request(_request_values(form), base=g.base, by=g.user)
        db.session.commit()
        flash(_("The request has been logged."), "success")
        return redirect(url_for("ledger.request_detail", request_id=entry.id))
    return render_template("ledger/request_form.html", form=form, entry=None)


@bp.route("/requests/<int:request_id>")
@roles_required(*STAFF_ROLES)
def request_detail(request_id):
    """A request, its handling and the company's feedback. Raises NotFound."""
    entry = _entry_or_404(ServiceRequest, request_id)
    status_form = None
    if entry.editable_by(g.user, g.role):
        status_form = _status_form(entry, formdata=None, status=entry.status, resolution=entry.resolution)
    return _request_page(entry, status_form)


def _status_form(entry, **kwargs):
    return RequestStatusForm(now=_local_now(), received=_local(entry.received_at), **kwargs)


def _request_page(entry, status_form):
    feedback = services.feedback_of(entry.company).get((c.KIND_REQUEST, entry.id))
    return render_template("ledger/request.html", entry=entry, status_form=status_form, feedback=feedback,
                           editable=entry.editable_by(g.user, g.role))


@bp.route("/requests/<int:request_id>/edit", methods=["GET", "POST"])
@roles_required(*STAFF_ROLES)
def request_edit(request_id):
    """Correct a logged request (audited). Raises NotFound, or Forbidden for a mentor's colleague's entry."""
    entry = _entry_or_404(ServiceRequest, request_id, edit=True)
    form = _request_form(entry, obj=entry, answered=_local(entry.responded_at))
    if request.method == "GET":
        form.received_at.data = _local(entry.received_at)
    if form.validate_on_submit():
        services.update_request(entry, _request_values(form), base=g.base, by=g.user)
        db.session.commit()
        flash(_("The request has been saved."), "success")
        return redirect(url_for("ledger.request_detail", request_id=entry.id))
    return render_template("ledger/request_form.html", form=form, entry=entry)


@bp.route("/requests/<int:request_id>/status", methods=["POST"])
@roles_required(*STAFF_ROLES)
def request_status(request_id):
    """Move the request along (received → being handled → resolved or closed). Raises NotFound or Forbidden."""
    entry = _entry_or_404(ServiceRequest, request_id, edit=True)
    form = _status_form(entry)
    if not form.validate_on_submit():
        return _request_page(entry, form), 200
    services.set_request_status(entry, form.status.data, (form.resolution.data or "").strip(), now=_now(),
                                responded_at=from_local(form.responded_at.data, g.base.timezone), by=g.user)
    db.session.commit()
    flash(_("The request is now: %(status)s.", status=entry.status_label), "success")
    return redirect(url_for("ledger.request_detail", request_id=entry.id))


# --- Visits -------------------------------------------------------------------------------------------------

def _visit_form(entry=None, **kwargs):
    form = VisitForm(now=_today(), **kwargs)
    _company_choices(form.company_id, entry.company_id if entry else None)
    _people_choices(form.staff_id, current=entry.staff_id if entry else None)
    _agency_choices(form.agency_id, current=entry.agency_id if entry else None)
    return form


@bp.route("/visits/new", methods=["GET", "POST"])
@roles_required(*STAFF_ROLES)
def visit_create():
    """Record a visit to a company by base staff or a partner agency."""
    form = _visit_form(company_id=request.args.get("company", type=int))
    if request.method == "GET":
        form.occurred_on.data = _today()
    if form.validate_on_submit():
        entry = services.create_visit(form.values(), by=g.user)
        db.session.commit()
        flash(_("The visit has been recorded."), "success")
        return redirect(url_for("ledger.visit_detail", visit_id=entry.id))
    return render_template("ledger/visit_form.html", form=form, entry=None)


@bp.route("/visits/<int:visit_id>")
@roles_required(*STAFF_ROLES)
def visit_detail(visit_id):
    """A visit and the company's feedback on it. Raises NotFound."""
    entry = _entry_or_404(Visit, visit_id)
    feedback = services.feedback_of(entry.company).get((c.KIND_VISIT, entry.id))
    return render_template("ledger/visit.html", entry=entry, feedback=feedback,
                           editable=entry.editable_by(g.user, g.role))


@bp.route("/visits/<int:visit_id>/edit", methods=["GET", "POST"])
@roles_required(*STAFF_ROLES)
def visit_edit(visit_id):
    """Correct a recorded visit (audited). Raises NotFound or Forbidden."""
    entry = _entry_or_404(Visit, visit_id, edit=True)
    form = _visit_form(entry, obj=entry)
    if form.validate_on_submit():
        services.update_visit(entry, form.values(), by=g.user)
        db.session.commit()
        flash(_("The visit has been saved."), "success")
        return redirect(url_for("ledger.visit_detail", visit_id=entry.id))
    return render_template("ledger/visit_form.html", form=form, entry=entry)


# --- Activities ---------------------------------------------------------------------------------------------

def _activity_form(entry=None, **kwargs):
    form = ActivityForm(**kwargs)
    _people_choices(form.organiser_id, blank=False, current=entry.organiser_id if entry else None)
    _agency_choices(form.agency_id, current=entry.agency_id if entry else None)
    return form


def _activity_values(form):
    return form.values() | {"starts_at": from_local(form.starts_at.data, g.base.timezone),
                            "ends_at": from_local(form.ends_at.data, g.base.timezone)}


@bp.route("/activities/new", methods=["GET", "POST"])
@roles_required(*STAFF_ROLES)
def activity_create():
    """Plan or record an activity; its page then collects the notice, photos and sign-ins."""
    form = _activity_form()
    if form.validate_on_submit():
        entry = services.create_activity(_activity_values(form), base=g.base, by=g.user)
        db.session.commit()
        flash(_("The activity has been created. Add its notice, photos and sign-ins here."), "success")
        return redirect(url_for("ledger.activity_detail", activity_id=entry.id))
    return render_template("ledger/activity_form.html", form=form, entry=None)


def _activity_page(entry, files_form=None):
    today = _today()
    editable = entry.editable_by(g.user, g.role)
    if files_form is None and editable:
        files_form = ActivityFilesForm(formdata=None)
    companies, people = services.participation(entry)
    return render_template(
        "ledger/activity.html", entry=entry, files_form=files_form, editable=editable,
        archive=services.archive_state(entry, today, g.base.timezone), companies=companies, people=people,
        starts=to_local(entry.starts_at, g.base.timezone), ends=to_local(entry.ends_at, g.base.timezone),
        closes=to_local(entry.signin_closes_at, g.base.timezone), tz=g.base.timezone)


@bp.route("/activities/<int:activity_id>")
@roles_required(*STAFF_ROLES)
def activity_detail(activity_id):
    """An activity: its archive status, files, sign-ins and QR link. Raises NotFound."""
    return _activity_page(_entry_or_404(Activity, activity_id))


@bp.route("/activities/<int:activity_id>/edit", methods=["GET", "POST"])
@roles_required(*STAFF_ROLES)
def activity_edit(activity_id):
    """Correct the activity or add its publicity and results (audited). Raises NotFound or Forbidden."""
    entry = _entry_or_404(Activity, activity_id, edit=True)
    form = _activity_form(entry, obj=entry)
    if request.method == "GET":
        form.starts_at.data, form.ends_at.data = _local(entry.starts_at), _local(entry.ends_at)
    if form.validate_on_submit():
        services.update_activity(entry, _activity_values(form), base=g.base, now=_now(), by=g.user)
        db.session.commit()
        flash(_("The activity has been saved."), "success")
        return redirect(url_for("ledger.activity_detail", activity_id=entry.id))
    return render_template("ledger/activity_form.html", form=form, entry=entry)


@bp.route("/activities/<int:activity_id>/files", methods=["POST"])
@roles_required(*STAFF_ROLES)
def activity_files(activity_id):
    """Add the notice, photos (several at once) or sheet scans: all the files or none. Raises NotFound."""
    entry = _entry_or_404(Activity, activity_id, edit=True)
    form = ActivityFilesForm()
    if form.validate_on_submit():
        try:
            added = services.add_activity_files(entry, form.kind.data, request.files.getlist("files"), now=_now(),
                                                by=g.user)
            db.session.commit()
        except UploadError as error:
            db.session.rollback()
            form.files.errors.append(error.message)
        else:
            flash(_("%(n)d files have been added.", n=len(added)), "success")
            return redirect(url_for("ledger.activity_detail", activity_id=entry.id, _anchor="files"))
    return _activity_page(db.session.get(Activity, entry.id), form)


def _activity_file(entry, file_id):
    file = get_or_404(ActivityFile, file_id, activity_id=entry.id)
    return file


@bp.route("/activities/<int:activity_id>/files/<int:file_id>")
@roles_required(*STAFF_ROLES)
def activity_file(activity_id, file_id):
    """A file of the activity (``?thumb=1``: a photo's thumbnail), shown in the browser. Raises NotFound."""
    entry = _entry_or_404(Activity, activity_id)
    file = _activity_file(entry, file_id)
    stored_id = file.thumbnail_id if request.args.get("thumb") and file.thumbnail_id else file.file_id
    return send_stored(get_or_404(StoredFile, stored_id), as_attachment=file.kind != c.FILE_PHOTO)


@bp.route("/activities/<int:activity_id>/files/<int:file_id>/delete", methods=["POST"])
@roles_required(*STAFF_ROLES)
def activity_file_delete(activity_id, file_id):
    """Withdraw a file added by mistake (kept in storage and the audit log). Raises NotFound or Forbidden."""
    entry = _entry_or_404(Activity, activity_id, edit=True)
    file = _activity_file(entry, file_id)
    services.remove_activity_file(entry, file, now=_now(), by=g.user)
    db.session.commit()
    flash(_("The file has been withdrawn."), "success")
    return redirect(url_for("ledger.activity_detail", activity_id=entry.id, _anchor="files"))


@bp.route("/activities/<int:activity_id>/qr")
@roles_required(*STAFF_ROLES)
def activity_qr(activity_id):
    """The activity's sign-in QR code, to show on a screen or print at the door. Raises NotFound."""
    entry = _entry_or_404(Activity, activity_id)
    link = url_for("ledger_public.signin", activity_id=entry.id, code=entry.signin_code, _external=True)
    svg = BytesIO()
    segno.make(link, error="m").save(svg, kind="svg", scale=8, xmldecl=False, svgns=True)
    return render_template("ledger/qr.html", entry=entry, link=link, svg=svg.getvalue().decode(),
                           starts=to_local(entry.starts_at, g.base.timezone))


@bp.route("/<kind>/<int:entry_id>/delete", methods=["POST"])
@roles_required(*STAFF_ROLES)
def entry_delete(kind, entry_id):
    """Withdraw an entry made by mistake (kept in the database and the audit log). Raises NotFound or Forbidden."""
    model = services.ENTRY_MODELS.get(kind)
    if model is None:
        abort(404)
    entry = _entry_or_404(model, entry_id, edit=True)
    services.delete_entry(entry, by=g.user)
    db.session.commit()
    flash(_("The entry has been withdrawn from the ledger."), "success")
    return redirect(url_for("ledger.index"))


# --- The tenant's side: its services, its requests, its ratings ---------------------------------------------

def _tenant_company():
    if not g.get("tenant_company_id"):
        abort(404)
    return get_or_404(TenantCompany, g.tenant_company_id)


def _services_page(company, request_form=None, feedback_form=None, feedback_for=None):
    requests_, visits, activities = services.services_of(company)
    return render_template("ledger/mine.html", company=company, requests=requests_, visits=visits,
                           activities=activities, feedback=services.feedback_of(company),
                           request_form=request_form or TenantRequestForm(formdata=None),
                           feedback_form=feedback_form, feedback_for=feedback_for,
                           tz=g.base.timezone)


@bp.route("/mine", methods=["GET", "POST"])
@roles_required(ac.ROLE_TENANT)
def mine():
    """A tenant contact's services: file a request, follow it, rate what the base did. Raises NotFound when the
    contact is linked to no company."""
    company = _tenant_company()
    form = TenantRequestForm()
    if form.validate_on_submit():
        services.create_request({"company_id": company.id, "channel": c.CHANNEL_PORTAL,
                                 "category": form.category.data, "received_at": _now(),
                                 "content": form.content.data.strip(), "handler_id": None},
                                base=g.base, by=g.user, filed_by_tenant=True)
        db.session.commit()
        flash(_("Your request has been sent to the base. You can follow it here."), "success")
        return redirect(url_for("ledger.mine"))
    return _services_page(company, request_form=form)


@bp.route("/mine/feedback", methods=["POST"])
@roles_required(ac.ROLE_TENANT)
def feedback():
    """Rate a service the company received, 1 to 5 with a comment, once. Raises NotFound for an entry the
    company did not receive."""
    company = _tenant_company()
    form = FeedbackForm()
    if not form.validate_on_submit():
        return _services_page(company, feedback_form=form, feedback_for=(form.kind.data, form.entry_id.data))
    entry = get_or_404(services.ENTRY_MODELS[form.kind.data], form.entry_id.data)
    if not services.rateable(company, form.kind.data, entry):
        abort(404)
    try:
        services.give_feedback(company, form.kind.data, entry, rating=form.rating.data,
                               comment=(form.comment.data or "").strip(), user=g.user)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        flash(_("Your company has already rated this service."), "warning")
    else:
        flash(_("Thank you: your rating has been recorded."), "success")
    return redirect(url_for("ledger.mine"))


# --- The public QR sign-in ----------------------------------------------------------------------------------

@public.route("/signin/<int:activity_id>/<code>", methods=["GET", "POST"])
def signin(activity_id, code):
    """Sign in to an activity by scanning its code: name, company and phone, once per phone. A logged-in tenant
    contact of the base is recognised and signs in for its company."""
    import hmac

    from flask_login import current_user

    entry = db.session.get(Activity, activity_id) if 0 < activity_id < 2**31 else None
    if entry is None or entry.base_id != g.base.id or entry.deleted_at is not None or not hmac.compare_digest(
            entry.signin_code.encode(), code.encode("utf-8", "replace")):
        return render_template("ledger/signin_invalid.html"), 404
    user, company = _recognised_tenant(current_user)
    form = SignInForm()
    if request.method == "GET" and user is not None:
        form.name.data, form.company_name.data = user.name, company.name
    problem = services.signin_problem(entry, _now())
    if problem or not form.validate_on_submit():
        return render_template("ledger/signin.html", entry=entry, form=form, problem=problem, company=company,
                               starts=to_local(entry.starts_at, g.base.timezone)), (403 if problem and
                                                                                    request.method == "POST" else 200)
    try:
        record, already = services.sign_in(entry, name=form.name.data.strip(), phone=form.phone.data,
                                           company_name=form.company_name.data.strip(), now=_now(), user=user,
                                           company=company)
        db.session.commit()
    except IntegrityError:  # the same phone signed in at the same moment on another device
        db.session.rollback()
        record, already = services.find_signin(db.session.get(Activity, activity_id), form.phone.data), True
    return render_template("ledger/signin_done.html", entry=entry, record=record, already=already,
                           signed=to_local(record.signed_at, g.base.timezone))


def _recognised_tenant(current_user):
    """(user, company) when the visitor is logged in as a tenant contact of this base linked to a company."""
    if not current_user.is_authenticated:
        return None, None
    membership = current_user.membership_in(g.base)
    if membership is None or membership.role != ac.ROLE_TENANT or not membership.tenant_company_id:
        return None, None
    company = db.session.get(TenantCompany, membership.tenant_company_id)
    return (current_user._get_current_object(), company) if company is not None else (None, None)


from . import jobs, panels  # noqa: E402,F401  (the daily job; dashboard, company file and profile sections)
