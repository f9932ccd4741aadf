"""SQLite through pysqlite: the connection settings, and transactions that hold everything put in them.

pysqlite (Python's ``sqlite3``, in its default "legacy transaction control") emits BEGIN only before an
INSERT, UPDATE, DELETE or REPLACE. A SAVEPOINT issued before any of those is not inside a transaction: SQLite
opens one for it alone and its RELEASE commits it, so a request that rolls back later keeps what the savepoint
wrote; DDL runs outside any transaction and cannot be rolled back at all.

SQLAlchemy's documented recipe (SQLite dialect, "Serializable isolation / Savepoints / Transactional DDL", now
"Transactions with SQLite and the sqlite3 driver") turns pysqlite's own transaction control off
(``isolation_level = None``) on connect and has SQLAlchemy emit BEGIN itself. This module does that, with one
change of *when*: the BEGIN is emitted just before the transaction's first statement that is not a read
(INSERT, UPDATE, DELETE, SAVEPOINT, CREATE, ALTER, DROP, ...), and it is ``BEGIN IMMEDIATE``, which takes
SQLite's write lock at once, waiting up to ``busy_timeout`` for it.

Why not BEGIN at the transaction's first statement (the recipe's "begin" event): in WAL mode a transaction
that has read holds a snapshot, and its first write must upgrade to the write lock. SQLite refuses that upgrade
at once with SQLITE_BUSY ("database is locked"), without waiting for ``busy_timeout``, whenever another
connection holds the write lock or has committed since the snapshot. Nearly every request reads first (the
login's session row), and the login's "last seen" stamp commits on a connection of its own, so the first
writing request after five idle minutes failed, as did bill issuers running at once (measured, see
tests/operator_app/test_sqlite_transactions.py). A transaction that starts at its first write, holding the
write lock, cannot meet that: writers queue behind each other as they did under pysqlite's own BEGIN.

What that keeps from before: the SELECTs a transaction runs before its first write are not one snapshot (each
reads the latest commit). From its first write on, a transaction holds the write lock and is serializable.
``begin_immediate()`` starts the write transaction earlier, for code whose reads must be inside it. Only
pysqlite connections are touched; PostgreSQL's listeners return at once.
"""
import re

from sqlalchemy import event
from sqlalchemy.engine import Engine

BUSY_TIMEOUT_MS = 5000

# Statements that neither need nor may open the transaction: reads, PRAGMAs (some are no-ops inside a
# transaction), transaction control itself, and VACUUM / ATTACH / DETACH (refused inside one).
_OUTSIDE = re.compile(r"\s*(SELECT|PRAGMA|EXPLAIN|VALUES|BEGIN|COMMIT|END|ROLLBACK|RELEASE|VACUUM|ATTACH|DETACH)\b",
                      re.IGNORECASE)
_CTE = re.compile(r"\s*WITH\b", re.IGNORECASE)
_WRITE_WORD = re.compile(r"\b(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


def _is_pysqlite(dbapi_connection):
    return type(dbapi_connection).__module__.startswith("sqlite3")


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """SQLite: enforce foreign keys, write-ahead log for concurrent readers, wait instead of failing on locks."""
    if not _is_pysqlite(dbapi_connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


@event.listens_for(Engine, "connect")
def _sqlite_no_driver_begin(dbapi_connection, connection_record):
    """pysqlite emits no BEGIN of its own; ``_sqlite_begin`` below emits it (SQLAlchemy's recipe)."""
    if _is_pysqlite(dbapi_connection):
        dbapi_connection.isolation_level = None


def _opens_transaction(statement):
    if _OUTSIDE.match(statement):
        return False
    if _CTE.match(statement):  # WITH … SELECT reads; WITH … INSERT/UPDATE/DELETE writes
        return bool(_WRITE_WORD.search(statement))
    return True


def _autocommit(connection):
    options = connection.get_execution_options()
    return options.get("isolation_level", getattr(connection.dialect, "isolation_level", None)) == "AUTOCOMMIT"


@event.listens_for(Engine, "before_cursor_execute", insert=True)
def _sqlite_begin(connection, cursor, statement, parameters, context, executemany):
    """Emit ``BEGIN IMMEDIATE`` before the first statement of a transaction that is not a read."""
    if connection.dialect.name != "sqlite" or not _opens_transaction(statement):
        return
    driver = connection.connection.driver_connection
    if driver.in_transaction or not _is_pysqlite(driver) or _autocommit(connection):
        return
    cursor.execute("BEGIN IMMEDIATE")  # an error here is raised as SQLAlchemy's, like the statement's own


def begin_immediate(connection):
    """Start ``connection``'s SQLite write transaction now (``BEGIN IMMEDIATE``), so the reads that follow are
    inside it and concurrent writers queue behind it; nothing when it has begun already, or on another
    database (PostgreSQL's transaction begins at the first statement, and its row locks do the queueing)."""
    if connection.dialect.name != "sqlite":
        return
    driver = connection.connection.driver_connection
    if _is_pysqlite(driver) and not driver.in_transaction and not _autocommit(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
