"""Isolation by base: the base-owned mixin, the fail-closed ORM hook and the scoped lookup helper.

Every row of domain data belongs to one base (DESIGN.md "Isolation"). The current base lives in the
session's ``info`` and is set from the URL by the base blueprints, or by a job for the base it works on.
Every ORM statement on a base-owned model gets the base added as a criterion; with no base set the
statement raises instead of reading or writing across bases.
"""
from contextlib import contextmanager

from flask import abort
from functools import cache

from sqlalchemy import ForeignKey, Table, event, inspect as sa_inspect, select
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column, with_loader_criteria
from sqlalchemy.sql import visitors

from .extensions import db

_BASE_KEY = "current_base_id"
MAX_ID = 2**31 - 1
_UNSCOPED_KEY = "unscoped_depth"


class ScopeError(RuntimeError):
    """A base-owned row was read or written without a current base, or across bases."""


class BaseOwnedMixin:
    """Declares ``base_id``: set by the server from the current base, never from input, never changed."""

    @declared_attr
    def base_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("bases.id", ondelete="RESTRICT"), nullable=False, index=True)


def set_current_base(base_id, session=None):
    """Make ``base_id`` the base every following statement of ``session`` is confined to."""
    (session or db.session).info[_BASE_KEY] = base_id


def current_base_id(session=None):
    """The id of the base the session is confined to, or None."""
    return (session or db.session).info.get(_BASE_KEY)


@contextmanager
def scoped_to(base_id, session=None):
    """Confine ``session`` to ``base_id`` for the block (jobs use it, one base at a time)."""
    session = session or db.session
    previous = session.info.get(_BASE_KEY)
    session.info[_BASE_KEY] = base_id
    try:
        yield
    finally:
        session.info[_BASE_KEY] = previous


@contextmanager
def unscoped(reason, session=None):
    """Run the block without base confinement. The one deliberate way out; ``reason`` documents why.

    Used by platform code that must find a row before it knows the base (an invitation token),
    and by jobs that enumerate bases. Every caller is reviewed.
    """
    if not reason:
        raise ValueError("unscoped() needs a reason")
    session = session or db.session
    session.info[_UNSCOPED_KEY] = session.info.get(_UNSCOPED_KEY, 0) + 1
    try:
        yield
    finally:
        session.info[_UNSCOPED_KEY] -= 1


def _is_unscoped(session):
    return session.info.get(_UNSCOPED_KEY, 0) > 0


@cache
def _base_owned_table_names():
    return frozenset(mapper.local_table.name for mapper in db.Model.registry.mappers
                     if issubclass(mapper.class_, BaseOwnedMixin))


def _touches_base_owned_table(statement):
    """True when any part of ``statement`` (subqueries and EXISTS included) reads a base-owned table."""
    names = _base_owned_table_names()
    return any(isinstance(element, Table) and element.name in names for element in visitors.iterate(statement))


@event.listens_for(Session, "do_orm_execute")
def _confine_to_current_base(state):
    """Add ``base_id = current base`` to every ORM SELECT, UPDATE and DELETE on base-owned models.

    Raises ScopeError when a statement touching a base-owned table anywhere (a subquery, an EXISTS)
    runs with no base set outside ``unscoped()``. With a base set, the criteria reach subqueries too.
    Column loads (refreshing attributes of an object already admitted to the session) pass through.
    Core statements on ``Model.__table__`` are not rewritten: domain code uses ORM entities, and
    PostgreSQL row-level security is the second wall.
    """
    session = state.session
    _sync_row_security(session)
    if state.is_column_load or not (state.is_select or state.is_update or state.is_delete):
        return
    if _is_unscoped(session):
        return
    base_id = session.info.get(_BASE_KEY)
    if base_id is None:
        if _touches_base_owned_table(state.statement):
            raise ScopeError("A base-owned table was queried with no current base set")
        return
    state.statement = state.statement.options(
        with_loader_criteria(BaseOwnedMixin, lambda cls: cls.base_id == base_id, include_aliases=True)
    )


