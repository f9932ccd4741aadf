"""Views of the ``tenants`` blueprint: the company files, their workflow, the base's rules, import and export,
and the public pages (published rules, application link) of ``tenants_public``."""
from flask import abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from io import BytesIO

from operator_app.accounts import constants as ac
from operator_app.accounts import services as account_services
from operator_app.db import get_or_404
from operator_app.extensions import db
from operator_app.memo import once
from operator_app.forms import filter_args
from operator_app.panels import panels_for, register_panel
from operator_app.scoping import ALL_BASE_ROLES, STAFF_ROLES, base_blueprint, public_base_blueprint, roles_required
from operator_app.security import register_signup
from operator_app.storage import UploadError, send_stored
from operator_app.timeutil import today_in

from . import constants as c
from . import rent_services, services
from .forms import (AdmitForm, ApplicationForm, CompanyForm, DocumentForm, ExitForm, InviteContactForm,
                    MilestoneForm, MoveInForm, RejectForm, RulesForm)
from .listing import CompanyFilterForm, company_statement
from .models import CompanyDocument, Milestone, TenantCompany
from .rules import admission_checks, rules_of

bp = base_blueprint("tenants", __name__, "/tenants")
public = public_base_blueprint("tenants_public", __name__)

EDITORS = (ac.ROLE_MANAGER, ac.ROLE_STAFF)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PER_PAGE = 25
MAX_PAGE = 100_000


def _company_or_404(company_id):
    """The company within the current base; a tenant contact only ever gets their own. Raises NotFound."""
    company = get_or_404(TenantCompany, company_id)
    if g.role == ac.ROLE_TENANT and company.id != g.get("tenant_company_id"):
        abort(404)
    return company


@bp.route("/")
@roles_required(*STAFF_ROLES)
def company_list():
    """The searchable, filterable, sortable, paginated list of the base's companies."""
    filters = CompanyFilterForm(request.args)
    page = min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)
    companies = db.paginate(company_statement(filters), page=page, per_page=PER_PAGE, error_out=False)
    return render_template("tenants/list.html", companies=companies, filters=filters,
                           args=filter_args(filters, request.args))


@bp.route("/export.xlsx")
@roles_required(*STAFF_ROLES)
def company_export():
    """The list with the same filters and order as an xlsx file."""
    from . import exports

    filters = CompanyFilterForm(request.args)
    companies = db.session.scalars(company_statement(filters)).all()
    filename = f"{g.base.slug}-tenants-{today_in(g.base.timezone).isoformat()}.xlsx"
    return send_file(BytesIO(exports.companies_xlsx(companies)), mimetype=XLSX, as_attachment=True,
                     download_name=filename)


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def company_create():
    """Add a company to the files: an existing tenant (in residence) or an application to review."""
    status = request.values.get("status", c.STATUS_IN_RESIDENCE)
    if status not in c.CREATABLE_STATUSES:
        status = c.STATUS_IN_RESIDENCE
    form = CompanyForm(base=g.base, housed=status in c.ACTIVE_STATUSES)
    if form.validate_on_submit():
        try:
            company = services.create_company(form.company_values(), status=status, by=g.user)
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            form.uscc.errors.append(_("A company with this code is already in the base's files."))
        else:
            flash(_("%(name)s has been added to the files.", name=company.name), "success")
            return redirect(url_for("tenants.company_detail", company_id=company.id))
    return render_template("tenants/form.html", form=form, company=None, status=status)


@bp.route("/<int:company_id>")
@roles_required(*ALL_BASE_ROLES)
def company_detail(company_id):
    """A company's file: details, timeline of milestones, documents, decisions and exit. Raises NotFound."""
    return _detail_with(_company_or_404(company_id))


