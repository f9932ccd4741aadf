"""Views of the ``filings`` blueprint: the quarterly filings of a base (list, each version with the records behind
every figure, downloads, submission, a new version), their settings, and the dashboard's countdown.

The annual work summary and the compliance page add their routes to this blueprint from their own modules.
"""
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..accounts import constants as ac
from ..accounts.constants import SERVICE_FUNCTIONS
from ..db import get_or_404
from ..extensions import db
from ..panels import register_panel
from ..scoping import base_blueprint, roles_required
from ..storage import send_stored
from ..timeutil import today_in
from . import services
from .forms import FilingSettingsForm, NewVersionForm, SubmitForm
from .labels import INDICATOR_LABELS, UNIT_LABELS
from .models import SUBMITTED_BY_ENDPOINT, SUBMITTED_BY_HAND, QuarterlyFiling
from .snapshot import INDICATORS

bp = base_blueprint("filings", __name__, "/filings")
READERS = (ac.ROLE_MANAGER, ac.ROLE_STAFF)
DOWNLOADS = ("xlsx", "csv", "json")


def base_today():
    """The current base's own date (its time zone)."""
    return today_in(g.base.timezone)


def _quarter_or_404(year, quarter):
    if not (2000 <= year <= 2100 and 1 <= quarter <= 4):
        abort(404)
    if (year, quarter) >= services.quarter_of(base_today()):
        abort(404)  # a quarter not over yet has no filing
    return year, quarter


@bp.route("/")
@roles_required(*READERS)
def index():
    """The base's filings: the recent quarters (with or without a filing yet) and what is due next."""
    today = base_today()
    filed = {(filing.year, filing.quarter): filing for filing in services.latest_filings()}
    last = services.previous_quarter(*services.quarter_of(today))  # offered even to a base created after it
    quarters = sorted({*services.ended_quarters(g.base, today), last, *filed}, reverse=True)
    settings = services.settings_of(g.base)
    rows = [(year, quarter, filed.get((year, quarter)),
             filed[(year, quarter)].deadline_on if (year, quarter) in filed
             else services.deadline(year, quarter, settings)) for year, quarter in quarters]
    return render_template("filings/index.html", rows=rows, due=services.next_due(g.base, today), today=today,
                           settings=settings)


@bp.route("/quarterly/<int:year>/<int:quarter>")
@roles_required(*READERS)
def quarter(year, quarter):
    """The latest version of a quarter's filing (or the offer to generate it now): the quarter's lasting
    address, for the dashboard and the job's mails."""
    year, quarter = _quarter_or_404(year, quarter)
    filing = services.latest(year, quarter)
    if filing is not None:
        return _filing_page(filing, SubmitForm(), NewVersionForm())
    return render_template("filings/quarter_empty.html", year=year, quarter=quarter,
                           deadline_on=services.deadline(year, quarter, services.settings_of(g.base)))


@bp.route("/quarterly/<int:year>/<int:quarter>/generate", methods=["POST"])
@roles_required(ac.ROLE_MANAGER)
def generate(year, quarter):
    """Generate the quarter's filing now, or regenerate its draft, from the records as they stand."""
    year, quarter = _quarter_or_404(year, quarter)
    try:
        filing = services.generate(g.base, year, quarter, today=base_today(), by=g.user)
        if filing is None:
            db.session.rollback()
            flash(_("This quarter's filing is submitted and frozen: make a new version with a reason."), "warning")
            filing = services.latest(year, quarter)
            return redirect(url_for("filings.filing", filing_id=filing.id) if filing else url_for("filings.index"))
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        flash(_("The filing was regenerated at the same moment by someone else; it is up to date."), "info")
        return redirect(url_for("filings.quarter", year=year, quarter=quarter))
    flash(_("The filing has been generated from the records as they stand today."), "success")
    return redirect(url_for("filings.filing", filing_id=filing.id))


@bp.route("/<int:filing_id>")
@roles_required(*READERS)
def filing(filing_id):
    """One version of a quarter's filing: every figure with the records it was computed from."""
    return _filing_page(get_or_404(QuarterlyFiling, filing_id), SubmitForm(), NewVersionForm())


def _filing_page(filing, submit_form, version_form):
    all_versions = services.versions(filing.year, filing.quarter)
    return render_template("filings/filing.html", filing=filing, figures=filing.figures, versions=all_versions,
                           is_latest=all_versions[0].id == filing.id, indicators=INDICATORS,
                           indicator_labels=INDICATOR_LABELS, unit_labels=UNIT_LABELS,
                           service_function_label=lambda key: SERVICE_FUNCTIONS.get(key, key),
                           settings=services.settings_of(g.base), submit_form=submit_form,
                           version_form=version_form)


