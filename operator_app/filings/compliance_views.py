"""Views of the compliance page (issue 8) on the ``filings`` blueprint: every item of "8个有、6个要" with its
evidence (printable), the inspection documents a manager uploads as evidence, and the dashboard's score panel."""
from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..accounts import constants as ac
from ..db import get_or_404
from ..extensions import db
from ..panels import register_panel
from ..scoping import roles_required
from ..storage import UploadError, send_stored
from ..timeutil import today_in
from . import compliance_services
from ..bases.checks import MET
from .compliance import GROUP_HAVE, GROUP_LABELS, GROUP_MUST, compliance_items, score
from .compliance_forms import InspectionDocumentForm
from .models import InspectionDocument
from .views import READERS, base_today, bp


def _may_open(target):
    """Whether the current role may open the page ``target`` (a compliance.Link) leads to."""
    view = current_app.view_functions.get(target.endpoint)
    return view is not None and g.role in getattr(view, "allowed_roles", (g.role,))


@bp.route("/compliance")
@roles_required(*READERS)
def compliance():
    """Each item of "8个有" and "6个要" as met / not met / unknown, with its evidence and where to fix it.

    ``?print=1`` gives the same page without the navigation, for printing before an inspection.
    """
    today = base_today()
    items = compliance_items(g.base, today)
    met, total = score(items)
    groups = [(group, GROUP_LABELS[group], [item for item in items if item.group == group])
              for group in (GROUP_HAVE, GROUP_MUST)]
    return render_template("filings/compliance.html", groups=groups, met=met, total=total, today=today,
                           printable=request.args.get("print") == "1", may_open=_may_open)


@bp.route("/inspection-documents", methods=["GET", "POST"])
@roles_required(*READERS)
def inspection_documents():
    """The documents an inspector asks to see; a manager uploads one (POST). Raises Forbidden when anyone but a
    manager posts."""
    form = InspectionDocumentForm(today=base_today()) if g.role == ac.ROLE_MANAGER else None
    if request.method == "POST":
        if form is None:
            abort(403)
        if form.validate_on_submit():
            try:
                compliance_services.add_document(form.values(), upload=form.file.data, by=g.user)
                db.session.commit()
            except UploadError as error:
                db.session.rollback()
                form.file.errors.append(error.message)
            else:
                flash(_("The document has been uploaded."), "success")
                return redirect(url_for("filings.inspection_documents"))
    return render_template("filings/inspection_documents.html", form=form,
                           documents=compliance_services.documents(), kinds=compliance_services.DOCUMENT_KINDS)


@bp.route("/inspection-documents/<int:inspection_document_id>/remove", methods=["POST"])
@roles_required(ac.ROLE_MANAGER)
def inspection_document_remove(inspection_document_id):
    """Remove a document uploaded by mistake (kept in the audit log). Raises NotFound outside the base or for a
    removed document, Forbidden for non-managers."""
    document = get_or_404(InspectionDocument, inspection_document_id)
    compliance_services.remove_document(document, by=g.user)
    db.session.commit()
    flash(_("The document has been removed."), "success")
    return redirect(url_for("filings.inspection_documents"))


@bp.route("/inspection-documents/<int:inspection_document_id>/file")
@roles_required(*READERS)
def inspection_document_file(inspection_document_id):
    """The document's file. Raises NotFound outside the base or for a removed document."""
    document = get_or_404(InspectionDocument, inspection_document_id)
    return send_stored(document.file)


def _panel_context(base):
    items = compliance_items(base, today_in(base.timezone))
    met, total = score(items)
    return {"met": met, "total": total, "open": [item for item in items if item.status != MET],
            "done": [item for item in items if item.status == MET]}


@bp.route("/compliance/panel")
@roles_required(*READERS)
def compliance_panel():
    """The dashboard's readiness panel on its own: the dashboard shows its frame at once and fills it from here.

    The 14 items read every package (some thirty queries), more than the rest of the dashboard together, and
    are computed live so that what the manager just fixed shows; loaded apart, they no longer hold the page.
    """
    return render_template("filings/_compliance_panel.html", panel=_panel_context(g.base))


register_panel("filings/_compliance_slot.html", lambda base: {}, READERS, order=2)
