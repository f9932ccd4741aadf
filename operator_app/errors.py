"""Error pages: every error answers with a page in the user's language, never a stack trace."""
import sqlite3

import psycopg
from flask import current_app, g, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm.exc import StaleDataError

from .extensions import db

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Go back and try again.")),
    403: (_l("Not allowed"), _l("Your role in this base does not allow this page. Ask the base manager.")),
    404: (_l("Page not found"), _l("This page does not exist, or you do not have access to it.")),
    405: (_l("Not allowed"), _l("This address does not accept this kind of request.")),
    409: (_l("Conflict"), _l("Someone else changed this at the same moment. Reload the page and try again.")),
    413: (_l("File too large"), _l("What you sent is larger than the %(size)s a request may carry. Send a "
                                   "smaller file.")),
    429: (_l("Too many attempts"), _l("Too many attempts. Wait a while and try again.")),
    500: (_l("Something went wrong"), _l("An error occurred on our side and nothing was saved. "
                                        "Try again; if it happens again, tell us what you were doing.")),
    503: (_l("Service temporarily unavailable"), _l("The database is temporarily unavailable. Wait a moment and "
                                                    "try again; if you were sending a form, check first whether it "
                                                    "was saved.")),
}

#: Seconds a client is asked to wait before trying again when the database is out of reach.
RETRY_AFTER_SECONDS = 5
#: PostgreSQL SQLSTATEs of a server that is out of reach for now rather than of a wrong statement: every
#: "connection exception" (class 08), the server shutting down, crashed or still starting (57P01-57P03), and no
#: connection slot left (53300). Other OperationalErrors (a cancelled statement, a serialization failure, a
#: deadlock) are the app's to handle and stay 500s when they are not.
UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})


def request_size_text(size):
    """``size`` bytes as the 413 page states it: "25 MB", "1.5 MB", "64 KB", "512 B" (never "0 MB")."""
    for unit, factor in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= factor:
            return f"{size / factor:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} B"


def database_unavailable(error):
    """Whether ``error`` means the database cannot be reached now (down, restarting, the connection lost), as
    opposed to a statement the database refused, which is a bug and must stay a 500."""
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:  # SQLAlchemy recognised a lost connection (and dropped it from the pool)
            return True
        error = error.orig
    if isinstance(error, psycopg.OperationalError):
        state = error.sqlstate  # None: libpq could not connect, or lost the connection, before any answer
        return state is None or state.startswith("08") or state in UNAVAILABLE_SQLSTATES
    if isinstance(error, sqlite3.OperationalError):  # SQLite's only way of not connecting: the file cannot open
        return str(error) == "unable to open database file"
    return False


def _page(code, message=None):
    title, default = MESSAGES[code]
    if code == 413:
        default = _l("What you sent is larger than the %(size)s a request may carry. Send a smaller file.",
                     size=request_size_text(current_app.config["MAX_CONTENT_LENGTH"]))
    return render_template("errors/error.html", code=code, title=title, message=message or default), code


def _forget_the_database():
    """Drop what the request holds from the database before the 503 page is drawn without it: the session's
    transaction, and the current base and user (the layout would otherwise reload them from the database)."""
    try:
        db.session.rollback()
    except (DBAPIError, psycopg.Error, sqlite3.Error):
        db.session().invalidate()  # closes the connections without talking to the server
    for name in ("base", "role", "user", "tenant_company_id"):
        g.pop(name, None)
    g._login_user = current_app.login_manager.anonymous_user()  # Flask-Login's per-request user


def register(app):
    for code in (400, 403, 404, 405, 409, 413, 429):
        app.register_error_handler(code, lambda error, code=code: _page(code))

    @app.errorhandler(StaleDataError)
    def concurrent_change(error):
        """Two people changed the same record at once: the later one is told, nothing of theirs is half-saved."""
        db.session.rollback()
        return _page(409)

    @app.errorhandler(DBAPIError)
    @app.errorhandler(psycopg.OperationalError)
    def database_error(error):
        """The database is restarting or out of reach: 503 with Retry-After, so the person (or a client) tries
        again; the pool has dropped the dead connection and pre-pings the others. Any other database error is a
        bug: it is raised on to the 500 page."""
        if not database_unavailable(error):
            raise error
        # The driver's message only: the statement and its parameters (what a person typed) stay out of the log.
        current_app.logger.warning("Database unavailable, answered 503: %s",
                                   getattr(error, "orig", None) or error)
        _forget_the_database()
        body, code = _page(503)
        return body, code, {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}

    @app.teardown_appcontext
    def end_the_session(error):
        """End the request's session, before Flask-SQLAlchemy's own teardown does (the later registered runs
        first). When the server went away after the page was made, its rollback cannot reach the server and would
        raise out of the finished request, a 500 in place of the page: the dead connection is dropped instead
        (nothing uncommitted could have been kept anyway)."""
        try:
            db.session.remove()
        except (DBAPIError, psycopg.Error) as failure:
            if not database_unavailable(failure):
                raise
            db.session().invalidate()
            db.session.remove()

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return _page(400, _l("The form expired or was sent from elsewhere. Reload the page and submit again."))

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        return _page(500)
