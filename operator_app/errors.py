"""Error pages: every error answers with a page in the user's language, never a stack trace."""
from flask import current_app, render_template
from sqlalchemy.orm.exc import StaleDataError
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError

from .extensions import db

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Go back and try again.")),
    403: (_l("Not allowed"), _l("Your role in this base does not allow this page. Ask the base manager.")),
    404: (_l("Page not found"), _l("This page does not exist, or you do not have access to it.")),
    405: (_l("Not allowed"), _l("This address does not accept this kind of request.")),
    409: (_l("Conflict"), _l("Someone else changed this at the same moment. Reload the page and try again.")),
    413: (_l("File too large"), _l("What you sent is larger than the %(mb)d MB a request may carry. Send a "
                                   "smaller file.")),
    429: (_l("Too many attempts"), _l("Too many attempts. Wait a while and try again.")),
    500: (_l("Something went wrong"), _l("An error occurred on our side and nothing was saved. "
                                        "Try again; if it happens again, tell us what you were doing.")),
}


def _page(code, message=None):
    title, default = MESSAGES[code]
    if code == 413:
        default = _l("What you sent is larger than the %(mb)d MB a request may carry. Send a smaller file.",
                     mb=current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024))
    return render_template("errors/error.html", code=code, title=title, message=message or default), code


def register(app):
    for code in (400, 403, 404, 405, 409, 413, 429):
        app.register_error_handler(code, lambda error, code=code: _page(code))

    @app.errorhandler(StaleDataError)
    def concurrent_change(error):
        """Two people changed the same record at once: the later one is told, nothing of theirs is half-saved."""
        db.session.rollback()
        return _page(409)

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return _page(400, _l("The form expired or was sent from elsewhere. Reload the page and submit again."))

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        return _page(500)