@event.listens_for(Session, "before_flush")
def _stamp_and_guard_base(session, flush_context, instances):
    """Stamp new base-owned rows with the current base; refuse writes to another base's rows and base changes."""
    _sync_row_security(session)
    base_id = session.info.get(_BASE_KEY)
    unscoped_now = _is_unscoped(session)
    if not unscoped_now:
        for obj in list(session.dirty) + list(session.deleted):
            if not isinstance(obj, BaseOwnedMixin):
                continue
            loaded_base_id = sa_inspect(obj).committed_state.get("base_id", obj.base_id)
            if loaded_base_id != base_id:
                raise ScopeError(f"{type(obj).__name__} of another base (or with no base set) cannot be changed")
    for obj in session.new:
        if not isinstance(obj, BaseOwnedMixin):
            continue
        if obj.base_id is None:
            if base_id is None:
                raise ScopeError(f"{type(obj).__name__} created with no current base set")
            obj.base_id = base_id
        elif obj.base_id != base_id and not unscoped_now:
            raise ScopeError(f"{type(obj).__name__} created for another base")
    for obj in session.dirty:
        if isinstance(obj, BaseOwnedMixin) and sa_inspect(obj).attrs.base_id.history.has_changes():
            raise ScopeError(f"{type(obj).__name__}.base_id cannot change after insert")


# PostgreSQL row-level security (the second wall, migration 3b1f0c2d9e47): the base and the unscoped flag the
# session holds are mirrored into the transaction's ``app.base_id`` and ``app.unscoped`` settings before each
# statement that needs them. ``set_config(..., true)`` lasts until the transaction (or the savepoint it ran in)
# ends, so nothing leaks to the next user of a pooled connection; with nothing set, no base-owned row is
# visible to raw SQL either.
_RLS_APPLIED_KEY = "row_security_applied"
# What a transaction begins with: neither setting made (both read as unset or '', which the policy treats as no
# base and not unscoped), so a transaction begun before any scope needs no statement.
_NOTHING_SET = ("", "off")


def _wanted_row_security(session):
    base_id = session.info.get(_BASE_KEY)
    return ("" if base_id is None else str(int(base_id)), "on" if _is_unscoped(session) else "off")


def _apply_row_security(session, connection):
    wanted = _wanted_row_security(session)
    if session.info.get(_RLS_APPLIED_KEY) == wanted:
        return
    connection.exec_driver_sql("SELECT set_config('app.base_id', %(base)s, true), "
                               "set_config('app.unscoped', %(unscoped)s, true)",
                               {"base": wanted[0], "unscoped": wanted[1]})
    session.info[_RLS_APPLIED_KEY] = wanted


def _sync_row_security(session):
    """Bring the transaction's settings in line with the session's scope (PostgreSQL only)."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return
    _apply_row_security(session, session.connection())


@event.listens_for(Session, "after_begin")
def _row_security_on_begin(session, transaction, connection):
    if connection.dialect.name != "postgresql":
        return
    session.info[_RLS_APPLIED_KEY] = _NOTHING_SET  # set_config(..., true) ended with the last transaction
    _apply_row_security(session, connection)


@event.listens_for(Session, "after_transaction_end")
def _row_security_after_end(session, transaction):
    # A rolled-back savepoint undoes a set_config made inside it: apply again before the next statement.
    session.info.pop(_RLS_APPLIED_KEY, None)


def get_or_404(model, object_id, **criteria):
    """Load ``model`` by id within the current base (the hook confines it); abort with 404 otherwise.

    Raises NotFound for a malformed id, a missing row, a soft-deleted row or a row of another base.
    """
    try:
        object_id = int(object_id)
    except (TypeError, ValueError):
        abort(404)
    if not 0 < object_id <= MAX_ID:  # beyond any id, and beyond what the databases' integers hold
        abort(404)
    statement = select(model).where(model.id == object_id).filter_by(**criteria)
    if hasattr(model, "deleted_at"):
        statement = statement.where(model.deleted_at.is_(None))
    obj = db.session.scalar(statement)
    if obj is None:
        abort(404)
    return obj
