"""Views of the ``operators`` blueprint: an operator owner's bases and the creation of a new base."""
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from ..accounts import constants as c
from ..accounts import services
from ..accounts.forms import NewBaseForm
from ..extensions import db
from ..scoping import refuse_writes_when_read_only

bp = Blueprint("operators", __name__, url_prefix="/operator")


@bp.before_request
def _refuse_writes_when_read_only():
    """An operator whose subscription has lapsed cannot create bases; its billing pages (another blueprint)
    stay open so it can pay."""
    if current_user.is_authenticated and current_user.operator_id is not None:
        return refuse_writes_when_read_only(current_user.operator_id)
    return None


def _require_owner():
    if not current_user.is_operator_owner or current_user.operator_id is None:
        abort(403)
    return current_user.operator


@bp.route("/bases")
@login_required
def bases():
    """Every base of the owner's operator. Raises Forbidden for anyone but an operator owner."""
    operator = _require_owner()
    return render_template("operators/bases.html", operator=operator, bases=operator.bases)


@bp.route("/filings")
@login_required
def filings():
    """Every base's recent quarterly filings and last year's summary in one table. Raises Forbidden for anyone
    but an operator owner."""
    from ..filings.services import operator_overview
    from ..timeutil import today_in

    operator = _require_owner()
    quarters, rows = operator_overview(operator.bases, today_in("Asia/Shanghai"))
    return render_template("operators/filings.html", operator=operator, quarters=quarters, rows=rows,
                           today=today_in("Asia/Shanghai"))


@bp.route("/bases/new", methods=["GET", "POST"])
@login_required
def base_create():
    """Create another base of the operator; the owner becomes its manager. Raises Forbidden for non-owners."""
    operator = _require_owner()
    form = NewBaseForm()
    if form.validate_on_submit():
        try:
            base = services.create_base(operator, name=form.base_name.data, slug=form.base_slug.data,
                                        base_type=form.base_type.data, by=current_user)
            services.add_membership(current_user, base, c.ROLE_MANAGER, by=current_user)
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            form.base_slug.errors.append(_("This address is already used by another base."))
            return render_template("operators/base_new.html", form=form)
        flash(_("Base %(name)s created. Complete its profile next.", name=base.name), "success")
        return redirect(url_for("bases.profile", base_slug=base.slug))
    return render_template("operators/base_new.html", form=form)
