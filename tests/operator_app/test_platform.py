"""The platform underneath: configuration, database settings, migrations, translations, error pages, demo."""
import re

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from operator_app import create_app
from operator_app.accounts.models import Base, User
from operator_app.config import PRODUCTION_PASSWORD_HASH, PROJECT_ROOT
from operator_app.demo import DEMO_PASSWORD, DEMO_USERS
from operator_app.extensions import db

from ..conftest import make_app
from ..helpers import Browser


def test_production_refuses_to_start_without_secret_key_and_database(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production")


def test_production_cookies_and_password_cost(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 64)
    monkeypatch.setenv("DATABASE_URL", "postgresql://app@db.internal/prod")
    app = create_app("production")
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["SESSION_COOKIE_NAME"].startswith("__Host-")
    _, n, r, p = app.config["PASSWORD_HASH_METHOD"].split(":")
    assert int(n) >= 2 ** 17 and int(r) >= 8 and int(p) >= 1  # OWASP Password Storage Cheat Sheet
    assert PRODUCTION_PASSWORD_HASH == app.config["PASSWORD_HASH_METHOD"]


def test_development_generates_and_keeps_a_secret_in_the_instance_folder(tmp_path, monkeypatch):
    from operator_app.config import load_config

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    first = load_config("development", tmp_path)
    second = load_config("development", tmp_path)
    assert len(first.SECRET_KEY) == 64 and first.SECRET_KEY == second.SECRET_KEY
    assert first.SQLALCHEMY_DATABASE_URI == f"sqlite:///{tmp_path / 'shuangchuang.db'}"


def test_session_cookie_is_httponly_and_lax(factory, browser):
    base = factory.base("alpha")
    response = browser.post("/login", {"email": base.owner.email, "password": base.owner.password})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_database_engine_settings(app):
    """SQLite: foreign keys ON, WAL and a busy timeout. PostgreSQL: through psycopg 3."""
    with app.app_context(), db.engine.connect() as connection:
        if db.engine.dialect.name == "sqlite":
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 5000
        else:
            assert db.engine.dialect.name == "postgresql" and db.engine.dialect.driver == "psycopg"
            assert connection.execute(text("SHOW search_path")).scalar().startswith("t")  # its own schema


def test_models_and_migrations_agree(app):
    """The schema built by the migrations is exactly what the models declare (no missing migration)."""
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models and migrations disagree; run `flask db migrate`: {diff}"


def test_migrations_downgrade_to_nothing_and_up_again(databases):
    scratch = make_app(databases.new())
    with scratch.app_context():
        upgrade()
        downgrade(revision="base")
        with db.engine.connect() as connection:
            names = set(db.inspect(connection).get_table_names()) - {"alembic_version"}
        assert names == set()
        upgrade()
        with db.engine.connect() as connection:
            assert {"users", "bases", "zones", "audit_entries"} <= set(db.inspect(connection).get_table_names())


def test_every_user_facing_string_has_a_chinese_translation():
    with (PROJECT_ROOT / "operator_app/translations/zh_Hans_CN/LC_MESSAGES/messages.po").open("rb") as handle:
        catalog = read_po(handle)
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "ngettext": (1, 2)}
    missing = []
    for path in ("operator_app", "tenants", "ledger", "billing", "templates"):
        root = PROJECT_ROOT / path
        mapping = method_map if path == "templates" else [("**.py", "python")]
        mapping = [("**.html", "jinja2")] if path == "templates" else mapping
        for filename, lineno, message, _comments, _context in extract_from_dir(root, mapping, keywords=keywords):
            msgid = message if isinstance(message, str) else message[0]
            entry = catalog.get(msgid)
            if entry is None or not entry.string or entry.fuzzy:
                missing.append(f"{path}/{filename}:{lineno}: {msgid!r}")
    assert not missing, "untranslated (run `make messages` and translate):\n" + "\n".join(missing)


def test_friendly_404_and_500_pages_in_chinese(databases, app):
    broken = make_app(app.config["SQLALCHEMY_DATABASE_URI"], PROPAGATE_EXCEPTIONS=False)
    broken.add_url_rule("/boom", "boom", lambda: 1 / 0)
    client = broken.test_client()
    response = client.get("/boom")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "系统出错了" in page and "ZeroDivisionError" not in page and "Traceback" not in page
    response = client.get("/no/such/page")
    assert response.status_code == 404 and "页面不存在" in response.get_data(as_text=True)


def test_bootstrap_is_served_from_the_installed_package_not_a_cdn(browser):
    page = browser.get("/login").get_data(as_text=True)
    stylesheets = re.findall(r'<link[^>]+href="([^"]+\.css)"', page)
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', page)
    assert stylesheets and scripts
    for url in stylesheets + scripts:
        assert url.startswith("/"), url
        assert browser.get(url).status_code == 200, url


def test_demo_load_fills_an_empty_database_once_and_its_logins_work(databases):
    demo_app = make_app(databases.new())
    with demo_app.app_context():
        upgrade()
    runner = demo_app.test_cli_runner()
    result = runner.invoke(args=["demo", "load", "--if-empty"])
    assert result.exit_code == 0, result.output
    for email, name, _role, _ in DEMO_USERS:
        assert email in result.output and name in result.output
    again = runner.invoke(args=["demo", "load", "--if-empty"])
    assert again.exit_code == 0 and "already" in again.output
    with demo_app.app_context():
        assert db.session.scalar(select(db.func.count(Base.id))) == 1
        assert db.session.scalar(select(db.func.count(User.id))) == len(DEMO_USERS)
    browser = Browser(demo_app.test_client())
    response = browser.post("/login", {"email": DEMO_USERS[3][0], "password": DEMO_PASSWORD})
    assert response.status_code == 302
    page = browser.get("/", follow_redirects=True).get_data(as_text=True)
    assert "晋阳小微企业双创基地" in page and "企业联系人" in page


def test_a_concurrent_change_caught_at_flush_is_a_friendly_409(databases, app):
    from sqlalchemy.orm.exc import StaleDataError

    def clash():
        raise StaleDataError("row changed by another request")

    racing = make_app(app.config["SQLALCHEMY_DATABASE_URI"], PROPAGATE_EXCEPTIONS=False)
    racing.add_url_rule("/clash", "clash", clash)
    response = racing.test_client().get("/clash")
    assert response.status_code == 409 and "其他人刚刚修改了同一内容" in response.get_data(as_text=True)
