"""Views of rent bills: the list, a bill, its printable page, extra charges, billing settings, the tenant's bills.

Managers and staff keep the bills (recording rent is front-desk work); the settings are the manager's; a
tenant contact sees its own company's bills only; mentors have no billing.
"""
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_sqlalchemy.pagination import SelectPagination
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from operator_app.accounts import constants as ac
from operator_app.db import MAX_ID, get_or_404
from operator_app.extensions import db
from operator_app.forms import filter_args
from operator_app.panels import register_panel
from operator_app.scoping import roles_required
from operator_app.timeutil import month_key, today_in
from tenants.models import Lease, TenantCompany

from . import constants as c
from . import invoicing, numbering, settlement
from .invoice_forms import BillingSettingsForm, ChargeForm, InvoiceFilterForm, first_month_locked_message
from .models import Allocation, CreditNote, ExtraCharge, RentInvoice
from .views import bp

KEEPERS = (ac.ROLE_MANAGER, ac.ROLE_STAFF)
PER_PAGE = 25
MAX_PAGE = 100_000


def _today():
    """The current base's own date (its time zone)."""
    return today_in(g.base.timezone)


def _invoice_or_404(invoice_id):
    """The bill within the current base; a tenant contact only ever gets its own company's. Raises NotFound."""
    invoice = get_or_404(RentInvoice, invoice_id)
    if g.role == ac.ROLE_TENANT and invoice.company_id != g.get("tenant_company_id"):
        abort(404)
    return invoice


class _RowsPagination(SelectPagination):
    """A page of (bill, outstanding) rows; the total is counted by ``invoicing.totals`` with the sums."""

    def _query_items(self):
        statement = self._query_args["select"].limit(self.per_page).offset(self._query_offset)
        return db.session.execute(statement).all()

    def _query_count(self):
        return self._query_args["total"]


@bp.route("/")
@roles_required(*KEEPERS)
def index():
    """The bills: filtered by month, company and status, with totals; the bills due and not issued yet."""
    today = _today()
    companies = db.session.scalars(select(TenantCompany).where(
        TenantCompany.deleted_at.is_(None), exists().where(RentInvoice.company_id == TenantCompany.id))
        .order_by(TenantCompany.name)).all()
    filters = InvoiceFilterForm(request.args, companies=companies)
    chosen = {"month": filters.value("month"), "company_id": filters.value("company"),
              "status": filters.value("status"), "today": today}
    page = min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)
    count, total_fen, owed_fen = invoicing.totals(**chosen)
    bills = _RowsPagination(page=page, per_page=PER_PAGE, error_out=False,
                            select=invoicing.invoice_statement(**chosen), total=count)
    settings = invoicing.settings_of()
    has_leases = db.session.scalar(select(exists().where(Lease.deleted_at.is_(None))))
    return render_template("billing/invoices.html", bills=bills, filters=filters, today=today,
                           count=count, total_fen=total_fen, owed_fen=owed_fen, settings=settings,
                           due=invoicing.due_bills(today), has_leases=has_leases,
                           args=filter_args(filters, request.args))


@bp.route("/issue", methods=["POST"])
@roles_required(*KEEPERS)
def invoices_issue():
    """Issue the bills due now (what the morning job would issue), then show the list."""
    if not invoicing.invoicing_enabled():
        flash(_("Billing is off: the manager turns it on in the billing settings."), "warning")
        return redirect(url_for("billing.index"))
    try:
        issued = invoicing.issue_due(g.base, _today(), by=g.user)
        db.session.commit()
    except (IntegrityError, StaleDataError):  # issued at the same moment by the job or a colleague
        db.session.rollback()
        flash(_("Bills were being issued at the same moment elsewhere; the list shows them."), "info")
        return redirect(url_for("billing.index"))
    if issued:
        flash(_("%(n)d bills have been issued.", n=len(issued)), "success")
    else:
        flash(_("No bill is due: every lease has its bill up to this month."), "info")
    return redirect(url_for("billing.index"))


