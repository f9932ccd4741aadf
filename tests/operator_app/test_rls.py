"""PostgreSQL row-level security, the second wall behind the ORM's base criteria (issue 10, item 2).

These tests make a PostgreSQL schema of their own whichever database the run is for: the embedded SQLite default
has no row-level security, and the wall is what a PostgreSQL deployment relies on. The app connects as a role
that owns nothing and is not a superuser; migrations ran as the owner (tests/conftest.py)."""
import pytest
from psycopg.errors import InsufficientPrivilege
from sqlalchemy import create_engine, event, inspect, select, text
from sqlalchemy.exc import ProgrammingError

from operator_app.db import BaseOwnedMixin, scoped_to, unscoped
from operator_app.extensions import db
from operator_app.rls import app_role_problems
from tenants.models import TenantCompany

from ..conftest import make_app
from ..helpers import Browser, Factory

# Tables with a base_id column that are not owned by one base, and why no policy confines them.
NOT_BASE_OWNED = {
    "memberships": "links a user to the bases they work in; read at login before any base is chosen",
    "audit_entries": "the audit trail also records account-level events with no base",
    "stripe_events": "a Stripe event is recorded before the base it concerns is known",
}


@pytest.fixture(scope="module")
def pg(pg_app):
    return pg_app


@pytest.fixture
def world(pg):
    factory = Factory(pg)
    base_a, base_b = factory.base("rls-alpha"), factory.base("rls-bravo")
    ids = {"a": factory.company(base_a, name="阿尔法公司"), "b": factory.company(base_b, name="布拉沃公司")}
    yield factory, base_a, base_b, ids
    owner = create_engine(pg.config["MIGRATION_DATABASE_URL"])
    with pg.app_context():
        db.session.remove()
        names = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
    with owner.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    owner.dispose()


def company_bases(sql="SELECT base_id FROM tenant_companies ORDER BY base_id"):
    return [row[0] for row in db.session.execute(text(sql))]


def test_every_base_owned_table_has_forced_row_security_and_a_policy(pg):
    with pg.app_context():
        owned = {mapper.local_table.name for mapper in db.Model.registry.mappers
                 if issubclass(mapper.class_, BaseOwnedMixin)}
        inspector = inspect(db.engine)
        with_base_id = {name for name in inspector.get_table_names()
                        if "base_id" in {column["name"] for column in inspector.get_columns(name)}}
        assert with_base_id - owned == set(NOT_BASE_OWNED), "a table with base_id is neither owned nor explained"
        rows = db.session.execute(text(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'r'"
        )).all()
        security = {name: (enabled, forced) for name, enabled, forced in rows}
        policies = {}
        for table, command, using, check in db.session.execute(text(
                "SELECT tablename, cmd, qual, with_check FROM pg_policies WHERE schemaname = current_schema()")):
            policies.setdefault(table, []).append((command, using, check))
    missing = sorted(table for table in owned if security.get(table) != (True, True) or table not in policies)
    assert not missing, f"base-owned tables without forced row-level security and a policy: {missing}"
    for table in owned:
        for command, using, check in policies[table]:
            assert command == "ALL"
            assert "app.base_id" in using and "app.base_id" in check, table


def test_the_app_role_owns_nothing_and_cannot_bypass_row_security(pg):
    with pg.app_context():
        assert app_role_problems(db.session.connection()) == []
        db.session.rollback()
    owner = create_engine(pg.config["MIGRATION_DATABASE_URL"])
    with owner.connect() as connection:
        assert any("owns" in problem for problem in app_role_problems(connection))
    owner.dispose()


def test_raw_sql_returns_only_the_current_base_and_nothing_without_one(pg, world):
    _, base_a, base_b, _ = world
    with pg.app_context():
        assert company_bases() == []
        with scoped_to(base_a.id):
            assert company_bases() == [base_a.id]
        with scoped_to(base_b.id):
            assert company_bases() == [base_b.id]
            assert company_bases("SELECT base_id FROM tenant_companies WHERE base_id = "
                                 f"{base_a.id}") == []
        with unscoped("test reads both bases"):
            assert company_bases() == [base_a.id, base_b.id]
        assert company_bases() == []
        db.session.rollback()


def test_raw_sql_cannot_write_another_bases_rows(pg, world):
    _, base_a, base_b, ids = world
    with pg.app_context(), scoped_to(base_a.id):
        changed = db.session.execute(text("UPDATE tenant_companies SET name = 'x' WHERE id = :id"), {"id": ids["b"]})
        assert changed.rowcount == 0
        deleted = db.session.execute(text("DELETE FROM tenant_companies WHERE id = :id"), {"id": ids["b"]})
        assert deleted.rowcount == 0
        with pytest.raises(ProgrammingError) as refused:
            db.session.execute(text("UPDATE tenant_companies SET base_id = :b WHERE id = :id"),
                               {"b": base_b.id, "id": ids["a"]})
        assert isinstance(refused.value.orig, InsufficientPrivilege)
        db.session.rollback()
    with pg.app_context(), unscoped("test reads what is stored"):
        names = dict(db.session.execute(select(TenantCompany.id, TenantCompany.name)).all())
        assert names == {ids["a"]: "阿尔法公司", ids["b"]: "布拉沃公司"}


