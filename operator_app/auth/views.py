"""Views of the ``auth`` blueprint: home, login, logout, signup, password change, invitations, language."""
from urllib.parse import urlsplit

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request, session,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy.exc import IntegrityError

from ..accounts import services
from ..accounts.forms import (AcceptExistingUserForm, AcceptNewUserForm, ChangePasswordForm, LoginForm,
                              SignupForm)
from ..extensions import db
from ..scoping import refuse_writes_when_read_only
from ..mail import mail_enabled
from ..security import login_succeeded, register_login_attempt, register_signup, verify_password

bp = Blueprint("auth", __name__)


def _client_ip():
    return request.remote_addr or "unknown"


def safe_next(target):
    """``target`` when it is a path on this site, else None (no open redirect via ``next``)."""
    if not target:
        return None
    # Browsers drop tabs and newlines inside a URL and treat some other control or space characters loosely,
    # so "/\t/evil.example" would become "//evil.example": no path of ours holds any of them.
    if any(char.isspace() or ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def _fresh_session():
    """Empty the cookie session (nothing carried across a login or logout) except the chosen language."""
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale


def _log_in(user, remember=False):
    """Start a fresh server-side session and set the cookie."""
    _fresh_session()
    services.start_session(user, request.remote_addr, request.headers.get("User-Agent", ""))
    login_user(user, remember=remember)


@bp.route("/")
def home():
    """Landing page for visitors; a signed-in user goes to their only base or picks one."""
    if not current_user.is_authenticated:
        return render_template("auth/landing.html")
    bases = current_user.accessible_bases()
    if len(bases) == 1 and not current_user.is_operator_owner:
        return redirect(url_for("bases.dashboard", base_slug=bases[0].slug))
    return render_template("auth/home.html", bases=bases)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in with email and password. Answers 429 after too many failures for the account or the address."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or url_for("auth.home"))
    form = LoginForm()
    if form.validate_on_submit():
        ip = _client_ip()
        if not register_login_attempt(form.email.data, ip):
            form.password.errors.append(_("Too many failed attempts. Wait a quarter of an hour and try again."))
            return render_template("auth/login.html", form=form), 429
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            form.password.errors.append(_("Wrong email or password."))
            return render_template("auth/login.html", form=form), 200
        login_succeeded(form.email.data, ip)
        _log_in(user, remember=form.remember.data)
        db.session.commit()
        return redirect(safe_next(request.args.get("next")) or url_for("auth.home"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Log out and revoke this session server-side, so a copy of its cookie is worthless."""
    services.end_session(current_user.session_token)
    db.session.commit()
    logout_user()
    _fresh_session()
    flash(_("You have logged out."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    """Sign up an operator with its first base and the owner account; logs the owner in."""
    if current_user.is_authenticated:
        return redirect(url_for("auth.home"))
    form = SignupForm()
    if form.validate_on_submit():
        if not register_signup(_client_ip()):
            form.email.errors.append(_("Too many sign-ups from this network. Wait a quarter of an hour and try again."))
            return render_template("auth/signup.html", form=form), 429
        try:
            user, base = services.sign_up_operator(
                operator_name=form.operator_name.data, base_name=form.base_name.data,
                base_slug=form.base_slug.data, base_type=form.base_type.data, user_name=form.user_name.data,
                email=form.email.data, password=form.password.data)
            db.session.commit()
        except IntegrityError:
            # Another signup took the email or slug between validation and commit.
            db.session.rollback()
            form.email.errors.append(_("This email or web address was just taken. Check both and try again."))
            return render_template("auth/signup.html", form=form), 200
        _log_in(user)
        db.session.commit()
        flash(_("Welcome! Complete the base profile so the compliance checks can work."), "success")
        return redirect(url_for("bases.profile", base_slug=base.slug))
    return render_template("auth/signup.html", form=form)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change the password; every other session of the user ends."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        if not register_login_attempt(user.email, _client_ip()):
            form.current.errors.append(_("Too many failed attempts. Wait a quarter of an hour and try again."))
            return render_template("auth/password.html", form=form), 429
        if not verify_password(user.password_hash, form.current.data):
            form.current.errors.append(_("The current password is wrong."))
        else:
            login_succeeded(user.email, _client_ip())
            services.change_password(user, form.password.data)
            db.session.commit()
            flash(_("Your password has been changed. Other devices have been logged out."), "success")
            return redirect(url_for("auth.home"))
    return render_template("auth/password.html", form=form)


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invite(token):
    """Accept an invitation: a new person creates an account, a signed-in person joins the base.

    Raises NotFound for an unknown, used, revoked or expired token.
    """
    invitation = services.find_invitation(token)
    if invitation is None:
        return render_template("auth/invite_invalid.html"), 404
    base = invitation.base
    # Joining creates a user and a membership: refused (the read-only page) while the operator's bases are
    # read-only for non-payment. Reading the invitation stays open.
    refused = refuse_writes_when_read_only(base.operator_id)
    if refused is not None:
        return refused
    if current_user.is_authenticated:
        user = current_user._get_current_object()
        if not services.invitation_is_for(invitation, user):
            return render_template("auth/invite_wrong_account.html", invitation=invitation), 403
        form = AcceptExistingUserForm()
        if form.validate_on_submit():
            already = user.membership_in(base)
            try:
                services.accept_invitation(invitation, user)
                db.session.commit()
            except IntegrityError:
                db.session.rollback()
                abort(409)
            if already:
                flash(_("You are already a member of %(base)s as %(role)s; your role is unchanged.",
                        base=base.name, role=already.role_label), "info")
            else:
                flash(_("You have joined %(base)s.", base=base.name), "success")
            return redirect(url_for("bases.dashboard", base_slug=base.slug))
        return render_template("auth/invite_accept.html", invitation=invitation, form=form, existing=True)
    if services.email_taken(invitation.email):
        flash(_("You already have an account. Log in to accept the invitation."), "info")
        return redirect(url_for("auth.login", next=request.path))
    form = AcceptNewUserForm()
    if form.validate_on_submit():
        try:
            user = services.create_user(invitation.email, form.name.data, form.password.data, form.phone.data or "")
            services.accept_invitation(invitation, user)
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            abort(409)
        _log_in(user)
        db.session.commit()
        flash(_("Welcome to %(base)s.", base=base.name), "success")
        return redirect(url_for("bases.dashboard", base_slug=base.slug))
    return render_template("auth/invite_accept.html", invitation=invitation, form=form, existing=False)


@bp.route("/lang/<code>")
def set_language(code):
    """Switch the interface language for this browser. Raises NotFound for an unknown language."""
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    session["locale"] = code
    return redirect(safe_next(request.args.get("next")) or url_for("auth.home"))


@bp.app_context_processor
def _mail_flag():
    return {"mail_enabled": mail_enabled}
