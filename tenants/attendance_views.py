"""Views of workstation attendance, on the ``tenants`` blueprint (and the public check-in): people, check-in
points and their daily QR codes, the month page, a company's days, the staff grid, the sheet, its import."""
from datetime import date, timedelta
from io import BytesIO

import segno
from flask import abort, current_app, flash, g, make_response, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError

from operator_app.accounts import constants as ac
from operator_app.db import get_or_404
from operator_app.extensions import db
from operator_app.panels import register_panel
from operator_app.scoping import ALL_BASE_ROLES, STAFF_ROLES, roles_required
from operator_app.security import login_succeeded, register_login_attempt
from operator_app.timeutil import add_months, month_key, today_in

from . import attendance, attendance_services as services
from . import constants as c
from .attendance_forms import AttendanceSettingsForm, CheckInLoginForm, PersonForm, PointForm
from .models import CheckInPoint, WorkstationPerson
from .rules import rules_of
from .views import EDITORS, XLSX, _company_or_404, bp, public

PEOPLE_KEEPERS = EDITORS + (ac.ROLE_TENANT,)  # a tenant contact registers its own company's people
CHECKIN_COOKIE = "checkin_person"
CHECKIN_COOKIE_DAYS = 365


def _today():
    return today_in(g.base.timezone)


def _month():
    return attendance.parse_month(request.args.get("month"), _today())


@bp.route("/attendance")
@roles_required(*STAFF_ROLES)
def attendance_month():
    """Every workstation company's average for the month, met or not, and its trend."""
    year, month = _month()
    today = _today()
    earlier_months = [tuple(int(part) for part in _shift(year, month, back).split("-")) for back in (-2, -1)]
    *earlier, data = services.months_data(g.base, earlier_months + [(year, month)], today)
    trend = {}
    for previous in earlier:
        for row in previous.companies:
            trend.setdefault(row.company.id, []).append(row.average)
    rules = rules_of(g.base)
    return render_template("tenants/attendance_month.html", data=data, trend=trend, rules=rules,
                           settings_form=AttendanceSettingsForm(formdata=None, obj=rules)
                           if g.role == ac.ROLE_MANAGER else None,
                           previous=_shift(year, month, -1), following=_shift(year, month, 1))


def _shift(year, month, by):
    return month_key(add_months(date(year, month, 1), by))


@bp.route("/attendance/settings", methods=["POST"])
@roles_required(ac.ROLE_MANAGER)
def attendance_settings():
    """The days a week the base requires. Raises Forbidden for non-managers."""
    form = AttendanceSettingsForm()
    if form.validate_on_submit():
        services.save_settings(g.base, attendance_days=form.attendance_days.data, by=g.user)
        db.session.commit()
        flash(_("The attendance threshold has been saved."), "success")
    else:
        flash("；".join(str(error) for error in form.attendance_days.errors) or _("The form expired."), "warning")
    return redirect(url_for("tenants.attendance_month"))


@bp.route("/<int:company_id>/attendance", methods=["GET", "POST"])
@roles_required(*ALL_BASE_ROLES)
def attendance_company(company_id):
    """A company's month, person by person; staff correct a week in the grid (audited). Raises NotFound."""
    company = _company_or_404(company_id)
    today = _today()
    if request.method == "POST":
        if g.role not in EDITORS:
            abort(403)
        return _save_week(company, today)
    year, month = _month()
    data = services.month_data(g.base, year, month, today, [company])
    week_start = _week_start(request.args.get("week"), today)
    week = [week_start + timedelta(days=n) for n in range(7)]
    people = services.people_of(company)
    marks = _marks(company, week)
    return render_template("tenants/attendance_company.html", company=company, data=data, row=data.companies[0],
                           week=week, people=people, marks=marks, today=today, editable=g.role in EDITORS,
                           previous=_shift(year, month, -1), following=_shift(year, month, 1),
                           month_key=f"{year:04d}-{month:02d}")


def _week_start(text, today):
    try:
        day = date.fromisoformat(text) if text else today
    except ValueError:
        day = today
    if not 2000 <= day.year <= 2100:
        day = today
    return day - timedelta(days=day.weekday())


def _marks(company, week):
    """The (person id, day) cells of the week that are on site."""
    present = services.present_days([company.id], week[0], week[-1])
    return {(person_id, day) for person_id, days in present.items() for day in days}


