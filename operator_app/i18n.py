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


def compile_catalogues():
    """Compile each .po catalogue whose .mo is missing or older (as `make translations`): for the test suite and
    scripts run on a fresh checkout."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    from .config import PROJECT_ROOT

    for po_path in (PROJECT_ROOT / "operator_app" / "translations").glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime:
            with po_path.open("rb") as po_file:
                catalog = read_po(po_file)
            with mo_path.open("wb") as mo_file:
                write_mo(mo_file, catalog)