@bp.route("/<int:filing_id>/download/<file_format>")
@roles_required(*READERS)
def download(filing_id, file_format):
    """A version's file, exactly as it was written when the version was generated."""
    filing = get_or_404(QuarterlyFiling, filing_id)
    if file_format not in DOWNLOADS:
        abort(404)
    stored = getattr(filing, f"{file_format}_file")
    if stored is None:
        abort(404)
    try:
        return send_stored(stored)
    except FileNotFoundError:  # the draft was regenerated a moment ago and its old file is gone
        flash(_("The draft was regenerated meanwhile: download it again."), "info")
        return redirect(url_for("filings.filing", filing_id=filing.id))


@bp.route("/<int:filing_id>/submit", methods=["POST"])
@roles_required(ac.ROLE_MANAGER)
def submit(filing_id):
    """Submit the latest draft: POSTed to the provincial endpoint when one is configured, else recorded as
    uploaded by hand. Either way the version is frozen once submitted."""
    from . import endpoint

    filing = get_or_404(QuarterlyFiling, filing_id)
    form = SubmitForm()
    if not form.validate_on_submit():
        flash(_("The note is too long (at most 2000 characters)."), "danger")
        return redirect(url_for("filings.filing", filing_id=filing.id))
    settings = services.settings_of(g.base)
    try:
        services.check_submittable(filing, lock=True)  # before anything is sent: a repeat or an old tab sends nothing
        if settings.endpoint_url:
            answer = endpoint.send(filing, settings, by=g.user, timeout=5)  # at most ~20 s in all
            if not answer.succeeded:
                db.session.commit()  # the attempts are kept, the filing stays a draft
                flash(_("The provincial platform did not accept the filing: %(error)s. Nothing was marked "
                        "submitted; try again, or upload the files by hand.", error=answer.message), "danger")
                return redirect(url_for("filings.filing", filing_id=filing.id))
            services.mark_submitted(filing, via=SUBMITTED_BY_ENDPOINT, note=form.note.data, by=g.user)
        else:
            services.mark_submitted(filing, via=SUBMITTED_BY_HAND, note=form.note.data, by=g.user)
        db.session.commit()
    except services.FilingError as error:
        db.session.rollback()
        flash(str(error.message), "warning")
        return redirect(url_for("filings.filing", filing_id=filing.id))
    except StaleDataError:
        db.session.rollback()
        flash(_("The filing changed while you were submitting it; check it and submit again."), "warning")
        return redirect(url_for("filings.filing", filing_id=filing_id))
    flash(_("The filing is marked submitted; this version is now frozen."), "success")
    return redirect(url_for("filings.filing", filing_id=filing.id))


@bp.route("/<int:filing_id>/new-version", methods=["POST"])
@roles_required(ac.ROLE_MANAGER)
def new_version(filing_id):
    """Regenerate a submitted quarter as a new version (a draft), with the reason why."""
    filing = get_or_404(QuarterlyFiling, filing_id)
    form = NewVersionForm()
    if not form.validate_on_submit():
        return _filing_page(filing, SubmitForm(formdata=None), form), 422
    try:
        following = services.new_version(g.base, filing, form.reason.data, today=base_today(), by=g.user)
        db.session.commit()
    except services.FilingError as error:
        db.session.rollback()
        flash(str(error.message), "warning")
        return redirect(url_for("filings.filing", filing_id=filing.id))
    flash(_("Version %(n)d has been generated as a draft.", n=following.version), "success")
    return redirect(url_for("filings.filing", filing_id=following.id))


@bp.route("/settings", methods=["GET", "POST"])
@roles_required(ac.ROLE_MANAGER)
def settings():
    """The deadline rule and the provincial endpoint."""
    current = services.settings_of(g.base)
    form = FilingSettingsForm(obj=current)
    if request.method == "GET":
        form.endpoint_token.data = ""
    if form.validate_on_submit():
        try:
            services.save_settings(g.base, {name: getattr(form, name).data for name in services.SETTINGS_FIELDS},
                                   by=g.user)
            db.session.commit()
        except (StaleDataError, IntegrityError):  # changed, or first saved, by someone else meanwhile
            db.session.rollback()
            flash(_("Someone else saved these settings meanwhile; check them and save again."), "warning")
            return render_template("filings/settings.html", form=form, has_token=bool(current.endpoint_token)), 409
        flash(_("The filing settings have been saved; the deadlines of the drafts not yet submitted follow them."),
              "success")
        return redirect(url_for("filings.settings"))
    return render_template("filings/settings.html", form=form, has_token=bool(current.endpoint_token))


def _due_context(base):
    return {"due": services.next_due(base, today_in(base.timezone))}


register_panel("filings/_due_panel.html", _due_context, (ac.ROLE_MANAGER, ac.ROLE_STAFF), order=5)

from . import jobs  # noqa: E402,F401  (registers the daily job)
from . import annual_views  # noqa: E402,F401
from . import compliance_views  # noqa: E402,F401