def _save_week(company, today):
    from operator_app.forms import AppForm

    if not AppForm().validate_on_submit():
        abort(400)
    week_start = _week_start(request.form.get("week"), today)
    week = [week_start + timedelta(days=n) for n in range(7)]
    try:
        _apply_week(company, week, today)
        db.session.commit()
    except IntegrityError:  # a check-in landed on one of these days at the same moment
        db.session.rollback()
        flash(_("Someone checked in while you were saving; nothing was saved. Look at the week and save again."),
              "warning")
        return redirect(url_for("tenants.attendance_company", company_id=company.id, week=week_start.isoformat()))
    flash(_("The week has been saved; corrections are in the audit log."), "success")
    return redirect(url_for("tenants.attendance_company", company_id=company.id, week=week_start.isoformat(),
                            month=f"{week_start.year:04d}-{week_start.month:02d}"))


def _apply_week(company, week, today):
    for person in services.people_of(company):
        for day in week:
            # Future days and days outside the person's registration cannot be marked.
            if day > today or day < person.active_from or (person.deactivated_on and day >= person.deactivated_on):
                continue
            key = f"p{person.id}_{day.isoformat()}"
            present, was = bool(request.form.get(key)), bool(request.form.get("was_" + key))
            if present != was:  # only what this user changed: a check-in since the page loaded stays
                services.set_presence(person, day, present, source=c.ATTENDANCE_STAFF, by=g.user)


@bp.route("/attendance/sheet.xlsx")
@roles_required(*STAFF_ROLES)
def attendance_export():
    """The month's attendance sheet (考勤表): one sheet per company, people × days, totals, signatures."""
    from .attendance_exports import month_sheet_xlsx

    year, month = _month()
    data = services.month_data(g.base, year, month, _today())
    return send_file(BytesIO(month_sheet_xlsx(g.base, data)), mimetype=XLSX, as_attachment=True,
                     download_name=f"{g.base.slug}-attendance-{year:04d}-{month:02d}.xlsx")


@bp.route("/attendance/import", methods=["GET", "POST"])
@roles_required(*EDITORS)
def attendance_import():
    """Import a month's paper sheet typed into the exported layout: all rows or none."""
    from operator_app.forms import AppForm

    from .attendance_imports import import_month_sheet

    errors = None
    year, month = attendance.parse_month(request.values.get("month"), _today())
    if request.method == "POST" and AppForm().validate_on_submit():
        errors, count = import_month_sheet(request.files.get("file"), year, month, today=_today(), by=g.user)
        if not errors:
            db.session.commit()
            flash(_("%(n)d days of presence have been imported.", n=count), "success")
            return redirect(url_for("tenants.attendance_month", month=f"{year:04d}-{month:02d}"))
        db.session.rollback()
    return render_template("tenants/attendance_import.html", errors=errors,
                           month_key=f"{year:04d}-{month:02d}"), (422 if errors else 200)


@bp.route("/<int:company_id>/people", methods=["GET", "POST"])
@roles_required(*PEOPLE_KEEPERS)
def people_manage(company_id):
    """The people who work at the company's workstations; a new person's PIN is shown once. Raises NotFound."""
    company = _company_or_404(company_id)
    form = PersonForm()
    pin = None
    if form.validate_on_submit():
        if services.find_person_by_phone(form.phone.data):
            form.phone.errors.append(_("Someone registered in this base already has this mobile number."))
        else:
            person, pin = services.register_person(company, name=form.name.data, phone=form.phone.data,
                                                   today=_today(), by=g.user)
            db.session.commit()
            flash(_("%(name)s is registered. Give them the check-in PIN below; it is shown only now.",
                    name=person.name), "success")
            form = PersonForm(formdata=None)
    return render_template("tenants/people.html", company=company, people=services.people_of(company), form=form,
                           pin=pin)


def _person(company, person_id):
    return get_or_404(WorkstationPerson, person_id, company_id=company.id)


@bp.route("/<int:company_id>/people/<int:person_id>/deactivate", methods=["POST"])
@roles_required(*PEOPLE_KEEPERS)
def person_deactivate(company_id, person_id):
    """The person has left the company; their days stay on the sheets. Raises NotFound."""
    company = _company_or_404(company_id)
    person = _person(company, person_id)
    if person.is_active:
        services.deactivate_person(person, today=_today(), by=g.user)
        db.session.commit()
        flash(_("%(name)s no longer counts from today.", name=person.name), "success")
    return redirect(url_for("tenants.people_manage", company_id=company.id))