def test_a_transaction_begun_without_a_scope_sends_no_setting_and_sees_nothing(pg, world):
    """A transaction starts with neither setting (set_config(..., true) ended with the last one), so one begun
    before any scope costs no statement; scoping it then sends one."""
    _, base_a, _, _ = world
    sent = []

    def record(connection, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    with pg.app_context():
        with scoped_to(base_a.id):
            assert company_bases() == [base_a.id]
            db.session.commit()  # the pooled connection had base A's setting in its last transaction
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            assert company_bases() == []
            assert not any("set_config" in statement for statement in sent)
            with scoped_to(base_a.id):
                assert company_bases() == [base_a.id]
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        assert sum("set_config" in statement for statement in sent) == 1
        db.session.rollback()


def test_the_scope_ends_with_its_transaction_on_a_pooled_connection(pg, world):
    _, base_a, _, _ = world
    with pg.app_context():
        with scoped_to(base_a.id):
            pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
            assert company_bases() == [base_a.id]
            db.session.commit()
        again = db.session.execute(text("SELECT pg_backend_pid(), current_setting('app.base_id', true)")).one()
        assert again[0] == pid, "the pool handed back the same connection"
        assert again[1] in ("", None)
        assert company_bases() == []
        db.session.rollback()


def test_a_rolled_back_savepoint_does_not_leave_the_wrong_scope(pg, world):
    _, base_a, base_b, _ = world
    with pg.app_context(), scoped_to(base_a.id):
        assert company_bases() == [base_a.id]
        savepoint = db.session.begin_nested()
        with scoped_to(base_b.id):
            assert company_bases() == [base_b.id]
            savepoint.rollback()
            assert company_bases() == [base_b.id]
        assert company_bases() == [base_a.id]
        db.session.rollback()


def test_two_requests_for_different_bases_on_one_pooled_connection(pg, world, tmp_path):
    factory, base_a, base_b, ids = world
    single = make_app(pg.config["SQLALCHEMY_DATABASE_URI"],
                      MIGRATION_DATABASE_URL=pg.config["MIGRATION_DATABASE_URL"],
                      SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0, "pool_pre_ping": True})
    pids = []
    seen = []

    @single.after_request
    def note_connection(response):
        from flask import g

        if g.get("base") is not None:
            row = db.session.execute(text("SELECT pg_backend_pid(), array_agg(base_id) FROM tenant_companies")).one()
            pids.append(row[0])
            seen.append(set(row[1] or []))
        return response

    for base, company_id, other_id in ((base_a, ids["a"], ids["b"]), (base_b, ids["b"], ids["a"]),
                                       (base_a, ids["a"], ids["b"])):
        browser = Browser(single.test_client())
        browser.login(base.owner)
        page = browser.get(f"/b/{base.slug}/tenants/")
        assert page.status_code == 200
        assert browser.get(f"/b/{base.slug}/tenants/{company_id}").status_code == 200
        assert browser.get(f"/b/{base.slug}/tenants/{other_id}").status_code == 404
    assert len(set(pids)) == 1, "every request ran on the one pooled connection"
    assert seen[0] == {base_a.id} and seen[-1] == {base_a.id}
    assert {base_b.id} in seen
    with single.app_context():
        db.engine.dispose()


def test_production_refuses_to_start_as_a_role_row_security_does_not_bind(pg):
    from operator_app import create_app

    settings = {"SECRET_KEY": "k" * 32, "SCHEDULER_IN_PROCESS": False}
    with pytest.raises(RuntimeError, match="owns"):
        create_app("production", {**settings, "SQLALCHEMY_DATABASE_URI": pg.config["MIGRATION_DATABASE_URL"]})
    superuser = pg.config["SQLALCHEMY_DATABASE_URI"].replace("shuangchuang_app@", "postgres@")
    with pytest.raises(RuntimeError, match="superuser"):
        create_app("production", {**settings, "SQLALCHEMY_DATABASE_URI": superuser})
    fit = create_app("production", {**settings, "SQLALCHEMY_DATABASE_URI": pg.config["SQLALCHEMY_DATABASE_URI"]})
    assert fit.config["APP_ENV"] == "production"
    with fit.app_context():
        db.engine.dispose()
