"""SQLite transactions hold everything put in them (operator_app/sqlite.py): a savepoint taken before any write
is inside the request's transaction, so rolling the request back undoes what the savepoint wrote, DDL rolls
back, and writers still queue on the write lock instead of failing with "database is locked".

Under pysqlite's own transaction control a SAVEPOINT before the first write opened a transaction of its own
and its RELEASE committed it. Every test here runs on an SQLite app of its own (in the PostgreSQL run too)."""
import sqlite3
import threading
from datetime import timedelta

import pytest
from sqlalchemy import delete, event, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from operator_app.accounts.models import Operator, UserSession
from operator_app.db import scoped_to
from operator_app.extensions import db
from operator_app.sqlite import begin_immediate
from operator_app.timeutil import as_utc, utcnow
from tenants.models import BaseRules

from ..conftest import migrated_app
from ..helpers import Browser, Factory


@pytest.fixture(scope="module")
def sqlite_app(tmp_path_factory):
    path = tmp_path_factory.mktemp("sqlite-transactions") / "x.db"
    yield from migrated_app(f"sqlite:///{path}", DATABASE_PATH=str(path))


@pytest.fixture(scope="module")
def sqlite_factory(sqlite_app):
    return Factory(sqlite_app)


def operators_named(app, name):
    with app.app_context():
        count = db.session.scalar(select(func.count(Operator.id)).where(Operator.name == name))
        db.session.remove()
        return count


def test_the_connection_settings_hold(sqlite_app):
    with sqlite_app.app_context(), db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000


def test_a_savepoint_released_before_any_write_is_undone_with_its_transaction(sqlite_app):
    """pysqlite: the SAVEPOINT opened a transaction of its own and its RELEASE committed the row."""
    with sqlite_app.app_context():
        with db.session.begin_nested():
            db.session.add(Operator(name="released-then-rolled-back"))
        db.session.rollback()
    assert operators_named(sqlite_app, "released-then-rolled-back") == 0


def test_a_savepoint_rolled_back_before_any_write_leaves_nothing_of_the_transaction(sqlite_app):
    """A savepoint rolled back first, then a second savepoint released: the outer rollback leaves neither row.
    (Under pysqlite this case held by luck: ROLLBACK TO keeps the savepoint, and so the transaction the first
    SAVEPOINT opened, until the end; it is the released savepoint above that committed.)"""
    with sqlite_app.app_context():
        savepoint = db.session.begin_nested()
        db.session.add(Operator(name="rolled-back-savepoint"))
        db.session.flush()
        savepoint.rollback()
        assert db.session.scalar(select(func.count(Operator.id))
                                 .where(Operator.name == "rolled-back-savepoint")) == 0
        with db.session.begin_nested():
            db.session.add(Operator(name="second-savepoint"))
        db.session.rollback()
    assert operators_named(sqlite_app, "rolled-back-savepoint") == 0
    assert operators_named(sqlite_app, "second-savepoint") == 0


def test_nested_savepoints_before_any_write_roll_back_with_the_transaction(sqlite_app):
    with sqlite_app.app_context():
        with db.session.begin_nested():
            with db.session.begin_nested():
                db.session.add(Operator(name="inner-savepoint"))
            db.session.add(Operator(name="outer-savepoint"))
        db.session.rollback()
    assert operators_named(sqlite_app, "inner-savepoint") == 0
    assert operators_named(sqlite_app, "outer-savepoint") == 0


def test_a_committed_savepoint_is_kept(sqlite_app):
    with sqlite_app.app_context():
        with db.session.begin_nested():
            db.session.add(Operator(name="kept"))
        db.session.commit()
    assert operators_named(sqlite_app, "kept") == 1


def rules_count(app, base_id):
    with app.app_context(), scoped_to(base_id):
        count = db.session.scalar(select(func.count(BaseRules.id)))
        db.session.remove()
        return count


def drop_rules(app, base_id):
    """Take the base's rules row away (every base is made with one), for the race below."""
    with app.app_context(), scoped_to(base_id):
        db.session.execute(delete(BaseRules))
        db.session.commit()
        db.session.remove()


def insert_or_find_rules():
    """The insert-or-find idiom (billing numbering and the filings use it): INSERT in a savepoint, and on the
    unique constraint read the row another request made."""
    try:
        with db.session.begin_nested():
            rules = BaseRules(allowed_industries=[], required_documents=[])
            db.session.add(rules)
    except IntegrityError:
        rules = db.session.scalar(select(BaseRules))
    return rules


def test_an_exception_after_an_insert_in_a_savepoint_leaves_no_row(sqlite_app, sqlite_factory):
    """A savepoint's INSERT is the first thing a request writes; a request that fails afterwards takes the row
    with it (pysqlite had committed it at the RELEASE)."""
    base = sqlite_factory.base()
    drop_rules(sqlite_app, base.id)

    class Failed(RuntimeError):
        pass

    with sqlite_app.test_request_context(method="POST"), scoped_to(base.id):
        with pytest.raises(Failed):
            try:
                assert insert_or_find_rules().id is not None
                raise Failed("the request fails after the savepoint")
            finally:
                db.session.rollback()
        db.session.remove()
    assert rules_count(sqlite_app, base.id) == 0