@bp.route("/<int:company_id>/people/<int:person_id>/pin", methods=["POST"])
@roles_required(*PEOPLE_KEEPERS)
def person_reset_pin(company_id, person_id):
    """A new check-in PIN (a lost phone, a shared PIN). Raises NotFound."""
    company = _company_or_404(company_id)
    person = _person(company, person_id)
    if not person.is_active:
        flash(_("%(name)s has left; there is no PIN to renew.", name=person.name), "warning")
        return redirect(url_for("tenants.people_manage", company_id=company.id))
    pin = services.reset_pin(person, by=g.user)
    db.session.commit()
    # Shown on this page only, never put in the (signed but readable) session cookie.
    return render_template("tenants/people.html", company=company, people=services.people_of(company),
                           form=PersonForm(formdata=None), pin=pin, pin_for=person)


@bp.route("/attendance/points", methods=["GET", "POST"])
@roles_required(ac.ROLE_MANAGER)
def points_manage():
    """The base's check-in points (entrances, areas). Raises Forbidden for non-managers."""
    form = PointForm()
    if form.validate_on_submit():
        services.create_point(form.name.data, by=g.user)
        db.session.commit()
        flash(_("The check-in point has been added."), "success")
        return redirect(url_for("tenants.points_manage"))
    return render_template("tenants/points.html", points=services.points(), form=form)


@bp.route("/attendance/points/<int:point_id>")
@roles_required(*STAFF_ROLES)
def point_show(point_id):
    """Today's QR code of a check-in point, to show on a screen or print each morning. Raises NotFound."""
    point = get_or_404(CheckInPoint, point_id)
    today = _today()
    link = url_for("tenants_public.public_checkin", point_id=point.id, code=services.point_code(point, today),
                   _external=True)
    svg = BytesIO()
    segno.make(link, error="m").save(svg, kind="svg", scale=8, xmldecl=False, svgns=True)
    return render_template("tenants/point.html", point=point, today=today, link=link,
                           svg=svg.getvalue().decode())


# --- The public check-in ------------------------------------------------------------------------------------

def _serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="workstation-checkin")


def _remembered_person():
    try:
        data = _serializer().loads(request.cookies.get(CHECKIN_COOKIE, ""), max_age=CHECKIN_COOKIE_DAYS * 86400)
    except BadSignature:  # SignatureExpired included
        return None
    if not isinstance(data, dict) or data.get("b") != g.base.id:
        return None
    person = db.session.get(WorkstationPerson, data.get("p")) if isinstance(data.get("p"), int) else None
    if person is None or not person.is_active or person.pin_version != data.get("v"):
        return None
    return person


@public.route("/checkin/<int:point_id>/<code>", methods=["GET", "POST"])
def public_checkin(point_id, code):
    """Check in by scanning today's code; the phone is remembered after the first PIN. An old or unknown code
    is refused with a message."""
    point = db.session.get(CheckInPoint, point_id) if 0 < point_id < 2**31 else None
    today = today_in(g.base.timezone)
    if point is None or point.base_id != g.base.id or not services.code_is_valid(point, code, today):
        return render_template("tenants/checkin_invalid.html"), 404
    person = _remembered_person()
    form = CheckInLoginForm()
    set_cookie = None
    if person is None:
        if not form.validate_on_submit():
            return render_template("tenants/checkin.html", form=form, point=point, person=None)
        ip = request.remote_addr or "unknown"
        throttle_key = f"checkin:{g.base.id}:{form.phone.data}"
        if not register_login_attempt(throttle_key, ip):
            form.pin.errors.append(_("Too many failed attempts. Wait a quarter of an hour and try again."))
            return render_template("tenants/checkin.html", form=form, point=point, person=None), 429
        candidate = services.find_person_by_phone(form.phone.data)
        if not services.pin_matches(candidate, form.pin.data):
            form.pin.errors.append(_("This mobile number and PIN do not match a person registered here."))
            return render_template("tenants/checkin.html", form=form, point=point, person=None)
        login_succeeded(throttle_key, ip)
        person = candidate
        set_cookie = _serializer().dumps({"b": g.base.id, "p": person.id, "v": person.pin_version})
    try:
        record, already = services.check_in(person, point, today=today)
        db.session.commit()
    except IntegrityError:  # two scans at the same moment: the other one checked in
        db.session.rollback()
        record, already = services.check_in(person, point, today=today)
    response = make_response(render_template("tenants/checkin_done.html", person=person, record=record,
                                             already=already, point=point))
    if set_cookie:
        response.set_cookie(CHECKIN_COOKIE, set_cookie, max_age=CHECKIN_COOKIE_DAYS * 86400, httponly=True,
                            samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def _below_threshold_context(base):
    today = today_in(base.timezone)
    data = services.month_data(base, today.year, today.month, today)
    return {"below": [row for row in data.companies if row.status == "not_met"], "data": data}


register_panel("tenants/_attendance_panel.html", _below_threshold_context, STAFF_ROLES, order=30)
