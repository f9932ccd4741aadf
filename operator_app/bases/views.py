"""Views of the ``bases`` blueprint: a base's dashboard, profile, members, invitations and audit log."""
from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from ..accounts import constants as c
from ..accounts import services
from ..accounts.forms import BaseProfileForm, InviteForm
from ..accounts.models import Base, Invitation
from ..audit import AuditEntry
from ..db import get_or_404
from ..extensions import db
from ..mail import mail_enabled, send_mail
from ..scoping import ALL_BASE_ROLES, STAFF_ROLES, base_blueprint, roles_required
from ..panels import panels_for
from .checks import profile_checks

bp = base_blueprint("bases", __name__)
MAX_PAGE = 100_000  # far past any real page; keeps OFFSET within what every database accepts


@bp.route("/")
@roles_required(*ALL_BASE_ROLES)
def dashboard():
    """The base's home page: the panels of the domain packages (the compliance score, deadlines, …) and the
    service team.

    Tenant contacts never see other tenants' contacts or the base's internal checks.
    """
    if g.get("tenant_company_id") and "tenants.portal" in current_app.view_functions:
        return redirect(url_for("tenants.portal"))  # a company's contact starts from its portal
    return render_template("bases/dashboard.html", panels=panels_for(g.base, g.role),
                           team=services.base_members(g.base, roles=STAFF_ROLES),
                           service_functions=[c.SERVICE_FUNCTIONS[key] for key in g.base.service_functions or []
                                              if key in c.SERVICE_FUNCTIONS])


@bp.route("/profile", methods=["GET", "POST"])
@roles_required(c.ROLE_MANAGER)
def profile():
    """View and edit the base profile (DOMAIN.md "Base profile"). Raises Forbidden for non-managers."""
    base = g.base
    form = BaseProfileForm(obj=base)
    if request.method == "GET":
        for zone in base.ordered_zones():
            form.zones[zone.kind].form.area_m2.data = zone.area_m2
            form.zones[zone.kind].form.description.data = zone.description
        form.site_ownership.data = base.site_ownership
        form.service_functions.data = list(base.service_functions or [])
    if form.validate_on_submit():
        if form.version.data != str(base.version):
            return _profile_conflict(form, base)
        try:
            services.update_base_profile(base, form.profile_values(), by=g.user)
            db.session.commit()
        except StaleDataError:
            db.session.rollback()
            return _profile_conflict(form, db.session.get(Base, base.id))
        flash(_("The base profile has been saved."), "success")
        return redirect(url_for("bases.profile"))
    return render_template("bases/profile.html", form=form, checks=profile_checks(base))


def _profile_conflict(form, base):
    """Someone saved the profile since this page was loaded: keep what this user typed, save nothing."""
    form.version.data = str(base.version)
    flash(_("Someone else saved this profile while you were editing it. Your entries are still in the form: "
            "compare them with the saved profile (open it in another tab) and save again."), "warning")
    return render_template("bases/profile.html", form=form, checks=profile_checks(base)), 409


@bp.route("/members", methods=["GET", "POST"])
@roles_required(c.ROLE_MANAGER)
def members():
    """The base's people and pending invitations; POST invites a colleague. Raises Forbidden for non-managers."""
    form = InviteForm(base=g.base)
    invite_link = None
    if form.validate_on_submit():
        invitation, token = services.invite(g.base, email=form.email.data, role=form.role.data, by=g.user)
        db.session.commit()
        invite_link = url_for("auth.accept_invite", token=token, _external=True)
        if mail_enabled():
            _mail_invitation(invitation, invite_link)
        form = InviteForm(base=g.base, formdata=None)
    return render_template("bases/members.html", form=form, invite_link=invite_link,
                           members=services.base_members(g.base),
                           invitations=services.pending_invitations(g.base))


def _mail_invitation(invitation, link):
    subject = _("Invitation to %(base)s", base=g.base.name)
    body = _("%(inviter)s invites you to join %(base)s as %(role)s.\n\nOpen this link to accept "
             "(valid for %(days)d days, usable once):\n%(link)s\n",
             inviter=g.user.name, base=g.base.name, role=invitation.role_label, link=link,
             days=(invitation.expires_at - invitation.created_at).days)
    try:
        send_mail(invitation.email, subject, body)
        flash(_("The invitation was also sent by email."), "info")
    except OSError:
        flash(_("The email could not be sent; give the link to your colleague yourself."), "warning")


@bp.route("/invitations/<int:invitation_id>/revoke", methods=["POST"])
@roles_required(c.ROLE_MANAGER)
def invitation_revoke(invitation_id):
    """Revoke a pending invitation. Raises NotFound outside the base, Forbidden for non-managers."""
    invitation = get_or_404(Invitation, invitation_id)
    if invitation.accepted_at is None and invitation.revoked_at is None:
        services.revoke_invitation(invitation, by=g.user)
        db.session.commit()
        flash(_("The invitation has been revoked."), "success")
    return redirect(url_for("bases.members"))


@bp.route("/audit")
@roles_required(c.ROLE_MANAGER)
def audit_log():
    """The latest changes made in this base. Raises Forbidden for non-managers."""
    page = min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)
    entries = db.paginate(select(AuditEntry).where(AuditEntry.base_id == g.base.id)
                          .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()),
                          page=page, per_page=50, error_out=False)
    return render_template("bases/audit.html", entries=entries)
