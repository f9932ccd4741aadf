"""Views of the rent discount check, on the ``tenants`` blueprint: the compliance page and its export, market
quotes, the preferential policy, the rent settings, and each company's leases."""
from io import BytesIO

from flask import abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _

from operator_app.accounts import constants as ac
from operator_app.db import get_or_404
from operator_app.extensions import db
from operator_app.memo import once
from operator_app.panels import register_panel
from operator_app.scoping import STAFF_ROLES, roles_required
from operator_app.storage import UploadError, send_stored
from operator_app.timeutil import today_in

from . import constants as c
from . import rent, rent_services
from .models import Lease, MarketQuote, PreferentialPolicy, unit_set
from .rent_forms import LeaseForm, PolicyForm, QuoteForm, RentSettingsForm
from .rules import rules_of
from .views import EDITORS, XLSX, _company_or_404, bp


MAX_PAGE = 100_000  # far past any real page; keeps OFFSET within what every database accepts


def _rent_page(quote_form=None, settings_form=None):
    """The compliance page, with the forms this user may use (a submitted one keeps its input and errors).

    The check's table holds the leases whose term covers today (the ones the overall discount weighs); the
    ended and future ones follow, a page at a time, checked against the same market references.
    """
    rules = rules_of(g.base)
    if quote_form is None and g.role in EDITORS:
        quote_form = QuoteForm(formdata=None)
    if settings_form is None and g.role == ac.ROLE_MANAGER:
        settings_form = RentSettingsForm(formdata=None, obj=rules)
    today = today_in(g.base.timezone)
    result = rent_services.base_compliance(g.base, today)
    page = min(max(request.args.get("history", 1, type=int), 1), MAX_PAGE)
    history = rent_services.leases_out_of_term(today, page)
    return render_template("tenants/rent.html", result=result, quotes=rent_services.quotes(),
                           policy=rent_services.current_policy(), rules=rules, quote_form=quote_form,
                           settings_form=settings_form, history=history,
                           history_rows=rent_services.check_leases(history.items, result, g.base, today))


@bp.route("/rent")
@roles_required(*STAFF_ROLES)
def rent_compliance():
    """The rent discount check: each lease against the market, the overall discount, the evidence behind it."""
    return _rent_page()


@bp.route("/rent/export.xlsx")
@roles_required(*STAFF_ROLES)
def rent_export():
    """The compliance sheet as xlsx: the evidence an inspector asks for."""
    from .rent_exports import compliance_xlsx

    result = rent_services.base_compliance(g.base, today_in(g.base.timezone), every_lease=True)
    data = compliance_xlsx(g.base, result, rent_services.quotes(), rent_services.current_policy(), rules_of(g.base))
    filename = f"{g.base.slug}-rent-discount-{today_in(g.base.timezone).isoformat()}.xlsx"
    return send_file(BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=filename)


@bp.route("/rent/quotes", methods=["POST"])
@roles_required(*EDITORS)
def quote_create():
    """Record a market quote with its evidence."""
    form = QuoteForm(today=today_in(g.base.timezone))
    if form.validate_on_submit():
        try:
            rent_services.record_quote(form.quote_values(), upload=request.files.get("evidence"), by=g.user)
            db.session.commit()
        except UploadError as error:
            db.session.rollback()
            form.evidence.errors.append(error.message)
        else:
            flash(_("The market quote has been recorded."), "success")
            return redirect(url_for("tenants.rent_compliance", _anchor="quotes"))
    return _rent_page(quote_form=form)


@bp.route("/rent/quotes/<int:quote_id>/delete", methods=["POST"])
@roles_required(*EDITORS)
def quote_delete(quote_id):
    """Withdraw a quote entered by mistake (kept in the records). Raises NotFound."""
    rent_services.remove_quote(get_or_404(MarketQuote, quote_id), by=g.user)
    db.session.commit()
    flash(_("The market quote has been withdrawn."), "success")
    return redirect(url_for("tenants.rent_compliance", _anchor="quotes"))


@bp.route("/rent/quotes/<int:quote_id>/evidence")
@roles_required(*STAFF_ROLES)
def quote_evidence(quote_id):
    """The evidence file of a quote. Raises NotFound."""
    quote = get_or_404(MarketQuote, quote_id)
    if quote.file is None:
        abort(404)
    return send_stored(quote.file)


@bp.route("/rent/policy", methods=["GET", "POST"])
@roles_required(ac.ROLE_MANAGER)
def policy_edit():
    """Record the preferential-policy document (优惠政策). Raises Forbidden for non-managers."""
    policy = rent_services.current_policy()
    form = PolicyForm(obj=policy)
    if form.validate_on_submit():
        try:
            rent_services.save_policy(form.policy_values(), upload=request.files.get("document"), by=g.user)
            db.session.commit()
        except UploadError as error:
            db.session.rollback()
            form.document.errors.append(error.message)
        else:
            flash(_("The preferential policy has been saved."), "success")
            return redirect(url_for("tenants.rent_compliance"))
    return render_template("tenants/policy.html", form=form, policy=policy)


