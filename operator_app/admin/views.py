"""Views of the ``admin`` blueprint: the working-day calendar for years the package does not cover."""
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..extensions import db
from ..timeutil import utcnow
from ..workcalendar import entered_years, package_covers, save_year
from .forms import CalendarYearForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def _platform_admins_only():
    """Raises Forbidden for anyone but a platform admin."""
    if not current_user.is_platform_admin:
        abort(403)


@bp.route("/calendar", methods=["GET", "POST"])
def calendar():
    """Enter a year's holidays and adjusted working days when the calendar package does not know them yet."""
    form = CalendarYearForm()
    if form.validate_on_submit():
        save_year(form.year.data, form.holiday_dates, form.workday_dates, by=current_user)
        db.session.commit()
        flash(_("The calendar of %(year)d has been saved.", year=form.year.data), "success")
        return redirect(url_for("admin.calendar"))
    this_year = utcnow().year
    status = [(year, package_covers(year)) for year in range(this_year - 1, this_year + 3)]
    return render_template("admin/calendar.html", form=form, years=entered_years(), status=status)