@bp.route("/invoices/<int:invoice_id>")
@roles_required(*KEEPERS)
def invoice(invoice_id):
    """One bill: its lines, what settled it (payments, credit notes), what it still owes. Raises NotFound."""
    invoice = _invoice_or_404(invoice_id)
    owed = settlement.outstanding(invoice)
    allocations = db.session.scalars(select(Allocation).where(Allocation.invoice_id == invoice.id).options(
        joinedload(Allocation.payment), joinedload(Allocation.credit_note)).order_by(Allocation.id)).all()
    credit_notes = db.session.scalars(select(CreditNote).where(CreditNote.invoice_id == invoice.id)
                                      .order_by(CreditNote.number)).all()
    billed_rent = sum(line.amount_fen for line in invoice.lines if line.kind in c.RENT_LINE_KINDS)
    recomputed = invoicing.recomputed_rent_fen(invoice)
    return render_template("billing/invoice.html", invoice=invoice, owed_fen=owed, allocations=allocations,
                           credit_notes=credit_notes, status=invoicing.status_of(invoice, owed, _today()),
                           billed_rent_fen=billed_rent, recomputed_fen=recomputed,
                           balance=settlement.balance(invoice.company_id))


@bp.route("/invoices/<int:invoice_id>/print")
@roles_required(ac.ROLE_MANAGER, ac.ROLE_STAFF, ac.ROLE_TENANT)
def invoice_print(invoice_id):
    """The bill as a printable A4 page with the base's payee details (a tenant contact: its own bills only).
    Raises NotFound."""
    invoice = _invoice_or_404(invoice_id)
    owed = settlement.outstanding(invoice)
    return render_template("billing/invoice_print.html", invoice=invoice, owed_fen=owed,
                           paid_fen=invoice.total_fen - owed, settings=invoicing.settings_of(),
                           status=invoicing.status_of(invoice, owed, _today()), printed_on=_today())


def _charges_page(form, status=200):
    return render_template("billing/charges.html", form=form, pending=invoicing.charge_list(pending=True),
                           billed=invoicing.charge_list(pending=False, limit=50),
                           pending_by_lease=_pending_totals()), status


def _pending_totals():
    """[(lease, count, fen)] of the leases with charges waiting for a bill."""
    by_lease = {}
    for charge in invoicing.charge_list(pending=True, limit=None):
        lease, count, fen = by_lease.get(charge.lease_id, (charge.lease, 0, 0))
        by_lease[charge.lease_id] = (lease, count + 1, fen + charge.amount_fen)
    return list(by_lease.values())


@bp.route("/charges", methods=["GET", "POST"])
@roles_required(*KEEPERS)
def charges():
    """Extra charges (utilities, services): add one to a lease for a month; the pending and billed ones."""
    today = _today()
    form = ChargeForm(leases=invoicing.billable_leases(today), today=today)
    if request.method == "GET":
        form.month.data = month_key(today)
        return _charges_page(form)
    if form.validate_on_submit():
        invoicing.add_charge(form.lease(), form.charge_values(), by=g.user)
        db.session.commit()
        flash(_("The charge has been added; it goes on the lease's next bill."), "success")
        return redirect(url_for("billing.charges"))
    return _charges_page(form, 422)


@bp.route("/charges/<int:charge_id>/withdraw", methods=["POST"])
@roles_required(*KEEPERS)
def charge_withdraw(charge_id):
    """Withdraw a charge entered by mistake before it is billed (kept in the records). Raises NotFound."""
    charge = get_or_404(ExtraCharge, charge_id)
    if charge.invoice_id is not None or not invoicing.withdraw_charge(charge, by=g.user):
        db.session.rollback()
        flash(_("This charge is on a bill already and cannot be withdrawn: correct the bill with a credit note."),
              "warning")
        return redirect(url_for("billing.charges"))
    db.session.commit()
    flash(_("The charge has been withdrawn."), "success")
    return redirect(url_for("billing.charges"))


def _lease_or_404(lease_id):
    """A lease of the current base, removed ones included (``get_or_404`` leaves those out). Raises NotFound."""
    if not 0 < lease_id <= MAX_ID:
        abort(404)
    lease = db.session.scalar(select(Lease).where(Lease.id == lease_id))
    if lease is None:
        abort(404)
    return lease