@bp.route("/rent/policy/<int:policy_id>/document")
@roles_required(*STAFF_ROLES)
def policy_document(policy_id):
    """The policy's document file. Raises NotFound."""
    policy = get_or_404(PreferentialPolicy, policy_id)
    if policy.file is None:
        abort(404)
    return send_stored(policy.file)


@bp.route("/rent/settings", methods=["POST"])
@roles_required(ac.ROLE_MANAGER)
def rent_settings():
    """The threshold, the quote age and the free-rent warning. Raises Forbidden for non-managers."""
    form = RentSettingsForm()
    if form.validate_on_submit():
        rent_services.save_settings(g.base, {field: form[field].data for field in rent_services.SETTINGS_FIELDS},
                                    by=g.user)
        db.session.commit()
        flash(_("The rent settings have been saved."), "success")
        return redirect(url_for("tenants.rent_compliance"))
    return _rent_page(settings_form=form)


def _lease_page(company, form, lease=None, status=200):
    rules = rules_of(g.base)
    market = rent.market_references(rent_services.quotes(), today_in(g.base.timezone), rules.quote_max_age_months)
    # The exact reference (not rounded to the fen) so the live preview agrees with the check.
    references = {space: repr(float(ref.price / 100)) if ref.price else "" for space, ref in market.items()}
    return render_template("tenants/lease.html", company=company, form=form, lease=lease,
                           references=references, threshold=rules.discount_threshold_percent), status


def _save_lease(company, form, lease=None):
    """Validate the lease against the others (one unit, one lease at a time) and save it; None when refused."""
    values = form.lease_values()
    clashes = rent_services.overlapping_leases(values["units"], values["starts_on"], values["ends_on"],
                                               exclude_id=lease.id if lease else None)
    if clashes:
        other = clashes[0]
        shared = "、".join(sorted(other.unit_set() & unit_set(values["units"])))
        form.units.errors.append(_("%(units)s is already leased to %(company)s from %(start)s to %(end)s.",
                                   units=shared, company=other.company.name, start=other.starts_on,
                                   end=other.ends_on))
        return None
    if lease is None:
        return rent_services.create_lease(company, values, by=g.user)
    rent_services.update_lease(lease, values, by=g.user)
    return lease


@bp.route("/<int:company_id>/leases/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def lease_create(company_id):
    """Give the company a lease; the page shows the market reference and the discount as the rent is typed."""
    company = _company_or_404(company_id)
    if company.status not in c.ACTIVE_STATUSES:
        flash(_("A company that is %(status)s has no lease to record.", status=company.status_label), "warning")
        return redirect(url_for("tenants.company_detail", company_id=company.id))
    form = LeaseForm(space_type="workstation" if company.is_workstation else "office", units=company.unit,
                     area_m2=company.area_m2, seats=company.workstation_count)
    if form.validate_on_submit():
        if _save_lease(company, form) is not None:
            db.session.commit()
            flash(_("The lease has been saved."), "success")
            return redirect(url_for("tenants.company_detail", company_id=company.id, _anchor="leases"))
    return _lease_page(company, form)


@bp.route("/<int:company_id>/leases/<int:lease_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def lease_edit(company_id, lease_id):
    """Correct a lease (audited). Raises NotFound."""
    company = _company_or_404(company_id)
    lease = get_or_404(Lease, lease_id, company_id=company.id)
    form = LeaseForm(obj=lease, list_rent_yuan=rent.yuan(lease.list_rent_fen),
                     actual_rent_yuan=rent.yuan(lease.actual_rent_fen),
                     discounted_rent_yuan=rent.yuan(lease.discounted_rent_fen),
                     deposit_yuan=rent.yuan(lease.deposit_fen))
    if form.validate_on_submit():
        if _save_lease(company, form, lease) is not None:
            db.session.commit()
            flash(_("The lease has been saved."), "success")
            return redirect(url_for("tenants.company_detail", company_id=company.id, _anchor="leases"))
    return _lease_page(company, form, lease)


@bp.route("/<int:company_id>/leases/<int:lease_id>/delete", methods=["POST"])
@roles_required(*EDITORS)
def lease_delete(company_id, lease_id):
    """Remove a lease entered by mistake (kept in the records); refused, with the reason, when a registered
    check says the lease is in use (billed). Raises NotFound."""
    company = _company_or_404(company_id)
    try:
        rent_services.remove_lease(get_or_404(Lease, lease_id, company_id=company.id), by=g.user)
    except rent_services.LeaseInUse as refusal:
        db.session.rollback()
        flash(str(refusal), "warning")
        return redirect(url_for("tenants.company_detail", company_id=company.id, _anchor="leases"))
    db.session.commit()
    flash(_("The lease has been removed."), "success")
    return redirect(url_for("tenants.company_detail", company_id=company.id, _anchor="leases"))


def _rent_panel_context(base):
    today = today_in(base.timezone)
    return {"result": once(rent_services.base_compliance, base, today),
            "ending": rent_services.leases_ending_soon(today)}


register_panel("tenants/_rent_panel.html", _rent_panel_context, STAFF_ROLES, order=20)
