"""Views of money received, on the ``billing`` blueprint: recording payments, credit notes, a company's
statement, the arrears list, the accountant's export, the base's Stripe account and payment links.

Managers and staff record payments and read the money pages; credit notes and the Stripe account are the
manager's; a tenant contact reads its own company's statement, payments and credit notes and pays its own
bills online. Another company's record is 404 to a tenant contact, like another base's to anyone.
"""
from io import BytesIO

from flask import abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from wtforms.fields.choices import SelectChoice

from operator_app.accounts import constants as ac
from operator_app.db import get_or_404
from operator_app.extensions import db
from operator_app.scoping import roles_required
from operator_app.timeutil import to_local, today_in
from tenants.models import TenantCompany
from tenants.rent_forms import to_fen

from . import arrears as arrears_report
from . import exports, invoicing, payment_links, payments, settlement
from .models import CreditNote, Payment, PaymentLink, RentInvoice
from .payment_forms import CreditNoteForm, ExportForm, PaymentForm, StripeAccountForm
from .views import bp

M, S, N = ac.ROLE_MANAGER, ac.ROLE_STAFF, ac.ROLE_TENANT
EDITORS = (M, S)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _today():
    return today_in(g.base.timezone)


def _owned_or_404(model, object_id):
    """A record of the current base; a tenant contact gets only its own company's. Raises NotFound."""
    item = get_or_404(model, object_id)
    company_id = item.id if model is TenantCompany else item.company_id
    if g.role == N and company_id != g.get("tenant_company_id"):
        abort(404)
    return item


@bp.context_processor
def _money_helpers():
    """The money pages' vocabulary, and whether bills can be paid online (asked once per request)."""
    def online_payment_enabled():
        if "online_payment_enabled" not in g:
            g.online_payment_enabled = payment_links.links_enabled()
        return g.online_payment_enabled

    return {"payment_methods": payments.METHODS, "age_buckets": arrears_report.BUCKETS,
            "online_payment_enabled": online_payment_enabled}


def _statement_url(company_id, **kwargs):
    return url_for("billing.company_statement", company_id=company_id, **kwargs)


# --- Payments -------------------------------------------------------------------------------------------------

def _payment_form(**defaults):
    """The payment form with the base's companies and open bills as its only choices."""
    prefix = invoicing.settings_of().number_prefix
    bills = settlement.open_bill_rows()
    bill_companies = {row.id: row.company_id for row in bills}
    if defaults.get("invoice_id") in bill_companies:  # a bill's "record a payment": its company goes with it
        defaults["company_id"] = bill_companies[defaults["invoice_id"]]
    form = PaymentForm(today=_today(), bill_companies=bill_companies, **defaults)
    form.company_id.choices = [SelectChoice("", _("— choose —"))] + [
        SelectChoice(company.id, company.name) for company in payments.payer_companies()]
    form.invoice_id.choices = [SelectChoice("", _("— the oldest bills first —"))] + [
        SelectChoice(row.id, _("%(number)s · %(company)s · due %(due)s · owes %(amount)s yuan",
                               number=invoicing.display_number(row.number, prefix), company=row.name,
                               due=row.due_on.isoformat(), amount=invoicing.yuan_text(row.owed_fen)),
                     render_kw={"data-company": row.company_id}) for row in bills]
    return form