@bp.route("/<int:company_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def company_edit(company_id):
    """Edit the file; a concurrent save is reported, never silently overwritten. Raises NotFound."""
    company = _company_or_404(company_id)
    form = CompanyForm(obj=company, company=company, base=g.base, housed=company.status in c.ACTIVE_STATUSES)
    if form.validate_on_submit():
        if form.version.data != str(company.version):
            return _edit_conflict(form, company)
        try:
            services.update_company(company, form.company_values(), by=g.user)
            db.session.commit()
        except StaleDataError:
            db.session.rollback()
            return _edit_conflict(form, db.session.get(TenantCompany, company.id))
        except IntegrityError:
            db.session.rollback()
            form.uscc.errors.append(_("A company with this code is already in the base's files."))
            return render_template("tenants/form.html", form=form, company=company)
        flash(_("The file has been saved."), "success")
        return redirect(url_for("tenants.company_detail", company_id=company.id))
    return render_template("tenants/form.html", form=form, company=company)


def _edit_conflict(form, company):
    form.version.data = str(company.version)
    flash(_("Someone else saved this file while you were editing it. Your entries are still in the form: "
            "compare them with the saved file and save again."), "warning")
    return render_template("tenants/form.html", form=form, company=company), 409


@bp.route("/<int:company_id>/milestones", methods=["POST"])
@roles_required(*EDITORS)
def milestone_create(company_id):
    """Add a development milestone to the company's timeline. Raises NotFound."""
    company = _company_or_404(company_id)
    form = MilestoneForm()
    if form.validate_on_submit():
        services.add_milestone(company, occurred_on=form.occurred_on.data, kind=form.kind.data,
                               title=form.title.data, amount_fen=form.amount_fen(), by=g.user)
        db.session.commit()
        flash(_("The milestone has been added."), "success")
        return redirect(url_for("tenants.company_detail", company_id=company.id, _anchor="milestones"))
    return _detail_with(company, milestone_form=form), 200


@bp.route("/<int:company_id>/milestones/<int:milestone_id>/delete", methods=["POST"])
@roles_required(*EDITORS)
def milestone_delete(company_id, milestone_id):
    """Take a milestone off the timeline (kept in the records). Raises NotFound."""
    company = _company_or_404(company_id)
    milestone = get_or_404(Milestone, milestone_id, company_id=company.id)
    services.remove_milestone(milestone, by=g.user)
    db.session.commit()
    flash(_("The milestone has been removed."), "success")
    return redirect(url_for("tenants.company_detail", company_id=company.id, _anchor="milestones"))


@bp.route("/<int:company_id>/documents", methods=["POST"])
@roles_required(*EDITORS)
def document_upload(company_id):
    """Add a document (PDF or image) to the company's file. Raises NotFound."""
    company = _company_or_404(company_id)
    form = DocumentForm()
    if form.validate_on_submit():
        try:
            services.attach_document(company, kind=form.kind.data, upload=request.files.get("file"), by=g.user)
            db.session.commit()
        except UploadError as error:
            db.session.rollback()
            form.file.errors.append(error.message)
        else:
            flash(_("The document has been added."), "success")
            return redirect(url_for("tenants.company_detail", company_id=company.id, _anchor="documents"))
    return _detail_with(company, document_form=form), 200


@bp.route("/<int:company_id>/documents/<int:document_id>")
@roles_required(*ALL_BASE_ROLES)
def document_download(company_id, document_id):
    """Download a document of the company's file. Raises NotFound outside the base or the tenant's company."""
    company = _company_or_404(company_id)
    document = get_or_404(CompanyDocument, document_id, company_id=company.id)
    return send_stored(document.file)


@bp.route("/<int:company_id>/documents/<int:document_id>/delete", methods=["POST"])
@roles_required(*EDITORS)
def document_delete(company_id, document_id):
    """Take a document out of the file (the stored file is kept). Raises NotFound."""
    company = _company_or_404(company_id)
    document = get_or_404(CompanyDocument, document_id, company_id=company.id)
    services.remove_document(document, by=g.user)
    db.session.commit()
    flash(_("The document has been removed from the file."), "success")
    return redirect(url_for("tenants.company_detail", company_id=company.id, _anchor="documents"))


def _detail_with(company, **overrides):
    """The company's file page; ``overrides`` replace its blank forms (a submitted one keeps its errors)."""
    editable = g.role in EDITORS
    staff = g.role in STAFF_ROLES
    context = dict(
        company=company, editable=editable,
        milestone_form=MilestoneForm(formdata=None) if editable else None,
        document_form=DocumentForm(formdata=None) if editable else None,
        invite_form=InviteContactForm(formdata=None) if g.role == ac.ROLE_MANAGER else None,
        move_in_form=MoveInForm(formdata=None, moved_in_on=company.moved_in_on) if editable else None,
        leases=rent_services.leases_of(company),
        # The base's internal notes (decisions, exit checklist) are not shown to the tenant contact.
        decisions=services.decisions_of(company) if staff else [],
        exit_record=services.exit_record_of(company) if staff else None,
        sections=panels_for(g.base, g.role, place="company", company=company))
    context.update(overrides)
    return render_template("tenants/detail.html", **context)


@bp.route("/<int:company_id>/review", methods=["GET", "POST"])
@roles_required(*EDITORS)
def company_review(company_id):
    """Review an application: the rule checks, then admit (a manager may override) or reject. Raises NotFound."""
    company = _company_or_404(company_id)
    admit_form = AdmitForm(prefix="admit", formdata=None, obj=company)
    reject_form = RejectForm(prefix="reject", formdata=None)
    if request.method == "POST" and company.status == c.STATUS_APPLICANT:
        if request.form.get("action") == "reject":
            reject_form = RejectForm(prefix="reject")
            if reject_form.validate_on_submit():
                services.reject(company, reason=reject_form.reason.data, by=g.user)
                db.session.commit()
                flash(_("The application has been rejected."), "info")
                return redirect(url_for("tenants.company_detail", company_id=company.id))
        else:
            admit_form = AdmitForm(prefix="admit")
            if admit_form.validate_on_submit():
                try:
                    services.admit(g.base, company, zone=admit_form.zone.data, unit=admit_form.unit.data,
                                   is_workstation=admit_form.is_workstation.data,
                                   workstation_count=(admit_form.workstation_count.data
                                                      if admit_form.is_workstation.data else None),
                                   area_m2=admit_form.area_m2.data, moved_in_on=admit_form.moved_in_on.data,
                                   override_reason=admit_form.override_reason.data,
                                   may_override=g.role == ac.ROLE_MANAGER, by=g.user)
                    db.session.commit()
                except services.WorkflowError as error:
                    db.session.rollback()
                    admit_form.override_reason.errors.append(error.message)
                else:
                    flash(_("%(name)s has been admitted.", name=company.name), "success")
                    return redirect(url_for("tenants.company_detail", company_id=company.id))
    is_workstation = admit_form.is_workstation.data if request.method == "POST" else company.is_workstation
    checks = admission_checks(g.base, company, is_workstation=bool(is_workstation))
    status = 409 if request.method == "POST" and company.status != c.STATUS_APPLICANT else 200
    return render_template("tenants/review.html", company=company, checks=checks, admit_form=admit_form,
                           reject_form=reject_form, may_override=g.role == ac.ROLE_MANAGER), status


@bp.route("/<int:company_id>/move-in", methods=["POST"])
@roles_required(*EDITORS)
def company_move_in(company_id):
    """An admitted company has moved in. Raises NotFound."""
    company = _company_or_404(company_id)
    form = MoveInForm()
    if form.validate_on_submit():
        try:
            services.confirm_move_in(company, moved_in_on=form.moved_in_on.data, by=g.user)
            db.session.commit()
        except services.WorkflowError as error:
            db.session.rollback()
            flash(error.message, "warning")
        else:
            flash(_("The move-in has been recorded."), "success")
        return redirect(url_for("tenants.company_detail", company_id=company.id))
    return _detail_with(company, move_in_form=form), 200


@bp.route("/<int:company_id>/exit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def company_exit(company_id):
    """Record a company's exit by the base's procedure; a graduation starts the three-year follow-up."""
    company = _company_or_404(company_id)
    form = ExitForm()
    if company.status not in services.TRANSITIONS["exit"]:
        flash(_("A company that is %(status)s cannot exit.", status=company.status_label), "warning")
        return redirect(url_for("tenants.company_detail", company_id=company.id))
    if form.validate_on_submit():
        try:
            services.record_exit(company, reason=form.reason.data, exit_on=form.exit_on.data,
                                 today=today_in(g.base.timezone),
                                 keys_returned=form.keys_returned.data, rent_settled=form.rent_settled.data,
                                 deposit_settled=form.deposit_settled.data, notes=form.notes.data or "", by=g.user)
            db.session.commit()
        except services.WorkflowError as error:
            db.session.rollback()
            form.exit_on.errors.append(error.message)
        else:
            flash(_("The exit of %(name)s has been recorded.", name=company.name), "success")
            return redirect(url_for("tenants.company_detail", company_id=company.id))
    return render_template("tenants/exit.html", company=company, form=form, rules=rules_of(g.base))


@bp.route("/<int:company_id>/contact", methods=["POST"])
@roles_required(ac.ROLE_MANAGER)
def contact_invite(company_id):
    """Invite the company's contact person as a tenant user of this company. Raises NotFound."""
    company = _company_or_404(company_id)
    form = InviteContactForm()
    if form.validate_on_submit():
        if account_services.is_member(g.base, form.email.data):
            form.email.errors.append(_("This person is already a member of this base."))
        else:
            invitation, token = account_services.invite(g.base, email=form.email.data, role=ac.ROLE_TENANT,
                                                        tenant_company_id=company.id, by=g.user)
            db.session.commit()
            link = url_for("auth.accept_invite", token=token, _external=True)
            return _detail_with(company, invite_link=link)
    return _detail_with(company, invite_form=form), 200


@bp.route("/mine")
@roles_required(ac.ROLE_TENANT)
def my_company():
    """A tenant contact's own company file. Raises NotFound when the contact is linked to none."""
    if not g.get("tenant_company_id"):
        abort(404)
    return redirect(url_for("tenants.company_detail", company_id=g.tenant_company_id))


@bp.route("/rules", methods=["GET", "POST"])
@roles_required(ac.ROLE_MANAGER)
def rules_edit():
    """The base's move-in and exit rules and their checkable settings. Raises Forbidden for non-managers."""
    rules = rules_of(g.base)
    form = RulesForm(obj=rules)
    if form.validate_on_submit():
        services.save_rules(g.base, form.rules_values(), by=g.user)
        db.session.commit()
        flash(_("The rules have been saved."), "success")
        return redirect(url_for("tenants.rules_edit"))
    return render_template("tenants/rules.html", form=form, rules=rules)


@bp.route("/import", methods=["GET", "POST"])
@roles_required(*EDITORS)
def company_import():
    """Import the roster from xlsx: every row is checked and either all are written or none."""
    from operator_app.forms import AppForm

    from . import imports

    result = None
    if request.method == "POST":
        if AppForm().validate_on_submit():
            try:
                result = imports.import_roster(request.files.get("file"), by=g.user, base=g.base)
                if result.ok:
                    db.session.commit()
            except IntegrityError:
                # Someone added a company with one of these codes while the file was being checked.
                db.session.rollback()
                flash(_("A company with one of these codes was added meanwhile; nothing was imported. "
                        "Upload the file again to see which."), "warning")
                return redirect(url_for("tenants.company_import"))
            if result.ok:
                flash(_("%(n)d companies have been imported.", n=len(result.created)), "success")
                return redirect(url_for("tenants.company_list"))
            db.session.rollback()
    return render_template("tenants/import.html", result=result), (200 if result is None or result.ok else 422)


@bp.route("/import/template.xlsx")
@roles_required(*EDITORS)
def import_template():
    """The roster template with its columns in the user's language."""
    from . import imports

    return send_file(BytesIO(imports.roster_template()), mimetype=XLSX, as_attachment=True,
                     download_name="roster-template.xlsx")


# --- Public pages of a base ---------------------------------------------------------------------------

@public.route("/rules")
def public_rules():
    """The base's published move-in and exit rules. Raises NotFound while they are not published."""
    rules = rules_of(g.base)
    if not rules.is_published:
        abort(404)
    return render_template("tenants/public_rules.html", rules=rules)


@public.route("/apply", methods=["GET", "POST"])
def public_apply():
    """Apply to move in, with documents. Raises NotFound while the base takes no applications."""
    rules = rules_of(g.base)
    if not rules.accepts_applications:
        abort(404)
    form = ApplicationForm()
    if request.method == "POST" and not register_signup(request.remote_addr or "unknown"):
        abort(429)  # counted before validation, so the form cannot be used to probe at will
    if form.validate_on_submit():
        try:
            company = services.create_company(_application_values(form), status=c.STATUS_APPLICANT, by=None,
                                              via_link=True)
            for kind in rules.required_documents or []:
                upload = request.files.get(f"document_{kind}")
                if upload and upload.filename:
                    services.attach_document(company, kind=kind, upload=upload, by=None)
            db.session.commit()
        except UploadError as error:
            db.session.rollback()
            flash(error.message, "danger")
        else:
            return redirect(url_for("tenants_public.public_apply_done"))
    return render_template("tenants/public_apply.html", form=form, rules=rules)


def _application_values(form):
    return form.company_values()


@public.route("/apply/done")
def public_apply_done():
    """Thanks for applying. Raises NotFound while the base takes no applications."""
    if not rules_of(g.base).accepts_applications:
        abort(404)
    return render_template("tenants/public_apply_done.html")


STATUS_COLOURS = {c.STATUS_APPLICANT: "warning", c.STATUS_ADMITTED: "info", c.STATUS_IN_RESIDENCE: "success",
                  c.STATUS_GRADUATED: "primary", c.STATUS_EXITED: "secondary", c.STATUS_REJECTED: "dark"}


@bp.app_context_processor
def _tenant_labels():
    from datetime import timedelta

    from . import attendance, rent

    return {"days_figure": attendance.days_figure, "timedelta": timedelta, "zone_labels": ac.ZONE_LABELS,
            "status_colours": STATUS_COLOURS, "industries": c.INDUSTRIES,
            "document_kinds": c.DOCUMENT_KINDS, "space_units": c.SPACE_UNITS, "policy_kinds": c.POLICY_KINDS,
            "rent_percent": rent.percent, "rent_yuan": rent.yuan}


def _occupancy_context(base):
    return {"summary": once(services.occupancy_summary, base)}


register_panel("tenants/_occupancy_panel.html", _occupancy_context, STAFF_ROLES, order=10)


from . import attendance_views, rent_views, report_views  # noqa: E402,F401  (their routes are on this blueprint)
from . import followup_views  # noqa: E402,F401