def test_two_inserts_of_one_unique_row_at_once_find_one_row(sqlite_app, sqlite_factory):
    """After a SELECT found nothing, another request creates the row and commits; the savepoint's INSERT meets
    the unique base and the second SELECT finds the other's row (a transaction begun at the SELECT would fail
    instead, its snapshot older than the other's commit)."""
    base = sqlite_factory.base()
    drop_rules(sqlite_app, base.id)
    with sqlite_app.app_context():
        engine = db.engine
    raced = []

    def other_request_commits_first(connection, cursor, statement, parameters, context, executemany):
        if raced or not statement.lstrip().upper().startswith("SELECT") or "base_rules" not in statement:
            return
        raced.append(statement)
        with Session(engine) as other, scoped_to(base.id, session=other):
            other.add(BaseRules(allowed_industries=["other"], required_documents=[]))
            other.commit()

    event.listen(engine, "after_cursor_execute", other_request_commits_first)
    try:
        with sqlite_app.test_request_context(), scoped_to(base.id):
            assert db.session.scalar(select(BaseRules)) is None
            rules = insert_or_find_rules()
            assert rules.allowed_industries == ["other"]
            db.session.rollback()
            db.session.remove()
    finally:
        event.remove(engine, "after_cursor_execute", other_request_commits_first)
    assert raced and rules_count(sqlite_app, base.id) == 1


def test_ddl_in_a_transaction_rolls_back(sqlite_app):
    with sqlite_app.app_context():
        with db.engine.connect() as connection:
            connection.execute(text("CREATE TABLE ddl_probe (id INTEGER PRIMARY KEY)"))
            connection.execute(text("INSERT INTO ddl_probe (id) VALUES (1)"))
            connection.rollback()
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql(
                "SELECT count(*) FROM sqlite_master WHERE name = 'ddl_probe'").scalar() == 0


def test_reads_before_the_first_write_do_not_hold_a_stale_snapshot(sqlite_app):
    """A transaction that has read, then writes after another connection committed, waits for the lock and
    writes (a snapshot held since the read would fail at once: SQLITE_BUSY, busy_timeout not applied)."""
    with sqlite_app.app_context():
        assert db.session.scalar(select(func.count(Operator.id))) is not None
        with db.engine.begin() as other:
            other.execute(text("INSERT INTO operators (name, created_at) VALUES ('committed meanwhile', '2026-01-01')"))
        db.session.add(Operator(name="written after the read"))
        db.session.commit()
    assert operators_named(sqlite_app, "written after the read") == 1


def test_the_first_writing_request_after_idle_minutes_succeeds(sqlite_app, sqlite_factory):
    """The login's "last seen" stamp commits on a connection of its own, after the request's session has read the
    login: the request's own writes must still go through (they failed with "database is locked" when the
    session's transaction began at its first SELECT)."""
    base = sqlite_factory.base()
    browser = Browser(sqlite_app.test_client())
    browser.login(base.owner)
    rules_page = f"/b/{base.slug}/tenants/rules"
    for method in ("GET", "POST"):
        with sqlite_app.app_context():
            db.session.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=10)))
            db.session.commit()
        response = (browser.get(rules_page) if method == "GET" else
                    browser.post(rules_page, {"entry_conditions": "入驻须知", "workstation_quota_percent": "20"},
                                 form_page=rules_page))
        assert response.status_code == (200 if method == "GET" else 302), (method, response.status_code)
    with sqlite_app.app_context():
        touched = db.session.scalar(select(UserSession.last_seen_at).order_by(UserSession.id.desc()))
        db.session.remove()
    assert utcnow() - as_utc(touched) < timedelta(minutes=1)
    with sqlite_app.app_context(), scoped_to(base.id):
        assert db.session.scalar(select(BaseRules.entry_conditions)) == "入驻须知"
        db.session.remove()


def test_writers_that_read_first_queue_instead_of_failing(sqlite_app):
    """Several sessions read, then all write at once: each waits for the write lock and commits."""
    writers = 4
    start = threading.Barrier(writers, timeout=30)
    outcomes = [None] * writers

    def writer(index):
        with sqlite_app.app_context():
            try:
                db.session.scalar(select(func.count(Operator.id)))
                start.wait()
                db.session.add(Operator(name=f"queued writer {index}"))
                db.session.flush()
                db.session.scalar(select(func.count(Operator.id)))
                db.session.commit()
                outcomes[index] = "committed"
            except Exception as error:  # reported below with the others' outcomes
                db.session.rollback()
                outcomes[index] = repr(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=writer, args=(index,)) for index in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes == ["committed"] * writers, outcomes


def test_begin_immediate_takes_the_write_lock_at_once(sqlite_app):
    with sqlite_app.app_context():
        begin_immediate(db.session.connection())
        begin_immediate(db.session.connection())  # once begun, nothing more
        other = sqlite3.connect(sqlite_app.config["DATABASE_PATH"], timeout=0.1)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()
            db.session.rollback()
            db.session.remove()