@bp.route("/payments/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def payment_new():
    """Record money a company paid (bank transfer, cash, WeChat or Alipay by hand); it settles the chosen bill,
    then the oldest, and what is left becomes the company's credit. The same payment sent twice is refused
    until confirmed."""
    defaults = {"received_on": _today(), "method": "bank_transfer"}
    for name in ("company_id", "invoice_id"):
        value = request.args.get(name, type=int)
        if value is not None:
            defaults[name] = value
    form = _payment_form(**defaults)
    duplicate = None
    if form.validate_on_submit():
        company = get_or_404(TenantCompany, form.company_id.data)
        first = get_or_404(RentInvoice, form.invoice_id.data) if form.invoice_id.data is not None else None
        try:
            payment = payments.record_payment(company, form.payment_values(), first=first, by=g.user,
                                              allow_duplicate=form.confirm_duplicate.data)
        except payments.DuplicatePayment as refused:
            duplicate = {"id": refused.existing.id,
                         "recorded_at": to_local(refused.existing.recorded_at, g.base.timezone)}
            db.session.rollback()
            form.confirm_duplicate.errors = [_("This payment (same company, amount, date, method and reference) "
                                               "is already recorded. If the company really paid twice, tick "
                                               "this box and save again.")]
        else:
            db.session.commit()
            flash(_("The payment has been recorded."), "success")
            return redirect(url_for("billing.payment_detail", payment_id=payment.id))
    return render_template("billing/payment_new.html", form=form, duplicate=duplicate)


@bp.route("/payments/<int:payment_id>")
@roles_required(M, S, N)
def payment_detail(payment_id):
    """A payment, the bills it settled and what it left as the company's credit. Raises NotFound."""
    payment = _owned_or_404(Payment, payment_id)
    return render_template("billing/payment_detail.html", payment=payment, settled=payments.settled_by(payment))


# --- Credit notes ---------------------------------------------------------------------------------------------

@bp.route("/invoices/<int:invoice_id>/credit-notes/new", methods=["GET", "POST"])
@roles_required(M)
def credit_note_new(invoice_id):
    """Issue a credit note on a bill (红字冲减): at most its total less earlier credit notes, with a reason.
    Raises NotFound, Forbidden for anyone but the manager."""
    invoice = get_or_404(RentInvoice, invoice_id)
    limit = payments.creditable(invoice)
    form = CreditNoteForm(invoice=invoice, limit_fen=limit, today=_today(), issued_on=_today())
    if form.validate_on_submit():
        try:
            note = payments.issue_credit_note(invoice, amount_fen=to_fen(form.amount_yuan.data),
                                              reason=form.reason.data, issued_on=form.issued_on.data, by=g.user)
        except payments.CreditNoteTooLarge as refused:
            db.session.rollback()
            limit = refused.limit_fen
            form.amount_yuan.errors = [_("At most %(amount)s yuan: the bill's total less the credit notes already "
                                         "on it.", amount=invoicing.yuan_text(limit))]
        else:
            db.session.commit()
            flash(_("Credit note %(number)s has been issued.", number=note.number), "success")
            return redirect(url_for("billing.credit_note_detail", credit_note_id=note.id))
    invoice = get_or_404(RentInvoice, invoice_id)
    return render_template("billing/credit_note_new.html", form=form, invoice=invoice, limit_fen=limit,
                           owed_fen=settlement.outstanding(invoice))


@bp.route("/credit-notes/<int:credit_note_id>")
@roles_required(M, S, N)
def credit_note_detail(credit_note_id):
    """A credit note and what it settled. Raises NotFound."""
    note = _owned_or_404(CreditNote, credit_note_id)
    return render_template("billing/credit_note_detail.html", note=note, settled=payments.settled_by(note))


# --- The company's statement ----------------------------------------------------------------------------------

@bp.route("/companies/<int:company_id>/statement")
@roles_required(M, S, N)
def company_statement(company_id):
    """The company's bills, payments and credit notes in date order with the running balance and its credit;
    its open bills with their payment links. Raises NotFound."""
    company = _owned_or_404(TenantCompany, company_id)
    statement = payments.company_statement(company.id)
    open_ids = [bill.id for bill, owed in statement.open_bills]
    links = {}
    if open_ids and g.role in EDITORS:
        for link in db.session.scalars(select(PaymentLink).where(PaymentLink.invoice_id.in_(open_ids),
                                                                 PaymentLink.status == payment_links.OPEN)
                                       .order_by(PaymentLink.id)):
            links[link.invoice_id] = link
    return render_template("billing/payment_statement.html", company=company, statement=statement, links=links,
                           today=_today())


# --- Arrears and the export -----------------------------------------------------------------------------------

@bp.route("/arrears")
@roles_required(*EDITORS)
def arrears():
    """Every company with bills past due, what it owes by age from the due date, the base's totals."""
    return render_template("billing/arrears.html", report=arrears_report.arrears(_today()), today=_today())


@bp.route("/export")
@roles_required(*EDITORS)
def export():
    """The accountant's workbook (bills, payments, credit notes), optionally of a date range: the page with the
    range, or with ``download`` the xlsx file."""
    form = ExportForm(request.args)
    if "download" in request.args and form.validate():
        data = exports.accounts_xlsx(g.base, start=form.start_on.data, end=form.end_on.data, today=_today())
        span = "-".join(day.isoformat() for day in (form.start_on.data, form.end_on.data) if day) or "all"
        return send_file(BytesIO(data), mimetype=XLSX, as_attachment=True,
                         download_name=f"{g.base.slug}-billing-{span}.xlsx")
    return render_template("billing/payment_export.html", form=form)


# --- Stripe: the base's account and payment links -------------------------------------------------------------

@bp.route("/stripe-account", methods=["GET", "POST"])
@roles_required(M)
def stripe_account():
    """The base's own Stripe account for payment links (acct_…). Raises Forbidden for anyone but the manager."""
    settings_row = payment_links.billing_settings()
    form = StripeAccountForm(obj=settings_row)
    if form.validate_on_submit():
        value = form.stripe_account_id.data or None
        if value and payment_links.account_taken(value, g.base.id):
            form.stripe_account_id.errors.append(_("This Stripe account is already connected to another base."))
        else:
            try:
                payment_links.set_connected_account(value, by=g.user)
                db.session.commit()
            except StaleDataError:
                db.session.rollback()
                abort(409)
            except IntegrityError:  # another base took the account, or the settings row was made, meanwhile
                db.session.rollback()
                if not (value and payment_links.account_taken(value, g.base.id)):
                    abort(409)
                form.stripe_account_id.errors.append(_("This Stripe account is already connected to another "
                                                       "base."))
            else:
                flash(_("The Stripe account has been saved.") if value else
                      _("Online payment has been turned off."), "success")
                return redirect(url_for("billing.stripe_account"))
    return render_template("billing/payment_stripe_account.html", form=form,
                           stripe_configured=payment_links.stripe_client.enabled())


def _link(invoice):
    url = _statement_url(invoice.company_id, _external=True)
    return payment_links.link_for(invoice, by=g.user, success_url=url, cancel_url=url)


@bp.route("/invoices/<int:invoice_id>/payment-link", methods=["POST"])
@roles_required(*EDITORS)
def payment_link_create(invoice_id):
    """Make (or show again) the Stripe payment page for what a bill still owes, to send to the company.
    Raises NotFound."""
    invoice = get_or_404(RentInvoice, invoice_id)
    try:
        link = _link(invoice)
        db.session.commit()
    except payment_links.PaymentLinkError as refused:
        db.session.rollback()
        flash(str(refused.message), "warning")
    else:
        flash(_("Payment link for %(amount)s yuan: %(url)s", amount=invoicing.yuan_text(link.amount_fen),
                url=link.url), "success")
    return redirect(_statement_url(invoice.company_id, _anchor=f"bill-{invoice.id}"))


@bp.route("/invoices/<int:invoice_id>/pay-online", methods=["POST"])
@roles_required(M, S, N)
def pay_online(invoice_id):
    """Off to Stripe's payment page for what the bill still owes (303): a tenant contact paying its own bill, or
    staff opening the page for a company at the desk (to scan with WeChat or Alipay). Raises NotFound."""
    invoice = _owned_or_404(RentInvoice, invoice_id)
    try:
        link = _link(invoice)
        db.session.commit()
    except payment_links.PaymentLinkError as refused:
        db.session.rollback()
        flash(str(refused.message), "warning")
        return redirect(_statement_url(invoice.company_id))
    return redirect(link.url, code=303)
