"""The platform package: create_app() and the pieces every domain package builds on."""
import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import PROJECT_ROOT, load_config


def create_app(env_name=None, overrides=None):
    """Build the application for ``env_name`` (APP_ENV, default development) with optional config overrides."""
    env_name = env_name or os.environ.get("APP_ENV", "development")
    app = Flask(__name__, instance_path=str(PROJECT_ROOT / "instance"),
                template_folder=str(PROJECT_ROOT / "templates"), static_folder=str(PROJECT_ROOT / "static"))
    app.config.from_object(load_config(env_name, app.instance_path, overrides))
    if app.config["TRUSTED_PROXIES"]:
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    register_extensions(app)
    if app.config["APP_ENV"] == "production":
        from .rls import refuse_unfit_role

        refuse_unfit_role(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_security_headers(app)
    register_template_context(app)
    register_commands(app)
    register_scheduler(app)
    return app


def register_extensions(app):
    """Bind database, migrations, login, CSRF, translations, Bootstrap and the login counters."""
    from . import models  # noqa: F401  (every model registered before Alembic or the mapper reads them)
    from .accounts.services import load_session_user
    from .extensions import babel, bootstrap, csrf, db, login_manager, migrate
    from .i18n import select_locale, select_timezone
    from .security import init_counters

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), compare_type=True,
                    render_as_batch=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_session_user)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone,
                   default_translation_directories=str(PROJECT_ROOT / "operator_app" / "translations"))
    bootstrap.init_app(app)
    init_counters(app)


def register_blueprints(app):
    """Mount each package's blueprint; base-scoped ones live under /b/<base_slug>/."""
    from .admin.views import bp as admin_bp
    from .auth.views import bp as auth_bp
    from .bases.views import bp as bases_bp
    from .filings.views import bp as filings_bp
    from .operators.views import bp as operators_bp
    from ledger.views import bp as ledger_bp
    from ledger.views import public as ledger_public_bp
    from tenants.views import bp as tenants_bp
    from tenants.views import public as tenants_public_bp

    from billing.stripe_views import subscription_bp, webhook_bp
    from billing.views import bp as billing_bp

    from .scoping import add_base_slug

    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(operators_bp)
    app.register_blueprint(bases_bp)
    app.register_blueprint(tenants_bp)
    app.register_blueprint(tenants_public_bp)
    app.register_blueprint(ledger_bp)
    app.register_blueprint(ledger_public_bp)
    app.register_blueprint(filings_bp)
    app.register_blueprint(billing_bp)
    app.register_blueprint(subscription_bp)
    app.register_blueprint(webhook_bp)
    app.url_defaults(add_base_slug)


def register_errorhandlers(app):
    """Friendly Chinese pages for 400, 403, 404, 405, 409, 429 and 500, and for a missing CSRF token."""
    from .errors import register

    register(app)


def register_security_headers(app):
    """CSP, HSTS (production), nosniff, framing, referrer and no-store headers on every response."""
    from .headers import register

    register(app)


def register_template_context(app):
    """Navigation, the current base and the language switch, available to every template."""
    from .navigation import register

    register(app)


def register_commands(app):
    """The ``flask demo``, ``users``, ``scheduler``, ``jobs``, ``backup`` and ``restore`` commands."""
    from .cli import register

    register(app)


def register_scheduler(app):
    """With SCHEDULER_IN_PROCESS (development), run the scheduled jobs in the web process."""
    from .scheduler import run_in_web_process

    if app.config["SCHEDULER_IN_PROCESS"]:
        run_in_web_process(app)