@bp.route("/leases/<int:lease_id>/bill-charges", methods=["POST"])
@roles_required(*KEEPERS)
def supplementary_issue(lease_id):
    """Bill the lease's pending extra charges now, on a supplementary bill (also a lease removed since: its
    charges still wait on the charges page). Raises NotFound."""
    lease = _lease_or_404(lease_id)
    try:
        invoice = invoicing.issue_supplementary(lease, _today(), by=g.user)
        if invoice is None:
            db.session.rollback()
            flash(_("This lease has no charge waiting for a bill."), "info")
            return redirect(url_for("billing.charges"))
        db.session.commit()
    except (invoicing.ChargesChanged, IntegrityError):
        db.session.rollback()
        flash(_("The lease's charges changed at the same moment (billed or withdrawn by someone else); check them "
                "and try again."), "warning")
        return redirect(url_for("billing.charges"))
    flash(_("Bill %(number)s has been issued.", number=invoicing.display_number(invoice.number)), "success")
    return redirect(url_for("billing.invoice", invoice_id=invoice.id))


@bp.route("/settings", methods=["GET", "POST"])
@roles_required(ac.ROLE_MANAGER)
def settings():
    """Whether and from which month bills are issued, when they fall due, what they print about paying.
    A save over someone else's newer one is refused (409) with the entries kept. Raises Forbidden."""
    current = invoicing.settings_of()
    locked_prefix = current.number_prefix if invoicing.has_bills() else None
    form = BillingSettingsForm(obj=current, locked_prefix=locked_prefix,
                               first_month_floor=invoicing.first_month_floor(current))
    if request.method == "GET":
        form.first_month.data = month_key(current.first_month) if current.first_month else ""
        form.lock_version.data = str(current.lock_version) if current.id else ""
        return _settings_page(form, current)
    if form.validate_on_submit():
        expected = form.expected_version()
        try:
            if expected is False:
                raise invoicing.SettingsConflict()
            invoicing.save_settings(form.settings_values(), expected_version=expected, by=g.user)
            db.session.commit()
        except (invoicing.SettingsConflict, StaleDataError, IntegrityError):
            db.session.rollback()
            saved = invoicing.settings_of()
            form.lock_version.data = str(saved.lock_version) if saved.id else ""
            flash(_("Someone else saved these settings meanwhile; check them and save again."), "warning")
            return _settings_page(form, saved, 409)
        except invoicing.FirstMonthLocked as locked:  # bills issued meanwhile
            db.session.rollback()
            form.first_month.errors.append(first_month_locked_message(locked.floor))
            return _settings_page(form, invoicing.settings_of(), 422)
        flash(_("The billing settings have been saved."), "success")
        return redirect(url_for("billing.settings"))
    return _settings_page(form, current, 422)


def _settings_page(form, current, status=200):
    return render_template("billing/settings.html", form=form, settings=current, today=_today()), status


@bp.route("/mine")
@roles_required(ac.ROLE_TENANT)
def my_invoices():
    """A tenant contact's bills: its company's only, with what is still owed and its credit."""
    company_id = g.get("tenant_company_id")
    company = db.session.get(TenantCompany, company_id) if company_id else None
    rows = invoicing.company_invoices(company.id) if company else []
    return render_template("billing/my_invoices.html", company=company, rows=rows, today=_today(),
                           balance=settlement.balance(company.id) if company else None,
                           settings=invoicing.settings_of())


def _company_panel(base, company):
    """The company file's billing panel: its open bills and its balance."""
    has_any, open_bills, balance = settlement.company_position(company.id)
    return {"has_bills": has_any, "open": open_bills, "balance": balance, "company": company,
            "today": today_in(base.timezone)}


register_panel("billing/_company_panel.html", _company_panel, KEEPERS, order=60, place="company")


@bp.app_context_processor
def _billing_labels():
    def invoice_no(invoice_or_number):
        """A bill's printed number, the base's prefix read once per request."""
        if "billing_prefix" not in g:
            g.billing_prefix = invoicing.settings_of().number_prefix if g.get("base") else ""
        number = getattr(invoice_or_number, "number", invoice_or_number)
        return numbering.display_number(number, g.billing_prefix)

    return {"fen_yuan": invoicing.yuan_text, "invoice_no": invoice_no, "bill_status_labels": c.STATUS_LABELS,
            "bill_status_colours": c.STATUS_COLOURS, "bill_status": invoicing.status_of,
            "invoice_kinds": c.INVOICE_KINDS, "charge_kinds": c.CHARGE_KINDS, "line_kinds": c.LINE_KINDS}


from . import jobs  # noqa: E402,F401  (registers the daily job)
