"""Language selection: the browser's choice from the switch, else Chinese (zh_CN), the product's default."""
from flask import current_app, g, has_request_context, session


def select_locale():
    """The session's language; outside a request (a scheduled job writing a filing) the default."""
    locale = session.get("locale") if has_request_context() else None
    if locale in current_app.config["LANGUAGES"]:
        return locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone():
    """Dates and times show in the current base's timezone (default Asia/Shanghai)."""
    base = g.get("base")
    return base.timezone if base is not None else current_app.config["BABEL_DEFAULT_TIMEZONE"]
